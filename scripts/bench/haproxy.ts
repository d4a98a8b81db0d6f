import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { track } from "./children.ts";
import { waitForPort } from "./ports.ts";

/** A running HAProxy, stopped by its own pid. */
export type Haproxy = { readonly url: string; readonly pid: number; stop(): Promise<void> };

/**
 * Starts HAProxy in the foreground (`-db`) as a reverse proxy in front of `upstream` (plain
 * HTTP), on 127.0.0.1:`port`, with its configuration in `dir`. `option splice-response` moves
 * response bodies storage socket → pipe → client socket inside the kernel (splice(2)), so the
 * bytes never reach user space: the cheapest proxy a user could put in dispatch's place.
 * Threads: one per CPU (HAProxy's default). With `ca`, the upstream is HTTPS, verified against
 * that CA: HAProxy decrypts in user space (OpenSSL), so there is nothing to splice.
 */
export async function startHaproxy(binary: string, dir: string, upstream: string, port: number, ca?: string): Promise<Haproxy> {
  const target = new URL(upstream);
  const conf = join(dir, "haproxy.cfg");
  await writeFile(
    conf,
    `# written by scripts/bench.ts
global
  maxconn 1024

defaults
  mode http
  timeout connect 5s
  timeout client 5m
  timeout server 5m
${ca ? "" : "  option splice-response\n"}
frontend bench
  bind 127.0.0.1:${port}
  default_backend storage

backend storage
  server storage ${target.hostname}:${target.port}${ca ? ` ssl verify required ca-file ${ca} verifyhost 127.0.0.1 ssl-min-ver TLSv1.2` : ""}
`,
  );
  // -c first: a configuration error is reported as such, not as a server that never came up.
  const check = Bun.spawn([binary, "-c", "-q", "-f", conf], { stdout: "ignore", stderr: "pipe" });
  if ((await check.exited) !== 0) throw new Error(`haproxy refused ${conf}: ${await new Response(check.stderr).text()}`);
  const child = track(Bun.spawn([binary, "-db", "-f", conf], { stdout: "ignore", stderr: "pipe" }));
  await waitForPort(child, port, "haproxy");
  void new Response(child.stderr).text(); // its warnings are read away, so they never block it
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}
