import type { Report } from "./report.ts";
import type { Span } from "./spans.ts";
import type { Workload } from "./workload.ts";

/** Milliseconds since the epoch. Time enters the core only as data carried by events. */
export type Time = number;

/** Where a report (or failure) was filed: a GitHub issue, or a file (`--reports`), which has no number. */
export type FiledIssue = { readonly number?: number; readonly url: string };

/** A report that came after `--run-timeout` had failed its job: the run went on longer than guessed. */
export type Late = {
  /** When the run timeout failed the job, and why (for the issue). */
  readonly failedAt: Time;
  readonly reason: string;
  /** The failure's own issue, when `--file-failures` had filed it before the report came. */
  readonly failureIssue?: FiledIssue;
};

/**
 * Where a job is in its life. Each state carries exactly the facts that are true in it, so a
 * job cannot be "booting" without a server, or "finished" without an issue.
 */
export type Phase =
  | { readonly state: "unassigned" }
  | { readonly state: "assigned"; readonly ip: string }
  | {
      readonly state: "downloading";
      readonly ip: string;
      /** Bytes sent to the server so far, over all its requests for this job. */
      readonly bytes: number;
      /** Which bytes have reached the server, over all its (Range) requests. */
      readonly received: readonly Span[];
    }
  | { readonly state: "booting"; readonly ip: string }
  | {
      readonly state: "reported";
      readonly ip: string;
      readonly report: Report;
      readonly late?: Late;
      /** Why the last attempt to file the issue failed, while it is being retried. */
      readonly lastError?: string;
      /** GitHub refused that attempt for good (permissions, issues turned off): see `lastError`. */
      readonly refused?: boolean;
    }
  | { readonly state: "finished"; readonly ip: string; readonly report: Report; readonly issue: FiledIssue; readonly late?: Late }
  | {
      readonly state: "failed";
      readonly ip?: string;
      readonly reason: string;
      /** Failed by `--run-timeout`: the server was still running it, so its report may yet come. */
      readonly runTimeout?: true;
      /** The issue that reports the failure, when failures are filed (`--file-failures`). */
      readonly issue?: FiledIssue;
      /** Why the last attempt to file that issue failed, while it is being retried. */
      readonly lastError?: string;
      /** GitHub refused that attempt for good (permissions, issues turned off): see `lastError`. */
      readonly refused?: boolean;
    };

export type JobState = Phase["state"];

export const jobStates = [
  "unassigned",
  "assigned",
  "downloading",
  "booting",
  "reported",
  "finished",
  "failed",
] as const satisfies readonly JobState[];

export type Job = {
  readonly workload: Workload;
  readonly phase: Phase;
  /** When the job last entered each state (boot and report times go into the issue). */
  readonly entered: Readonly<Partial<Record<JobState, Time>>>;
  /** Last time the server holding the job did anything with it; timeouts count from here. */
  readonly seen?: Time;
};

export type Timeouts = {
  /** Assigned or downloading without activity this long: the job is freed for another server. */
  readonly downloadMs: number;
  /** Booting without a report this long: the job fails. */
  readonly runMs: number;
};

export type DispatchState = {
  /** In queue order. */
  readonly jobs: readonly Job[];
  readonly timeouts: Timeouts;
};

export function initialState(workloads: readonly Workload[], timeouts: Timeouts): DispatchState {
  return { jobs: workloads.map((workload) => ({ workload, phase: { state: "unassigned" }, entered: {} })), timeouts };
}
