import type { Machine } from "./machine.ts";
import { type ByPath, type HeadResult, type MemoryResult, type MultiResult, type Path, paths, type StreamResult, type TlsPath, tlsPaths } from "./scenarios.ts";
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

/** `met` is null when the figure was not measured in this run (see the result's `skipped`). */
export type Check = { readonly what: string; readonly target: string; readonly value: string; readonly met: boolean | null };

const MiB = 2 ** 20;
const mbps = (bytesPerSecond: number) => `${(bytesPerSecond / 1e6).toFixed(0)} MB/s`;
const fixed = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "–" : x.toFixed(2));
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
const size = (bytes: number) => (bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : `${bytes / MiB} MiB`);

/** Memory may differ by this much between a small and a big asset and still count as flat. */
export const growthAllowance = 16 * MiB;

/** The issue's targets, each with the figure that meets it or not. */
export function checks(r: BenchResults): Check[] {
  const fair = median(r.multi.fairness.dispatch ?? []);
  const growth = r.growthBig.peak - r.growthSmall.peak;
  const direct = (s: StreamResult, goal: number) => {
    const value = s.ratio.dispatch ?? Number.NaN;
    return { value: `${fixed(value)} (HAProxy ${fixed(s.ratio.haproxy)}; dispatch / HAProxy ${fixed(s.toHaproxy.dispatch)})`, met: value >= goal };
  };
  const local = (s: StreamResult) => {
    const skipped = s.skipped.dispatchDir;
    if (skipped !== undefined) return { value: `not run: ${skipped}`, met: null };
    const value = s.ratio.dispatchDir ?? Number.NaN;
    return { value: fixed(value), met: value >= 0.8 };
  };
  return [
    { what: "single stream, dispatch / direct", target: "≥ 0.90", ...direct(r.single, 0.9) },
    { what: `${r.multi.clients} streams aggregate, dispatch / direct`, target: "≥ 0.85", ...direct(r.multi, 0.85) },
    { what: "local file, single stream, dispatch --dir / nginx sendfile", target: "≥ 0.80", ...local(r.single) },
    { what: `local file, ${r.multi.clients} streams, dispatch --dir / nginx sendfile`, target: "≥ 0.80", ...local(r.multi) },
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
      value: `${fixed(r.single.ratio.dispatch)} vs ${fixed(r.single.ratio.nginx)}, ${fixed(r.multi.ratio.dispatch)} vs ${fixed(r.multi.ratio.nginx)}`,
      met: (r.single.ratio.dispatch ?? 0) >= (r.single.ratio.nginx ?? 0) && (r.multi.ratio.dispatch ?? 0) >= (r.multi.ratio.nginx ?? 0),
    },
  ];
}

const headers: Record<Path, string> = {
  dispatch: "dispatch",
  dispatchDir: "dispatch --dir",
  nginx: "nginx proxy",
  haproxy: "HAProxy splice",
  direct: "direct (nginx sendfile)",
  dispatchTls: "dispatch, HTTPS storage",
  nginxTls: "nginx proxy, HTTPS storage",
  haproxyTls: "HAProxy, HTTPS storage",
  directTls: "direct over HTTPS",
};

/** One row of the streaming table: a figure per path, "not run" where a path was skipped. */
function row(label: string, s: StreamResult, cell: (path: Path) => string): string[] {
  return [label, ...paths.map((p) => (s.skipped[p] !== undefined ? "not run" : cell(p)))];
}

function streamRows(s: StreamResult, title: string, fairness?: ByPath<number[]>): string[][] {
  const tls = (p: Path): p is TlsPath => (tlsPaths as readonly Path[]).includes(p);
  // CPU first: on a shared machine it is the least disturbed figure, and what a proxy costs per byte.
  return [
    row(`${title}: server CPU per GiB sent`, s, (p) => (s.cpuPerGiB[p] === undefined ? "" : `${s.cpuPerGiB[p]!.toFixed(2)} s`)),
    row("  speed, median", s, (p) => mbps(median(s.speed[p] ?? []))),
    row("  ratio to direct (median of rounds)", s, (p) => (p === "direct" ? "1" : fixed(s.ratio[p]))),
    row("  ratio to direct over HTTPS (median of rounds)", s, (p) => (tls(p) ? fixed(s.toDirectTls[p]) : p === "directTls" ? "1" : "")),
    row("  ratio to HAProxy over the same storage (median of rounds)", s, (p) =>
      p === "dispatch" || p === "dispatchTls" ? fixed(s.toHaproxy[p]) : p === "haproxy" || p === "haproxyTls" ? "1" : "",
    ),
    ...(fairness ? [row("  slowest client / fair share", s, (p) => fixed(median(fairness[p] ?? [])))] : []),
  ];
}

/** The figures as a Markdown table (it reads fine in a terminal too), then the targets. */
export function table(r: BenchResults, machine: Machine): string {
  const s = r.single;
  const m = r.multi;
  const clients = r.slowMany.clients;
  const dispatchOnly = (label: string, value: string) => [label, value, ...paths.slice(1).map(() => "")];
  const rows: string[][] = [
    ["", ...paths.map((p) => headers[p])],
    ...streamRows(s, `1 stream of ${size(s.bytesEach)}`),
    ...streamRows(m, `${m.clients} streams of ${size(m.bytesEach)} at once (aggregate)`, m.fairness),
    dispatchOnly(`peak RSS, 1 client at ${r.slowOne.rate}B/s, ${size(r.slowOne.bytesEach)} (idle ${mib(r.slowOne.idle)})`, mib(r.slowOne.peak)),
    dispatchOnly(`peak RSS, ${clients} clients at ${r.slowMany.rate}B/s, ${size(r.slowMany.bytesEach)} each`, mib(r.slowMany.peak)),
    dispatchOnly(`peak RSS, 1 client at ${r.growthSmall.rate}B/s: ${size(r.growthSmall.bytesEach)} / ${size(r.growthBig.bytesEach)}`, `${mib(r.growthSmall.peak)} / ${mib(r.growthBig.peak)}`),
    dispatchOnly(`HEAD p50 / p99, idle`, `${r.head.idleP50.toFixed(2)} / ${r.head.idleP99.toFixed(2)} ms`),
    ...[r.head, r.headPaced].map((h) =>
      dispatchOnly(
        `HEAD p50 / p99 / max, ${h.requests} requests, ${h.downloads} downloads ${h.rate ? `at ${h.rate}B/s each` : "at full speed"}`,
        `${h.p50.toFixed(2)} / ${h.p99.toFixed(2)} / ${h.max.toFixed(1)} ms`,
      ),
    ),
  ];
  const mark = (met: boolean | null) => (met === null ? "–" : met ? "✅" : "❌");
  const lines = [markdown(rows), "", markdown([["target", "goal", "measured", ""], ...checks(r).map((c) => [c.what, c.target, c.value, mark(c.met)])])];
  const notRun = [...new Set([...Object.entries(s.skipped), ...Object.entries(m.skipped)].map(([p, why]) => `${headers[p as Path]}: ${why}`))];
  if (notRun.length > 0) lines.push("", `not run: ${notRun.join("; ")}`);
  lines.push("", `machine: ${machineLine(machine)}`);
  return lines.join("\n");
}

export function machineLine(m: Machine): string {
  return `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, load ${m.load} at start; bun ${m.bun}, ${m.curl}, nginx ${m.nginx}, HAProxy ${m.haproxy}, ${m.openssl}`;
}

function markdown(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => [...(row[c] ?? "")].length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell + " ".repeat(widths[c]! - [...cell].length)).join(" | ")} |`;
  return [line(rows[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}
