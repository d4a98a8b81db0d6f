// Does watching the queue slow the boot path? Downloads a workload through dispatch with no
// status watchers, then with many open /api/events streams (each reading every update), and
// reports the ratio of the two. Everything runs on loopback; both are measured in this run.
//
//   bun scripts/bench-watchers.ts [WATCHERS=200] [ROUNDS=5]
//
// Bun's fetch opens at most 256 connections at once: for more watchers, raise that with
// BUN_CONFIG_MAX_HTTP_REQUESTS=1024 (the client's limit, not dispatch's).
import { startFakeGitHub } from "../test/fake-github/index.ts";
import { startTestDispatch } from "../test/support/dispatch.ts";
import { http } from "../test/support/http-client.ts";
import { openEvents } from "../test/support/sse.ts";
import { efi } from "../test/support/workloads.ts";

const watchers = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 5);
if (watchers > 250 && !process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) {
  console.error("more than 250 watchers: set BUN_CONFIG_MAX_HTTP_REQUESTS=1024 (Bun's fetch allows 256 connections)");
  process.exit(2);
}
const size = 32 * 1024 * 1024;
const gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: Array.from({ length: 2 * rounds + 1 }, (_, i) => efi(`w${String(i).padStart(2, "0")}.efi`, size, i + 1)) }] });
const d = await startTestDispatch(gh);
let server = 2;

/** One server's whole download; milliseconds. */
async function download(): Promise<number> {
  const from = `127.0.0.${server++}`;
  const t = performance.now();
  const reply = await http(d.url, { from, timeoutMs: 120_000 });
  if (reply.body.byteLength !== size) throw new Error(`short download: ${reply.body.byteLength}`);
  return performance.now() - t;
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  await download(); // warm-up
  const alone: number[] = [];
  for (let i = 0; i < rounds; i++) alone.push(await download());
  const streams = await Promise.all(Array.from({ length: watchers }, () => openEvents(`http://127.0.0.1:${d.port}/api/events`)));
  let updates = 0;
  const readers = streams.map(async (s) => {
    try {
      for (;;) {
        await s.next(() => true, 600_000);
        updates++;
      }
    } catch {
      // closed
    }
  });
  const watched: number[] = [];
  for (let i = 0; i < rounds; i++) watched.push(await download());
  for (const s of streams) s.close();
  await Promise.allSettled(readers);
  const a = median(alone);
  const w = median(watched);
  console.log(`download of ${size / 1048576} MiB, median of ${rounds}: ${a.toFixed(0)} ms alone, ${w.toFixed(0)} ms with ${watchers} watchers (${updates} updates sent)`);
  console.log(`ratio watched/alone: ${(w / a).toFixed(2)}`);
} finally {
  await d.stop();
  await gh.stop();
}
