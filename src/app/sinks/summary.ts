import { basename, dirname, join, resolve } from "node:path";
import type { RunContext } from "../../core/issue.ts";
import type { FiledIssue } from "../../core/job.ts";
import type { Log } from "../../core/log.ts";
import { isSettledOrRefused } from "../../core/selectors.ts";
import type { Store } from "../../core/store.ts";
import { type SummaryRow, summaryRows, tally } from "../../core/summary.ts";
import { type SummaryIssueApi, summaryMarker } from "../../github/summary-issue.ts";
import type { Files } from "../../runtime/types.ts";
import { type LinkIssue, type SummaryPage, linkInRepository, summaryMarkdown, summaryTitle } from "../../status/summary-markdown.ts";
import { UsageError } from "../errors.ts";
import { actionsOutputLines, appendTo } from "./summary-actions.ts";
import { type SummaryIssue, startSummaryIssue } from "./summary-issue.ts";
import { replaceFile, rewriter } from "./replace-file.ts";

export type SummaryDeps = {
  readonly store: Store;
  readonly files: Files;
  readonly env: (name: string) => string | undefined;
  readonly log: Log;
  readonly now: () => number;
  readonly source: { readonly label: string; readonly context: RunContext };
  /** This run's name (its journal's `created`) and whether it was resumed. */
  readonly run: { readonly started: string; readonly resumed: boolean };
  readonly fileFailures: boolean;
  readonly failLabels: readonly string[];
  readonly stateDir: string;
  readonly version: string;
  readonly hostname?: string;
  /** `--junit FILE` */
  readonly junit?: string;
  /** `--reports DIR`: `SUMMARY.md` goes there. */
  readonly reportsDir?: string;
  /** `--summary-issue`: where it is filed, and its pacing. */
  readonly issue?: { readonly api: SummaryIssueApi; readonly batchMs: number; readonly spacingMs: number; readonly retryDelayMs?: (attempt: number) => number };
};

export type Summaries = {
  /** The summary issue's address, once it exists. */
  issueUrl(): string | undefined;
  /** The rows as they are now. */
  rows(): SummaryRow[];
  /**
   * At exit, whatever ended the run: the JUnit file and `SUMMARY.md` complete, the summary
   * issue's last edit (bounded), then GitHub Actions' step summary and outputs.
   */
  finish(): Promise<void>;
  stop(): void;
};

/**
 * The run's summary, kept current in every place asked for: `SUMMARY.md` in the reports folder,
 * the JUnit file, the summary issue; and at exit, GitHub Actions' step summary and outputs.
 * The files are replaced whole (never half-written) each time a job changes state; the issue
 * is edited in batches. Throws a usage error when a file cannot be written at start.
 */
