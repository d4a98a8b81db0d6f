#!/usr/bin/env bun
// What a durable answer costs: N reports each waiting for the journal (write + fdatasync)
// against the same N events written without waiting (the baseline, measured in the same run).
// Prints ratios, since absolute times depend on the disk. Usage: bun scripts/bench-journal.ts [N]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DispatchEvent } from "../src/core/events.ts";
import { journalWriter } from "../src/journal/writer.ts";
import { nodeFiles } from "../src/runtime/bun/files.ts";

const n = Number(process.argv[2] ?? 500);
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "dispatch-bench-"));
const event = (i: number): DispatchEvent => ({ type: "reported", at: i, ip: "192.0.2.10", report: { title: `report ${i}`, body: "x".repeat(500) } });

async function timed(name: string, body: (append: (e: DispatchEvent) => void, durable: () => Promise<void>) => Promise<void>): Promise<number> {
  const path = join(dir, `${name}.jsonl`);
  const file = await nodeFiles.openAppend(path);
  const journal = journalWriter({ file, bytes: 0, truncate: (b) => nodeFiles.truncate(path, b), log: { info: console.log, warn: console.warn } });
  const t0 = performance.now();
  await body(journal.append, journal.durable);
  const ms = performance.now() - t0;
  await journal.close();
  return ms;
}

try {
  const writeAll = async (append: (e: DispatchEvent) => void, durable: () => Promise<void>) => {
    for (let i = 0; i < n; i++) append(event(i));
    await durable(); // one flush at the end
  };
  await timed("warm-up", writeAll);
  const baseline = await timed("baseline", writeAll);
  const oneByOne = await timed("serial", async (append, durable) => {
    for (let i = 0; i < n; i++) {
      append(event(i));
      await durable(); // each answer waits for its own flush
    }
  });
  const concurrent = await timed("concurrent", async (append, durable) => {
    // 32 servers reporting at once: their waits share flushes.
    const waits: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      append(event(i));
      waits.push(durable());
      if (waits.length === 32) await Promise.all(waits.splice(0));
    }
    await Promise.all(waits);
  });
  console.log(`${n} reports in ${dir}`);
  console.log(`  written, one flush at the end (baseline): ${(baseline / n).toFixed(3)} ms per report`);
  console.log(`  each answer waits for its flush:          ${(oneByOne / n).toFixed(3)} ms per report  (${(oneByOne / baseline).toFixed(1)}x baseline)`);
  console.log(`  32 at once, sharing flushes:              ${(concurrent / n).toFixed(3)} ms per report  (${(concurrent / baseline).toFixed(1)}x baseline)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
