#!/usr/bin/env bun
// Why Deno serves on node:http (src/runtime/deno/serve.ts): what that costs in streaming speed
// against Deno.serve, and against Bun's node:http. One curl download of 1 GiB per server per
// round on loopback, rounds interleaved so machine noise hits all alike; medians and ratios to
// Bun's node:http.
//   bun scripts/bench-serve-runtimes.ts [--runs N]
import { join } from "node:path";
import { startDownload } from "./bench/curl.ts";
import { track } from "./bench/children.ts";
import { median } from "./bench/stats.ts";

const root = join(import.meta.dir, "..");
const deno = join(root, "node_modules/@deno/linux-x64-glibc/deno");
const server = join(import.meta.dir, "bench/serve-runtime-server.ts");
const runsFlag = Bun.argv.indexOf("--runs");
const runs = runsFlag > 0 ? Number(Bun.argv[runsFlag + 1]) : 5;
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs needs a positive whole number");
const bytes = 2 ** 30;

const ways = [
  { name: "bun, node:http (dispatch)", command: [process.execPath, server, "node-http"] },
  { name: "deno, node:http (dispatch)", command: [deno, "run", "-A", server, "node-http"] },
  { name: "deno, Deno.serve", command: [deno, "run", "-A", server, "deno-serve"] },
];

async function start(command: string[]) {
  const child = track(Bun.spawn([...command, String(bytes)], { cwd: root, env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", DENO_NO_UPDATE_CHECK: "1" }, stdout: "pipe", stderr: "inherit" }));
  const reader = child.stdout.getReader();
  let seen = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    seen += new TextDecoder().decode(r.value);
    const match = /PORT (\d+)/.exec(seen);
    if (match) return { child, port: Number(match[1]) };
  }
  throw new Error(`${command.join(" ")} exited before listening`);
}

const servers = await Promise.all(ways.map((way) => start(way.command)));
const speeds: number[][] = ways.map(() => []);
try {
  for (let round = 0; round < runs; round++) {
    for (const [i, { port }] of servers.entries()) {
      const download = await startDownload(`http://127.0.0.1:${port}/`, { from: "127.0.0.1", expectBytes: bytes }).done;
      if (!download.ok) throw new Error(`${ways[i]!.name}: download failed (${download.status}, ${download.bytes} bytes)`);
      speeds[i]!.push(download.speed);
    }
  }
} finally {
  for (const { child } of servers) child.kill("SIGTERM");
}
const base = median(speeds[0]!);
console.log(`1 GiB on loopback, median of ${runs}:`);
for (const [i, way] of ways.entries()) {
  const speed = median(speeds[i]!);
  console.log(`  ${way.name.padEnd(28)} ${(speed / 1e9).toFixed(2)} GB/s  ${(speed / base).toFixed(2)}`);
}
