import type { Machine } from "./machine.ts";
import type { HeadResult, MemoryResult, MultiResult, StreamResult } from "./scenarios.ts";
import { median } from "./stats.ts";

export type BenchResults = {
  readonly single: StreamResult;
  readonly multi: MultiResult;
  readonly slowOne: MemoryResult;
  readonly slowMany: MemoryResult;
  readonly growthSmall: MemoryResult;
  readonly growthBig: MemoryResult;
  readonly head: HeadResult;
  readonly headPaced: HeadResult;
};

export type Check = { readonly what: string; readonly target: string; readonly value: string; readonly met: boolean };

const MiB = 2 ** 20;
const mbps = (bytesPerSecond: number) => `${(bytesPerSecond / 1e6).toFixed(0)} MB/s`;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
const size = (bytes: number) => (bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : `${bytes / MiB} MiB`);

/** Memory may differ by this much between a small and a big asset and still count as flat. */
export const growthAllowance = 16 * MiB;

/** The issue's targets, each with the figure that meets it or not. */
export function checks(r: BenchResults): Check[] {
  const fair = median(r.multi.fairness.dispatch);
  const growth = r.growthBig.peak - r.growthSmall.peak;
  return [
    { what: "single stream, dispatch / direct", target: "≥ 0.90", value: r.single.ratio.dispatch.toFixed(2), met: r.single.ratio.dispatch >= 0.9 },
    { what: `${r.multi.clients} streams aggregate, dispatch / direct`, target: "≥ 0.85", value: r.multi.ratio.dispatch.toFixed(2), met: r.multi.ratio.dispatch >= 0.85 },
    { what: "slowest client / fair share (dispatch)", target: "≥ 0.50", value: fair.toFixed(2), met: fair >= 0.5 },
    { what: `peak RSS, 1 slow client (${r.slowOne.rate}B/s, ${size(r.slowOne.bytesEach)})`, target: "< 100 MiB", value: mib(r.slowOne.peak), met: r.slowOne.peak < 100 * MiB },
    { what: `peak RSS, ${r.slowMany.clients} slow clients`, target: "< 200 MiB", value: mib(r.slowMany.peak), met: r.slowMany.peak < 200 * MiB },
    {
      what: `peak RSS growth, ${size(r.growthSmall.bytesEach)} → ${size(r.growthBig.bytesEach)} (${r.growthBig.rate}B/s)`,
      target: `< ${mib(growthAllowance)}`,
      value: `${growth >= 0 ? "+" : ""}${(growth / MiB).toFixed(0)} MiB`,
      met: growth < growthAllowance,
    },
    ...[r.head, r.headPaced].map((h) => ({
      what: `HEAD p99 with ${h.downloads} downloads ${h.rate ? `at ${h.rate}B/s each` : "at full speed"}`,
      target: "< 5 ms",
      value: `${h.p99.toFixed(2)} ms`,
      met: h.p99 < 5,
    })),
    {
      what: "dispatch ratio vs nginx proxy ratio (single, aggregate)",
      target: "≥ nginx",
      value: `${r.single.ratio.dispatch.toFixed(2)} vs ${r.single.ratio.nginx.toFixed(2)}, ${r.multi.ratio.dispatch.toFixed(2)} vs ${r.multi.ratio.nginx.toFixed(2)}`,
      met: r.single.ratio.dispatch >= r.single.ratio.nginx && r.multi.ratio.dispatch >= r.multi.ratio.nginx,
    },
  ];
}

/** The figures as a Markdown table (it reads fine in a terminal too), then the targets. */
export function table(r: BenchResults, machine: Machine): string {
  const s = r.single;
  const m = r.multi;
  const clients = r.slowMany.clients;
  const rows: string[][] = [
    ["", "dispatch", "nginx proxy", "direct"],
    [`1 stream of ${size(s.bytesEach)}, median`, ...paths(s.speed, mbps)],
    ["  ratio to direct (median of rounds)", s.ratio.dispatch.toFixed(2), s.ratio.nginx.toFixed(2), "1"],
    ["  proxy CPU per GiB", `${s.cpuPerGiB.dispatch.toFixed(2)} s`, `${s.cpuPerGiB.nginx.toFixed(2)} s`, ""],
    [`${m.clients} streams of ${size(m.bytesEach)} at once, aggregate, median`, ...paths(m.speed, mbps)],
    ["  ratio to direct (median of rounds)", m.ratio.dispatch.toFixed(2), m.ratio.nginx.toFixed(2), "1"],
    ["  slowest client / fair share", ...paths(m.fairness, (x) => x.toFixed(2))],
    ["  proxy CPU per GiB", `${m.cpuPerGiB.dispatch.toFixed(2)} s`, `${m.cpuPerGiB.nginx.toFixed(2)} s`, ""],
    [`peak RSS, 1 client at ${r.slowOne.rate}B/s, ${size(r.slowOne.bytesEach)} (idle ${mib(r.slowOne.idle)})`, mib(r.slowOne.peak), "", ""],
    [`peak RSS, ${clients} clients at ${r.slowMany.rate}B/s, ${size(r.slowMany.bytesEach)} each`, mib(r.slowMany.peak), "", ""],
    [`peak RSS, 1 client at ${r.growthSmall.rate}B/s: ${size(r.growthSmall.bytesEach)} / ${size(r.growthBig.bytesEach)}`, `${mib(r.growthSmall.peak)} / ${mib(r.growthBig.peak)}`, "", ""],
    [`HEAD p50 / p99, idle`, `${r.head.idleP50.toFixed(2)} / ${r.head.idleP99.toFixed(2)} ms`, "", ""],
    ...[r.head, r.headPaced].map((h) => [
      `HEAD p50 / p99 / max, ${h.requests} requests, ${h.downloads} downloads ${h.rate ? `at ${h.rate}B/s each` : "at full speed"}`,
      `${h.p50.toFixed(2)} / ${h.p99.toFixed(2)} / ${h.max.toFixed(1)} ms`,
      "",
      "",
    ]),
  ];
  const lines = [markdown(rows), "", markdown([["target", "goal", "measured", ""], ...checks(r).map((c) => [c.what, c.target, c.value, c.met ? "✅" : "❌"])])];
  lines.push("", `machine: ${machineLine(machine)}`);
  return lines.join("\n");
}

export function machineLine(m: Machine): string {
  return `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, load ${m.load} at start; bun ${m.bun}, ${m.curl}, nginx ${m.nginx}`;
}

function paths<T>(values: Record<"dispatch" | "nginx" | "direct", number[]>, format: (x: number) => T): T[] {
  return (["dispatch", "nginx", "direct"] as const).map((p) => format(median(values[p])));
}

function markdown(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => [...(row[c] ?? "")].length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell + " ".repeat(widths[c]! - [...cell].length)).join(" | ")} |`;
  return [line(rows[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}
