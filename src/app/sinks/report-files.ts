import { Buffer } from "node:buffer";
import { join, resolve } from "node:path";
import type { FilingFailure } from "../../core/filing.ts";
import { type ConsoleTail, consoleBlocks } from "../../core/console-block.ts";
import { attemptLines, issueBodyLimit } from "../../core/issue.ts";
import type { ConsoleBook } from "../../console/book.ts";
import { consoleTails } from "./console-tails.ts";
import type { ExtraReport, FiledIssue, Job, JobState } from "../../core/job.ts";
import type { KeptText } from "../../core/report.ts";
import type { Files } from "../../runtime/types.ts";
import { UsageError } from "../errors.ts";
import type { ReportSink } from "../ports.ts";

export type ReportFilesDeps = {
  readonly dir: string;
  readonly files: Files;
  /** The source's label, written into each file. */
  readonly source: string;
  /** The state folder, where a long report's whole text was kept as it arrived. */
  readonly stateDir: string;
  readonly version: string;
  /** The lab's consoles: each report file gets its job's whole console beside it (`NAME.console.txt`). */
  readonly consoles?: ConsoleBook;
  readonly consoleInReports?: boolean;
};

/**
 * Reports (and, with --file-failures, failures) as Markdown files in a folder (`--reports`),
 * for labs without GitHub or whose token may not write issues. Each file has front matter a
 * script can read (YAML; every value is written as JSON, which YAML reads as the same value)
 * and the report's body whole. Exactly once: the name follows from the job and the time it
 * was reported (or failed), so a file that exists already is that report, adopted rather than
 * written again; a file appears whole or not at all (written aside, flushed, renamed, and the
 * folder flushed), so a report answered 200 and then filed is never lost.
 */
export async function reportFilesSink({ dir, files, source, stateDir, version, consoles, consoleInReports }: ReportFilesDeps): Promise<ReportSink> {
  const folder = resolve(dir);
  try {
    await files.mkdirp(folder);
  } catch (error) {
    throw new UsageError(`--reports ${dir}: cannot create that folder (${(error as Error).message}). Give a folder dispatch may write to.`);
  }
  return {
    label: `report files in ${folder}`,
    // The folder was made above; writing a file into it needs no permission from anyone.
    check: async () => {},
    async file(job: Job): Promise<FiledIssue> {
      const tails = await consoleTails(consoles, job, job.phase.state === "failed" || (consoleInReports ?? false));
      const { name, text, kept } = reportFile(job, source, version, tails);
      const path = join(folder, name);
      // An earlier attempt (or process) that got this far wrote the same report: keep its file.
      if ((await files.stat(path)) !== undefined) return { url: path };
      // The whole console first: once the report file is there, the job counts as filed.
      const console = await consoles?.wholeText(job);
      if (console !== undefined) {
        const beside = join(folder, name.replace(/\.md$/, ".console.txt"));
        await files.writeDurably(`${beside}.tmp`, console);
        await files.rename(`${beside}.tmp`, beside);
      }
      const aside = join(folder, `.${name}.tmp`);
      await files.writeDurably(aside, text);
      // A long body is copied whole from the state folder, a piece at a time (it may be many MiB).
      if (kept) await copyInto(files, join(stateDir, kept.file), aside);
      await files.rename(aside, path);
      await files.syncDir(folder);
      return { url: path };
    },
    async addExtra(job: Job, index: number): Promise<FiledIssue> {
      const phase = job.phase;
      const extra = phase.state === "finished" ? phase.extras?.[index] : undefined;
      if (phase.state !== "finished" || !extra) throw new Error(`${job.name} has no report file to add a report to`);
      const path = phase.issue.url;
      const marker = `<!-- dispatch:extra ${iso(extra.at)} -->`;
      // Exactly once: an earlier attempt that got this far left the marker in the file.
      if (!(await fileHolds(files, path, marker))) {
        const file = await files.openAppend(path);
        try {
          await file.write(new TextEncoder().encode(extraSection(job, extra, marker)));
          await file.sync();
        } finally {
          await file.close();
        }
      }
      return { url: path };
    },
    classify: (error: unknown): FilingFailure => ({ uncertain: false, permanent: false, message: `writing the report file failed: ${(error as Error).message}` }),
  };
}

/**
 * The file a job's report or failure becomes: its name (sorting in the order they came in) and
 * text; for a report whose body was kept apart, the text ends where that body's copy begins.
 */
