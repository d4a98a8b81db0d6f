#!/usr/bin/env bun
/**
 * How fast `--dir` serves a local file, next to nginx with sendfile serving the same file, over
 * loopback with curl. Beside dispatch as users run it (metered stream through the node:http
 * adapter), two references that answer "would the runtime's own file serving do better":
 * a `Bun.file()` body through that same node:http adapter, and `Bun.serve` with a `Bun.file()`
 * body (Bun's zero-copy path, sendfile). Figures are medians of several rounds, as ratios to
 * nginx; the shared machine makes absolute numbers noisy.
 *
 *   bun scripts/bench-dir.ts [--size-mib 512] [--rounds 5]
 */
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { serveNodeHttp } from "../src/runtime/node-http.ts";
import { stopAll, track } from "./bench/children.ts";
import { download } from "./bench/curl.ts";
import { startNginx } from "./bench/nginx.ts";
import { ensureTools } from "./bench/tools.ts";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { "size-mib": { type: "string", default: "512" }, rounds: { type: "string", default: "5" } } });
const size = Number(values["size-mib"]) * 2 ** 20;
const rounds = Number(values.rounds);
const log = (line: string) => console.error(line);

const dir = mkdtempSync(join(tmpdir(), "dispatch-bench-dir-"));
const files = join(dir, "files");
try {
  mkdirSync(files);
  const chunk = crypto.getRandomValues(new Uint8Array(2 ** 16));
  const data = new Uint8Array(size);
  for (let o = 0; o < size; o += chunk.length) data.set(chunk.subarray(0, Math.min(chunk.length, size - o)), o);
  writeFileSync(join(files, "w.efi"), data);
  // One job per download: dispatch hands each server address its own job, so one hard link (the same file) per round.
  for (let i = 0; i <= rounds; i++) linkSync(join(files, "w.efi"), join(files, `w${i}.efi`));

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const measure = async (name: string, url: (round: number) => string, from: (round: number) => string) => {
    const speeds: number[] = [];
    // Round 0 warms the page cache and the server; it is not counted.
    for (let r = 0; r <= rounds; r++) {
      const d = await download(url(r), { from: from(r), expectBytes: size });
      if (!d.ok) throw new Error(`${name}: download ${r} failed (${d.status}, ${d.bytes} bytes)`);
      if (r > 0) speeds.push(d.speed);
    }
    log(`${name}: ${(median(speeds) / 2 ** 20).toFixed(0)} MiB/s`);
    return median(speeds);
  };

  const nginx = await startNginx((await ensureTools(log)).nginx, mkdtempSync(join(dir, "nginx-")), { kind: "files", root: files }, 18_000 + (process.pid % 1000));
  const nginxSpeed = await measure("nginx, sendfile", () => `${nginx.url}/w.efi`, () => "127.0.0.1");
  await nginx.stop();

  // dispatch as users run it: a process, --dir and --reports, no token.
  const child = track(
    Bun.spawn([process.execPath, join(import.meta.dir, "../src/main.ts"), "--dir", files, "--reports", join(dir, "reports"), "--state", join(dir, "state"), "--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain"], {
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  let port = 0;
  const reader = child.stdout.getReader();
  for (let text = ""; port === 0; ) {
    const { value, done } = await reader.read();
    if (done) throw new Error("dispatch exited before listening");
    text += new TextDecoder().decode(value);
    port = Number(/listening on \S+:(\d+);/.exec(text)?.[1] ?? 0);
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  const dispatchSpeed = await measure("dispatch --dir (metered stream, node:http)", () => `http://127.0.0.1:${port}/dispatch`, (r) => `127.0.0.${10 + r}`);
  child.kill("SIGTERM");
  await child.exited;

  const path = join(files, "w.efi");
  const viaNode = await serveNodeHttp({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(Bun.file(path)) });
  const nodeFileSpeed = await measure("Bun.file() body through the node:http adapter", () => `http://127.0.0.1:${viaNode.port}/`, () => "127.0.0.1");
  await viaNode.stop();

  const bunServe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(Bun.file(path)) });
  const bunServeSpeed = await measure("Bun.serve with a Bun.file() body (sendfile)", () => `http://127.0.0.1:${bunServe.port}/`, () => "127.0.0.1");
  await bunServe.stop(true);

  const row = (name: string, speed: number) => `| ${name.padEnd(44)} | ${`${(speed / 2 ** 20).toFixed(0)} MiB/s`.padStart(10)} | ${(speed / nginxSpeed).toFixed(2).padStart(5)} |`;
  console.log(`${size / 2 ** 20} MiB file, median of ${rounds} downloads each, curl over loopback`);
  console.log(`| ${"server".padEnd(44)} | ${"speed".padStart(10)} | ratio |`);
  console.log(`|${"-".repeat(46)}|${"-".repeat(12)}|-------|`);
  console.log(row("nginx, sendfile", nginxSpeed));
  console.log(row("dispatch --dir (as shipped)", dispatchSpeed));
  console.log(row("Bun.file() body, node:http adapter", nodeFileSpeed));
  console.log(row("Bun.serve, Bun.file() body", bunServeSpeed));
} finally {
  stopAll();
  rmSync(dir, { recursive: true, force: true });
}
