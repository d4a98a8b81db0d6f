import type { Subprocess } from "bun";

export const mainTs = new URL("../../../src/main.ts", import.meta.url).pathname;
/** The pinned Deno from node_modules (linux-x64 only); the same source runs there. */
export const deno = new URL("../../../node_modules/@deno/linux-x64-glibc/deno", import.meta.url).pathname;
export const denoCommand = [deno, "run", "-A", mainTs];
/** No update check under Deno: it would reach for the internet. */
export const denoEnv = { DENO_NO_UPDATE_CHECK: "1" };

export type BeaconRun = {
  readonly pid: number;
  /** Exit code, stdout and stderr once it has exited. */
  readonly done: Promise<{ code: number; stdout: string; stderr: string }>;
  /** stderr so far. */
  stderr(): string;
  kill(): void;
};

/**
 * `dispatch beacon ARGS…` as a workload runs it: the real CLI (`bun src/main.ts`, or `command`),
 * its own process, `stdin` fed in (or none), killed after `timeoutMs` at the latest.
 */
export function startBeacon(
  args: readonly string[],
  { stdin, env = {}, command = ["bun", mainTs], timeoutMs = 60_000 }: { stdin?: string; env?: Record<string, string>; command?: readonly string[]; timeoutMs?: number } = {},
): BeaconRun {
  const proc: Subprocess<"pipe", "pipe", "pipe"> = Bun.spawn([...command, "beacon", ...args], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    // Not the test's own DISPATCH_URL, if it has one; no colours.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", NO_COLOR: "1", ...env },
  });
  if (stdin !== undefined) proc.stdin.write(stdin);
  proc.stdin.end();
  let err = "";
  const pumpErr = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) err += decoder.decode(chunk, { stream: true });
  })();
  const killer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const done = (async () => {
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited, pumpErr]);
    clearTimeout(killer);
    return { code, stdout, stderr: err };
  })();
  return {
    pid: proc.pid,
    done,
    stderr: () => err,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    },
  };
}

export const runBeacon = (args: readonly string[], options?: Parameters<typeof startBeacon>[1]) => startBeacon(args, options).done;

export type Recorded = { method: string; headers: Record<string, string>; body: string };

/**
 * A loopback HTTP server that records each request and answers with the next status of
 * `statuses` (the last one repeats): a stand-in dispatch whose answers a test chooses.
 */
export function recordingServer(statuses: number[]) {
  const requests: Recorded[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = await req.text();
      requests.push({ method: req.method, headers: Object.fromEntries(req.headers), body });
      const status = statuses[Math.min(requests.length - 1, statuses.length - 1)]!;
      return new Response(`answer ${requests.length}: ${status}\n`, { status });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/dispatch`, requests, stop: () => server.stop(true) };
}