export function reportFile(job: Job, source: string, version: string, consoles: readonly ConsoleTail[] = []): { name: string; text: string; kept?: KeptText } {
  const blocks = consoleBlocks(consoles, issueBodyLimit);
  const phase = job.phase;
  const workload = job.name;
  // An `each` job (WORKLOAD@SERVER) says its workload too, so scripts can group them.
  const named: [string, unknown][] = job.name === job.workload.name ? [["workload", workload]] : [["workload", job.workload.name], ["job", job.name]];
  const server = "ip" in phase ? (phase.ip ?? null) : null;
  const times = (states: readonly JobState[]): [string, unknown][] =>
    states.flatMap((s) => (job.entered[s] === undefined ? [] : [[s === "booting" ? "booted" : s, iso(job.entered[s])]]));

  if (phase.state === "reported" || phase.state === "finished") {
    const report = phase.report;
    const at = job.entered.reported ?? 0;
    const front: [string, unknown][] = [
      ["kind", "report"],
      ...named,
      ["title", report.title],
      ["labels", report.labels ?? []],
      ["assignees", report.assignees ?? []],
      ["milestone", report.milestone ?? null],
      ["server", server],
      ...times(["booting", "reported"]),
      ["source", source],
      ["dispatch", version],
    ];
    const name = `${stamp(at)}_${encodeURIComponent(workload)}.md`;
    // A body kept apart is copied after the text: its consoles then go before it.
    if (report.kept) return { name, text: frontMatter(front) + (blocks ? `${blocks}\n\n` : ""), kept: report.kept };
    return { name, text: withFrontMatter(front, blocks ? `${report.body ?? ""}\n\n${blocks}` : (report.body ?? "")) };
  }
  if (phase.state === "failed") {
    const at = job.entered.failed ?? 0;
    const front: [string, unknown][] = [
      ["kind", "failure"],
      ...named,
      ["title", `${workload} failed: ${phase.reason}`],
      ["reason", phase.reason],
      ["server", server],
      ...times(["assigned", "downloading", "booting", "failed"]),
      ["source", source],
      ["dispatch", version],
    ];
    const attempts = attemptLines(job);
    const body = `\`${workload}\` failed: ${phase.reason}.\n${attempts.length ? `${attempts.join("\n")}\n` : ""}\n${blocks ? `${blocks}\n\n` : ""}Written by dispatch (\`--file-failures\`).`;
    return { name: `${stamp(at)}_${encodeURIComponent(workload)}.failed.md`, text: withFrontMatter(front, body) };
  }
  throw new Error(`${workload} has nothing to file (${phase.state})`);
}

/**
 * A second report from the job's server, appended to its report file: a section a script finds by
 * its marker line. A long body kept apart is named, not copied (it is in the state folder).
 */
function extraSection(job: Job, extra: ExtraReport, marker: string): string {
  const r = extra.report;
  const server = "ip" in job.phase ? (job.phase.ip ?? "unknown") : "unknown";
  const fields = [
    ["title", r.title],
    ["labels", r.labels ?? []],
    ["assignees", r.assignees ?? []],
    ["milestone", r.milestone ?? null],
  ].map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  const kept = r.kept ? `\n\n(The whole text, ${r.kept.bytes} bytes, is kept in dispatch's state folder as ${r.kept.file}.)` : "";
  return `\n${marker}\n## Another report from ${server} at ${iso(extra.at)}\n\n${fields.join("\n")}\n\n${r.body ?? ""}${kept}\n`;
}

/** The file contains `text` (read a piece at a time: a report file may be many MiB). */
async function fileHolds(files: Files, path: string, text: string): Promise<boolean> {
  const needle = new TextEncoder().encode(text);
  const source = await files.openRead(path);
  try {
    const buffer = new Uint8Array((1 << 20) + needle.length);
    let carry = 0;
    for (let at = 0; ; ) {
      const n = await source.read(buffer.subarray(carry, carry + (1 << 20)), at);
      if (n === 0) return false;
      at += n;
      const window = buffer.subarray(0, carry + n);
      if (Buffer.from(window).includes(needle)) return true;
      // Keep the tail, so a marker split across two reads is still found.
      carry = Math.min(needle.length - 1, window.length);
      buffer.copyWithin(0, window.length - carry, window.length);
    }
  } finally {
    await source.close();
  }
}

/** Appends the whole of `from` to `to`, and flushes it. */
async function copyInto(files: Files, from: string, to: string): Promise<void> {
  const source = await files.openRead(from);
  const target = await files.openAppend(to);
  try {
    const buffer = new Uint8Array(1 << 20);
    let last = 0x0a;
    for (let at = 0; ; ) {
      const n = await source.read(buffer, at);
      if (n === 0) break;
      await target.write(buffer.subarray(0, n));
      last = buffer[n - 1]!;
      at += n;
    }
    // Ends with a newline, as a body written whole does.
    if (last !== 0x0a) await target.write(new Uint8Array([0x0a]));
    await target.sync();
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}

function frontMatter(fields: readonly (readonly [string, unknown])[]): string {
  const lines = fields.map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
  return `---\n${lines.join("\n")}\n---\n\n`;
}

function withFrontMatter(fields: readonly (readonly [string, unknown])[], body: string): string {
  return `${frontMatter(fields)}${body}${body.endsWith("\n") ? "" : "\n"}`;
}

const iso = (at: number) => new Date(at).toISOString();

/** 2026-12-01T09-30-40.123Z: sorts by time, valid in every file system. */
function stamp(at: number): string {
  return iso(at).replaceAll(":", "-");
}