export async function attachSummaries(deps: SummaryDeps): Promise<Summaries> {
  const { store, files, log } = deps;
  const startedAt = Date.parse(deps.run.started);
  const settled = () => isSettledOrRefused(store.state, deps.fileFailures);
  const rows = () => summaryRows(store.state, deps.failLabels);
  let changedAt = deps.now();
  let final = false;
  const page = (extra: Partial<SummaryPage> = {}): SummaryPage => {
    const over = settled();
    return { source: deps.source.label, startedAt, updatedAt: changedAt, rows: rows(), settled: over, ...(final && !over && { stopped: true }), ...extra };
  };

  const warned = new Set<string>();
  const warnOnce = (line: string) => {
    if (!warned.has(line)) log.warn(line);
    warned.add(line);
  };

  let summaryIssue: SummaryIssue | undefined;
  const writers: { poke(): void; flush(): Promise<void> }[] = [];
  const junitPath = deps.junit === undefined ? undefined : resolve(deps.junit);
  if (junitPath !== undefined) {
    const { junitXml } = await import("../../junit/junit-xml.ts");
    const write = () =>
      replaceFile(
        files,
        junitPath,
        junitXml({
          source: deps.source.label,
          startedAt,
          now: deps.now(),
          rows: rows(),
          final,
          properties: [
            ["repository", deps.source.context.repository],
            ["release", deps.source.context.release],
            ["dispatch", deps.version],
            ...(summaryIssue?.url() ? [["summary-issue", summaryIssue.url()!] as const] : []),
          ],
          ...(deps.hostname && { hostname: deps.hostname }),
        }),
      );
    await write().catch((error: unknown) => {
      throw new UsageError(`--junit ${deps.junit}: cannot write the file there (${(error as Error).message}). Give a path in a folder dispatch may write to.`);
    });
    writers.push(rewriter(write, (error) => warnOnce(`--junit ${junitPath}: writing failed (${(error as Error).message}); the next change tries again`)));
  }

  const reportsDir = deps.reportsDir === undefined ? undefined : resolve(deps.reportsDir);
  if (reportsDir !== undefined) {
    const path = join(reportsDir, "SUMMARY.md");
    // The report files sit beside SUMMARY.md: link them by name.
    const link: LinkIssue = (issue) =>
      issue.number !== undefined ? `[#${issue.number}](${issue.url})` : dirname(issue.url) === reportsDir ? `[${basename(issue.url)}](${encodeURI(basename(issue.url))})` : `\`${issue.url}\``;
    const write = () => replaceFile(files, path, summaryMarkdown(page(), link));
    writers.push(rewriter(write, (error) => warnOnce(`${path}: writing failed (${(error as Error).message}); the next change tries again`)));
  }

  if (deps.issue) {
    const marker = summaryMarker(deps.source.context.repository, deps.source.context.release, deps.run.started);
    summaryIssue = startSummaryIssue({
      api: deps.issue.api,
      log,
      now: deps.now,
      files,
      stateDir: deps.stateDir,
      title: summaryTitle(deps.source.label, startedAt),
      marker,
      run: deps.run.started,
      resumed: deps.run.resumed,
      render: (previous?: FiledIssue) => ({ body: summaryMarkdown(page({ ...(previous && { previous }), hidden: [marker] }), linkInRepository), settled: settled() }),
      batchMs: deps.issue.batchMs,
      spacingMs: deps.issue.spacingMs,
      ...(deps.issue.retryDelayMs && { retryDelayMs: deps.issue.retryDelayMs }),
    });
  }

  // What the summary shows of each job; download progress and the like change nothing here.
  const keyOf = () => JSON.stringify([settled(), rows().map((r) => [r.state, r.verdict, r.server, r.issue?.url, r.attempts, r.reason])]);
  let key = keyOf();
  for (const writer of writers) writer.poke();
  const unsubscribe = store.subscribe(({ before, after }) => {
    if (before === after) return;
    const next = keyOf();
    if (next === key) return;
    key = next;
    changedAt = deps.now();
    for (const writer of writers) writer.poke();
    summaryIssue?.changed();
  });

  let finishing: Promise<void> | undefined;
  return {
    issueUrl: () => summaryIssue?.url(),
    rows,
    finish() {
      finishing ??= (async () => {
        unsubscribe();
        final = true;
        if (!settled()) changedAt = deps.now();
        await summaryIssue?.finish(10_000);
        for (const writer of writers) writer.poke();
        await Promise.all(writers.map((writer) => writer.flush()));
        await actionsAtExit(deps, rows(), summaryIssue?.url(), junitPath, page).catch((error: unknown) =>
          log.warn(`GitHub Actions: writing the step summary or outputs failed (${(error as Error).message})`),
        );
      })();
      return finishing;
    },
    stop() {
      unsubscribe();
      summaryIssue?.stop();
    },
  };
}

/** `$GITHUB_STEP_SUMMARY` gets the table; `$GITHUB_OUTPUT` the counts, the summary issue and the JUnit file. */
async function actionsAtExit(deps: SummaryDeps, rows: readonly SummaryRow[], issueUrl: string | undefined, junit: string | undefined, page: () => SummaryPage) {
  const stepSummary = deps.env("GITHUB_STEP_SUMMARY");
  const output = deps.env("GITHUB_OUTPUT");
  if (stepSummary) {
    const link: LinkIssue = (issue) => (issue.number !== undefined ? `[#${issue.number}](${issue.url})` : `\`${issue.url}\``);
    const text = summaryMarkdown(page(), link);
    await appendTo(deps.files, stepSummary, `${text}${issueUrl ? `\nSummary issue: ${issueUrl}\n` : ""}\n`);
  }
  if (output) {
    const counts = tally(rows);
    const lines = actionsOutputLines({
      finished: String(counts.passed),
      failed: String(counts.failed + counts.neverRun),
      "summary-url": issueUrl ?? "",
      junit: junit ?? "",
    });
    await appendTo(deps.files, output, lines);
  }
}
