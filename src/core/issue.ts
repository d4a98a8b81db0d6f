import type { Job, JobState, Late } from "./job.ts";
import type { Report } from "./report.ts";

/**
 * Where a run happened, for the footer of the issue it files and the journal's header: a
 * release names its repository and tag; a folder (`--dir`) its absolute path as `repository`
 * and "folder" as `release`, with `origin` saying so in words.
 */
export type RunContext = {
  readonly repository: string;
  readonly release: string;
  /** Where the workloads came from, as a footer says it; default: release `TAG` of OWNER/REPO. */
  readonly origin?: string;
};

const originOf = (context: RunContext) => context.origin ?? `release \`${context.release}\` of ${context.repository}`;

/** GitHub refuses issue bodies longer than this many characters. */
export const issueBodyLimit = 65_536;

export type IssueText = {
  readonly title: string;
  readonly body: string;
  /** The report's body did not fit and was cut; its full text belongs somewhere else. */
  readonly cut: boolean;
};

export type BodyOptions = {
  /** Lines dispatch adds about how it filed the issue (e.g. a field GitHub refused). */
  readonly notes?: readonly string[];
  readonly limit?: number;
};

/** GitHub refuses issue titles longer than this many characters. */
export const issueTitleLimit = 256;

const time = (t: number | undefined) => (t === undefined ? "unknown" : new Date(t).toISOString());
const serverOf = (job: Job) => ("ip" in job.phase && job.phase.ip ? job.phase.ip : "unknown");

/**
 * A line hidden in the issue body that names one filing: the same job of the same release,
 * reported at the same moment. A restarted dispatch looks for it before filing again, so a
 * crash between GitHub creating the issue and the journal recording it files nothing twice.
 */
export function filingMarker(job: Job, context: RunContext, kind: "report" | "failure"): string {
  const at = kind === "report" ? job.entered.reported : job.entered.failed;
  const id = JSON.stringify([context.repository, context.release, job.workload.name, time(at)]);
  return `<!-- dispatch:${kind} ${id.replaceAll("--", "-\\u002d")} -->`;
}

/**
 * The issue for a report: the workload's own text, then a footer with the run's facts. Whatever
 * beacon sent makes an issue GitHub takes: a blank title gets one naming the workload and the
 * server, a title over GitHub's limit is cut (the body then starts with the whole of it), and a
 * body over GitHub's limit is cut with a note saying where its whole text is kept.
 */
export function reportIssue(report: Report, job: Job, context: RunContext, options: BodyOptions = {}): IssueText {
  const phase = job.phase;
  const late = phase.state === "reported" || phase.state === "finished" ? phase.late : undefined;
  const footer = [
    "---",
    `Filed by dispatch for \`${job.workload.name}\` from ${originOf(context)}.`,
    `Server ${serverOf(job)}; booted ${time(job.entered.booting)}; reported ${time(job.entered.reported)}.`,
    ...(late ? [lateNote(late)] : []),
    ...(options.notes ?? []),
    filingMarker(job, context, "report"),
  ].join("\n");

  const sent = report.title.trim();
  const title = sent === "" ? `${job.workload.name}: report from ${serverOf(job)} (beacon sent no title)` : report.title;
  const titleCut = codePoints(title) > issueTitleLimit;
  const head = titleCut ? `**Title:** ${title}\n\n` : "";

  const limit = options.limit ?? issueBodyLimit;
  const text = `${head}${report.body ?? ""}`;
  const whole = text ? `${text}\n\n${footer}` : footer;
  const issueTitle = titleCut ? `${cutCodePoints(title, issueTitleLimit - 1)}…` : title;
  // A kept body arrives as its first part only: that is a cut even when the part would fit.
  const partial = report.kept !== undefined && report.kept.chars > (report.body?.length ?? 0);
  if (!partial && whole.length <= limit) return { title: issueTitle, body: whole, cut: false };

  const total = head.length + (report.kept?.chars ?? report.body?.length ?? 0);
  const where = report.kept
    ? `; the whole text is kept on the dispatch host, in its state folder as \`${report.kept.file}\``
    : "; the whole text is in the journal in dispatch's state folder";
  const marker = `\n\n✂️ **Cut by dispatch**: the report had ${total} characters, more than a GitHub issue holds${where}.`;
  const room = Math.max(0, limit - footer.length - marker.length - 2);
  return { title: issueTitle, body: `${cutAt(text, room)}${marker}\n\n${footer}`, cut: true };
}

function lateNote(late: Late): string {
  const issue = late.failureIssue ? ` (filed as #${late.failureIssue.number})` : "";
  return `This report came after the run timeout: the job was marked failed at ${time(late.failedAt)} (${late.reason})${issue}; the run went on longer than \`--run-timeout\`.`;
}

/** The issue that makes a failed job as visible as a failed test (`--file-failures`). */
export function failureIssue(job: Job, context: RunContext): IssueText {
  const phase = job.phase;
  const reason = phase.state === "failed" ? phase.reason : `not failed (${phase.state})`;
  const states: readonly JobState[] = ["assigned", "downloading", "booting", "failed"];
  const body = [
    `\`${job.workload.name}\` from ${originOf(context)} failed: ${reason}.`,
    "",
    `Server: ${serverOf(job)}`,
    ...states.filter((s) => job.entered[s] !== undefined).map((s) => `- ${s}: ${time(job.entered[s])}`),
    "",
    "---",
    "Filed by dispatch (`--file-failures`).",
    filingMarker(job, context, "failure"),
  ].join("\n");
  return { title: `${job.workload.name} failed: ${reason}`.slice(0, 256), body, cut: false };
}

const codePoints = (text: string) => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

/** The first `n` code points of `text`. */
function cutCodePoints(text: string, n: number): string {
  let out = "";
  let i = 0;
  for (const c of text) {
    if (i++ >= n) break;
    out += c;
  }
  return out;
}

/** The first `n` UTF-16 units of `text`, never splitting a surrogate pair. */
export function cutAt(text: string, n: number): string {
  if (text.length <= n) return text;
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}
