import { readdirSync, readFileSync } from "node:fs";

const ticksPerSecond = 100; // USER_HZ on Linux

function stat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system, all threads) used so far by a process and its direct children,
 * e.g. an nginx master and its workers. Less disturbed by other work on a shared machine than
 * throughput is, so it shows what a proxy costs per byte.
 */
export function cpuSeconds(pid: number): number {
  let ticks = stat(pid)?.ticks ?? 0;
  for (const entry of readdirSync("/proc")) {
    const child = Number(entry);
    if (!Number.isInteger(child) || child === pid) continue;
    const s = stat(child);
    if (s?.ppid === pid) ticks += s.ticks;
  }
  return ticks / ticksPerSecond;
}
