import type { FilingFailure } from "../core/filing.ts";
import type { RunContext } from "../core/issue.ts";
import type { FiledIssue, Job } from "../core/job.ts";
import type { Workload } from "../core/workload.ts";

/**
 * Where the queue comes from: a GitHub release (sources/release.ts). The reducer, the routes
 * and the views see only workloads and this port, never which source is plugged in.
 */
export type WorkloadSource = {
  /** The source as people read it, for start lines, views and the mDNS description. */
  readonly label: string;
  /** What issues and the journal name the run by; a journal is only resumed by the same one. */
  readonly context: RunContext;
  /** The queue, in order. */
  readonly workloads: readonly Workload[];
  /** Folder names under the user's state directory for this source's journal (when --state is not given). */
  readonly stateKey: readonly string[];
  /** The workload's bytes, with a validated single `bytes=a-b` range forwarded. */
  open(workload: Workload, range: string | undefined, signal: AbortSignal): Promise<Response>;
};

/** Where reports (and, with --file-failures, failures) go: GitHub issues (sinks/issues.ts). */
export type ReportSink = {
  readonly label: string;
  /**
   * Before the first server boots: throws (exit 2, saying what to fix) when no report could
   * ever be filed; warns and resolves when that cannot be known now.
   */
  check(): Promise<void>;
  /** Files the job's report or failure; with `lookFirst`, returns what an earlier attempt filed, if it did. */
  file(job: Job, options: { readonly lookFirst: boolean }): Promise<FiledIssue>;
  /**
   * Adds a job's second report (`extras[index]`) to its filed issue: a comment, or a section of
   * its report file. With `lookFirst`, returns what an earlier attempt added, if it did.
   */
  addExtra(job: Job, index: number, options: { readonly lookFirst: boolean }): Promise<FiledIssue>;
  /** What a failed `file` says about the next attempt. */
  /** `doing` names what failed, for the message (by default: filing the issue). */
  classify(error: unknown, now: number, doing?: string): FilingFailure;
};
