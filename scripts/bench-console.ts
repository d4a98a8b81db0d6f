// What capturing a serial console costs dispatch: CPU seconds and disk per job. The console edge
// (src/console) runs in this process against real child processes and real files, as in a run:
// 1. a job whose console writes at a serial port's full speed (115,200 baud: 11.25 KiB/s) for
//    SECONDS, the common case: CPU per job-minute and the disk it takes;
// 2. a workload that prints as fast as it can (256 MiB through `yes`): CPU per MiB, and the bound
//    on disk (a job never keeps more than 3 MiB).
//
//   bun scripts/bench-console.ts [SECONDS=30]
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConsoleBook } from "../src/console/book.ts";
import { startCapture } from "../src/console/capture.ts";
import { initialState } from "../src/core/job.ts";
import { createStore } from "../src/core/store.ts";
import { bunRuntime } from "../src/runtime/bun/index.ts";

const seconds = Number(process.argv[2] ?? 30);
const ip = "127.0.0.2";

function diskOf(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** Runs `command` as one job's console until it ends; CPU seconds of this process, wall seconds, disk bytes. */
async function measure(command: string[]): Promise<{ cpu: number; wall: number; disk: number }> {
  const state = mkdtempSync(join(tmpdir(), "dispatch-bench-console-"));
  try {
    const store = createStore(initialState([{ name: "a.efi", size: 1000, bootType: "application/efi", source: "/a.efi" }], { downloadMs: 300_000, runMs: 3_600_000 }));
    store.dispatch({ type: "boot-requested", at: Date.now(), ip, download: true });
    const book = createConsoleBook(bunRuntime.files, state);
    book.register([{ name: "node-1", ip }]);
    let ended!: () => void;
    const done = new Promise<void>((resolve) => (ended = resolve));
    const log = { info: () => {}, warn: (line: string) => (line.includes("ended") ? ended() : undefined) };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const capture = startCapture({ runtime: bunRuntime, store, book, consoles: [{ server: "node-1", ip, command }], log, now: Date.now, restartDelayMs: () => 3_600_000 });
    await done;
    await capture.close();
    const cpu = process.cpuUsage(cpu0);
    return { cpu: (cpu.user + cpu.system) / 1e6, wall: (performance.now() - t0) / 1000, disk: diskOf(join(state, "consoles", "node-1")) };
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

// A serial port at full speed: 11.25 KiB/s of 80-column lines (a kernel boot, a chatty test), through a pipe as a console command gives it.
const perSecond = Math.floor(115_200 / 10 / 81);
const serial = `i=0; while [ $i -lt ${seconds * 10} ]; do yes '${"x".repeat(66)} serial line' | head -n ${Math.ceil(perSecond / 10)}; sleep 0.1; i=$((i+1)); done`;
const slow = await measure(["sh", "-c", serial]);
const bytes = 81 * Math.ceil(perSecond / 10) * seconds * 10;
console.log(`serial console at 115,200 baud for ${seconds} s (${(bytes / 1024).toFixed(0)} KiB, one job):`);
console.log(`  CPU ${slow.cpu.toFixed(3)} s in ${slow.wall.toFixed(1)} s: ${((slow.cpu / slow.wall) * 100).toFixed(2)} % of a core, ${((slow.cpu / slow.wall) * 60).toFixed(2)} CPU s per job-minute`);
console.log(`  disk ${(slow.disk / 1024).toFixed(0)} KiB (${((slow.disk / bytes - 1) * 100).toFixed(0)} % over the console's bytes: the time stamps)`);

const fast = await measure(["sh", "-c", "yes 'a workload that prints as fast as it can, a line of 64 bytes...' | head -c 268435456"]);
console.log(`a workload printing 256 MiB as fast as it can (one job):`);
console.log(`  CPU ${fast.cpu.toFixed(2)} s in ${fast.wall.toFixed(1)} s: ${((fast.cpu / 256) * 1000).toFixed(1)} CPU ms per MiB, ${(256 / fast.wall).toFixed(0)} MiB/s`);
console.log(`  disk ${(fast.disk / 1024 / 1024).toFixed(2)} MiB kept (the bound: 3 MiB per attempt)`);
