import { formatDuration } from "../core/duration.ts";
import type { FiledIssue, Time } from "../core/job.ts";
import { type SummaryRow, type Tally, tally } from "../core/summary.ts";
import { stateEmoji } from "./wording.ts";

/** A run's summary as one page: the summary issue's body, `SUMMARY.md`, the Actions step summary. */
export type SummaryPage = {
  /** The source as people read it: `OWNER/REPO release TAG`, or `folder DIR`. */
  readonly source: string;
  readonly startedAt: Time;
  readonly updatedAt: Time;
  readonly rows: readonly SummaryRow[];
  /** Every job is settled: the tally is final. */
  readonly settled: boolean;
  /** dispatch stopped before the run settled; the next start resumes it. */
  readonly stopped?: boolean;
  /** The summary of the run before this one of the same source, when this run is a re-run. */
  readonly previous?: FiledIssue;
  /** Hidden lines at the end (the summary issue's marker). */
  readonly hidden?: readonly string[];
};

/** How a job's issue is shown: `#12` in an issue of the same repository, a relative link in `SUMMARY.md`. */
export type LinkIssue = (issue: FiledIssue) => string;

const iso = (t: Time) => new Date(t).toISOString();

/** The summary issue's title: the repository, release and start time. */
export function summaryTitle(source: string, startedAt: Time): string {
  return `dispatch: ${source}, run started ${iso(startedAt).replace(/\.\d{3}Z$/, "Z")}`;
}

/** The tally in words: "4 jobs: 2 passed, 1 failed (1 by its label), 1 never run". */
export function tallyLine(counts: Tally): string {
  const parts = [
    `${counts.passed} passed`,
    `${counts.failed} failed${counts.labelled > 0 ? ` (${counts.labelled} by ${counts.labelled === 1 ? "its label" : "their labels"})` : ""}`,
    `${counts.neverRun} never run`,
    ...(counts.pending > 0 ? [`${counts.pending} pending`] : []),
  ];
  return `${counts.total} ${counts.total === 1 ? "job" : "jobs"}: ${parts.join(", ")}`;
}

export function summaryMarkdown(page: SummaryPage, link: LinkIssue): string {
  const counts = tally(page.rows);
  const status = page.settled
    ? `**Done**: ${tallyLine(counts)}.`
    : page.stopped
      ? `**Stopped** before the run was over (the next start resumes it): ${tallyLine(counts)}.`
      : `**Running**: ${tallyLine(counts)}.`;
  const withAttempts = page.rows.some((row) => row.attempts !== undefined);
  const header = ["workload", "server", "state", "time", "issue", ...(withAttempts ? ["attempts"] : [])];
  const lines = [
    `### dispatch: ${escapeCell(page.source)}`,
    "",
    status,
    "",
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...page.rows.flatMap((row, i) => {
      const cells = [
        escapeCell(row.job),
        row.server ? escapeCell(row.server) : "",
        stateCell(row),
        row.durationMs !== undefined ? formatDuration(row.durationMs) : "",
        row.issue ? link(row.issue) : "",
        ...(withAttempts ? [row.attempts === undefined ? "" : String(row.attempts)] : []),
      ];
      const line = `| ${cells.join(" | ")} |`;
      // The jobs of a workload run on every matching server (`each`) come together under its own line.
      const first = row.job !== row.workload && page.rows[i - 1]?.workload !== row.workload;
      return first ? [groupLine(row.workload, page.rows.filter((r) => r.workload === row.workload), header.length), line] : [line];
    }),
    "",
    `Started ${iso(page.startedAt)}; ${page.settled ? "settled" : "updated"} ${iso(page.updatedAt)}.` +
      (page.previous ? ` The run before this one: ${link(page.previous)}.` : ""),
    ...(page.hidden ?? []),
  ];
  return `${lines.join("\n")}\n`;
}

/** "**memtest.efi** on every matching server: 2 jobs: 1 passed, 1 failed, 0 never run" across the table. */
function groupLine(workload: string, rows: readonly SummaryRow[], columns: number): string {
  return `| **${escapeCell(workload)}** on every matching server: ${tallyLine(tally(rows))} |${" |".repeat(columns - 1)}`;
}

function stateCell(row: SummaryRow): string {
  const state = `${stateEmoji[row.state]} ${row.state}`;
  switch (row.verdict) {
    case "passed":
    case "pending":
      return state;
    case "failed":
      return row.failingLabels.length > 0 ? `${state}, ❌ failed: ${escapeCell(row.reason ?? "")}` : `${state}: ${escapeCell(row.reason ?? "")}`;
    case "never-run":
      return `${state}, never run: ${escapeCell(row.reason ?? "")}`;
    default:
      return row.verdict satisfies never;
  }
}

/** Text as one table cell: Markdown's own characters escaped, one line, so a name or reason cannot break the table. */
export function escapeCell(text: string): string {
  return text.replace(/\r\n|[\r\n]/g, " ").replace(/[\\`*_{}[\]<>()#+!|~&]/g, "\\$&");
}

/** An issue in the same repository as `#12`; a file (`--reports`) by its path. */
export const linkInRepository: LinkIssue = (issue) => (issue.number !== undefined ? `#${issue.number}` : `\`${issue.url.replaceAll("`", "'")}\``);
