import { type ConsoleTail, consoleBlocks } from "./console-block.ts";
import type { ExtraReport, Job, JobState, Late } from "./job.ts";
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
  /** Consoles' last lines to end the issue with (the console edge reads them). */
  readonly consoles?: readonly ConsoleTail[];
};

/** A report's consoles get at least this much room, however long the report (it is cut for them). */
const consoleRoom = 16_384;

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
  const id = JSON.stringify([context.repository, context.release, job.name, time(at)]);
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
    `Filed by dispatch for \`${job.name}\` from ${originOf(context)}.`,
    `Server ${serverOf(job)}; booted ${time(job.entered.booting)}; reported ${time(job.entered.reported)}.`,
    ...(late ? [lateNote(late)] : []),
    ...(options.notes ?? []),
    filingMarker(job, context, "report"),
  ].join("\n");

  const sent = report.title.trim();
  const title = sent === "" ? `${job.name}: report from ${serverOf(job)} (beacon sent no title)` : report.title;
  const titleCut = codePoints(title) > issueTitleLimit;
  const head = titleCut ? `**Title:** ${title}\n\n` : "";

  const limit = options.limit ?? issueBodyLimit;
  const text = `${head}${report.body ?? ""}`;
  // The consoles take what the report leaves, and at least `consoleRoom`: the report is cut for them.
  const blocks = options.consoles?.length ? consoleBlocks(options.consoles, Math.max(Math.min(consoleRoom, limit / 4), limit - text.length - footer.length - 300)) : "";
  const consolePart = blocks ? `\n\n${blocks}` : "";
  const whole = text ? `${text}${consolePart}\n\n${footer}` : `${blocks ? `${blocks}\n\n` : ""}${footer}`;
  const issueTitle = titleCut ? `${cutCodePoints(title, issueTitleLimit - 1)}…` : title;
  // A kept body arrives as its first part only: that is a cut even when the part would fit.
  const partial = report.kept !== undefined && report.kept.chars > (report.body?.length ?? 0);
  if (!partial && whole.length <= limit) return { title: issueTitle, body: whole, cut: false };

  const total = head.length + (report.kept?.chars ?? report.body?.length ?? 0);
  const where = report.kept
    ? `; the whole text is kept on the dispatch host, in its state folder as \`${report.kept.file}\``
    : "; the whole text is in the journal in dispatch's state folder";
  const marker = `\n\n✂️ **Cut by dispatch**: the report had ${total} characters, more than a GitHub issue holds${where}.`;
  const room = Math.max(0, limit - footer.length - marker.length - consolePart.length - 2);
  return { title: issueTitle, body: `${cutAt(text, room)}${marker}${consolePart}\n\n${footer}`, cut: true };
}

/** The hidden line that names a second report's comment, so a restart never adds it twice. */
export function extraMarker(job: Job, context: RunContext, extra: ExtraReport): string {
  const id = JSON.stringify([context.repository, context.release, job.name, time(extra.at)]);
  return `<!-- dispatch:extra ${id.replaceAll("--", "-\\u002d")} -->`;
}

/**
 * A second, different report from the job's server, as a comment on the job's issue: the earlier
 * dispatch lost these (417); labels, assignees and milestone are noted, as a comment cannot set them.
 */
export function extraComment(job: Job, extra: ExtraReport, context: RunContext, limit = issueBodyLimit): string {
  const report = extra.report;
  const fields = [
    report.labels?.length ? `labels ${report.labels.map((l) => `\`${l}\``).join(", ")}` : "",
    report.assignees?.length ? `assignees ${report.assignees.map((a) => `@${a}`).join(", ")}` : "",
    report.milestone !== undefined ? `milestone \`${report.milestone}\`` : "",
  ].filter(Boolean);
  const head = `**Another report from ${serverOf(job)}** at ${time(extra.at)}: ${report.title.trim() === "" ? "(no title)" : report.title}`;
  const footer = [
    "---",
    `Added by dispatch: the server reported again after its first report${fields.length ? `; it also asked for ${fields.join(", ")}` : ""}.`,
    extraMarker(job, context, extra),
  ].join("\n");
  const body = report.body ?? "";
  const partial = report.kept !== undefined && report.kept.chars > body.length;
  const whole = `${head}\n\n${body ? `${body}\n\n` : ""}${footer}`;
  if (!partial && whole.length <= limit) return whole;
  const where = report.kept ? `; the whole text is kept on the dispatch host as \`${report.kept.file}\`` : "";
  const marker = `\n\n✂️ **Cut by dispatch**: the report had ${report.kept?.chars ?? body.length} characters, more than a comment holds${where}.`;
  const room = Math.max(0, limit - head.length - footer.length - marker.length - 4);
  return `${head}\n\n${cutAt(body, room)}${marker}\n\n${footer}`;
}

function lateNote(late: Late): string {
  const issue = late.failureIssue ? ` (filed as #${late.failureIssue.number})` : "";
  const why = late.runTimeout ? "the run went on longer than `--run-timeout`" : "a report is proof the workload ran, so it is the result";
  return `This report came ${lateWhen(late)}: the job was marked failed at ${time(late.failedAt)} (${late.reason})${issue}; ${why}.`;
}

/** Each server's go at the job, when it had more than one (a retried job), for its failure. */
export function attemptLines(job: Job): string[] {
  if (job.attempts.length < 2) return [];
  return [
    "",
    "Attempts:",
    ...job.attempts.map((a, i) => {
      const steps = [`handed out ${time(a.at)}`, ...(a.downloadedAt ? [`downloaded ${time(a.downloadedAt)}`] : []), ...(a.bootedAt ? [`booted ${time(a.bootedAt)}`] : [])];
      return `${i + 1}. ${a.ip}: ${steps.join(", ")}${a.endedAt ? `; ended ${time(a.endedAt)}: ${a.reason}` : ""}`;
    }),
  ];
}

/** When a late report came, in a few words for its issue, its log line and beacon's answer. */
export function lateWhen(late: Late): string {
  return late.runTimeout ? "after the run timeout" : "after dispatch had failed its job";
}

/** The issue that makes a failed job as visible as a failed test (`--file-failures`). */
export function failureIssue(job: Job, context: RunContext, consoles: readonly ConsoleTail[] = []): IssueText {
  const phase = job.phase;
  const reason = phase.state === "failed" ? phase.reason : `not failed (${phase.state})`;
  const states: readonly JobState[] = ["assigned", "downloading", "booting", "failed"];
  const body = [
    `\`${job.name}\` from ${originOf(context)} failed: ${reason}.`,
    "",
    `Server: ${serverOf(job)}`,
    ...states.filter((s) => job.entered[s] !== undefined).map((s) => `- ${s}: ${time(job.entered[s])}`),
    ...attemptLines(job),
  ].join("\n");
  const footer = ["---", "Filed by dispatch (`--file-failures`).", filingMarker(job, context, "failure")].join("\n");
  const blocks = consoleBlocks(consoles, issueBodyLimit - body.length - footer.length - 4);
  return { title: `${job.name} failed: ${reason}`.slice(0, 256), body: [body, ...(blocks ? [blocks] : []), footer].join("\n\n"), cut: false };
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
