import type { LabState } from "./lab.ts";
import type { JobLimits, JobPlan } from "./placement.ts";
import type { Report } from "./report.ts";
import type { Span } from "./spans.ts";
import type { Time } from "./time.ts";
import type { Workload } from "./workload.ts";

export type { Time } from "./time.ts";

/** Where a report (or failure) was filed: a GitHub issue, or a file (`--reports`), which has no number. */
export type FiledIssue = { readonly number?: number; readonly url: string };

/**
 * A report that came after dispatch had failed its job (the run timeout, the download timeout, the
 * server asking the boot URL again mid-run): the report is proof the workload ran, so it is the result.
 */
export type Late = {
  /** When the job was failed, and why (for the issue). */
  readonly failedAt: Time;
  readonly reason: string;
  /** Failed by `--run-timeout`: the run went on longer than guessed. */
  readonly runTimeout?: true;
  /** The failure's own issue, when `--file-failures` had filed it before the report came. */
  readonly failureIssue?: FiledIssue;
};

/**
 * A second, different report from the same server for a job that already has one: kept, and filed
 * as a comment on the job's issue (a section of its file with `--reports`) once that issue exists.
 */
export type ExtraReport = {
  readonly at: Time;
  readonly report: Report;
  /** Where it was filed; unset while waiting for the job's issue or for GitHub. */
  readonly filed?: FiledIssue;
  /** Why the last attempt to file it failed. */
  readonly lastError?: string;
  /** GitHub refused that attempt for good (issues turned off since, permissions): see `lastError`. */
  readonly refused?: boolean;
};

/** One server's go at a job: handed out, and how far it got. */
export type Attempt = {
  /** Its place among every attempt of the run (clocks can step back; this cannot). */
  readonly n: number;
  readonly ip: string;
  /** When the server was handed the job (HEAD or GET). */
  readonly at: Time;
  /** When the server had every byte of it. */
  readonly downloadedAt?: Time;
  readonly bootedAt?: Time;
  /** When this attempt ended without a report of its own, and why. */
  readonly endedAt?: Time;
  readonly reason?: string;
  /**
   * It ended for no fault of the server's or the workload's (GitHub could not deliver, dispatch
   * restarted, the server reported another way): it uses up no retry and does not keep the job
   * from that server.
   */
  readonly excused?: true;
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
      readonly extras?: readonly ExtraReport[];
      /** Why the last attempt to file the issue failed, while it is being retried. */
      readonly lastError?: string;
      /** GitHub refused that attempt for good (permissions, issues turned off): see `lastError`. */
      readonly refused?: boolean;
    }
  | {
      readonly state: "finished";
      readonly ip: string;
      readonly report: Report;
      readonly issue: FiledIssue;
      readonly late?: Late;
      readonly extras?: readonly ExtraReport[];
    }
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

/** Where a job may run and its own limits, from the plan (see placement.ts). */
export type Placement = {
  /** The servers it may run on (lab file names; addresses for others); unset: any server. */
  readonly servers?: readonly string[];
  readonly limits?: JobLimits;
  /** No server can ever run it, and why. */
  readonly impossible?: string;
  /** Where the placement comes from ("lab.toml:12", "its label"). */
  readonly rule?: string;
};

export type Job = {
  /**
   * What names the job in events, views, issues and files: its workload's name, or
   * `WORKLOAD@SERVER` for a workload that runs once on every matching server (`each`).
   */
  readonly name: string;
  readonly workload: Workload;
  readonly placement?: Placement;
  readonly phase: Phase;
  /** When the job last entered each state (boot and report times go into the issue). */
  readonly entered: Readonly<Partial<Record<JobState, Time>>>;
  /** Last time the server holding the job did anything with it; timeouts count from here. */
  readonly seen?: Time;
  /** Every server's go at it, oldest first. */
  readonly attempts: readonly Attempt[];
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
  /** Attempts handed out so far (numbers the next one). */
  readonly attemptCount: number;
  /** The servers dispatch powers (`--lab`); absent without a lab file. */
  readonly lab?: LabState;
  /** The lab file's servers by address (address → name), so a job placed by name knows who asks. */
  readonly hosts?: Readonly<Record<string, string>>;
};

/** Which server runs what: the plan's jobs, and the lab file's servers by address. */
export type PlanInput = { readonly jobs: readonly JobPlan[]; readonly hosts: Readonly<Record<string, string>> };

/** One job per workload, or the plan's jobs when there is one (rules, `each`). */
export function initialState(workloads: readonly Workload[], timeouts: Timeouts, lab?: LabState, plan?: PlanInput): DispatchState {
  const byName = new Map(workloads.map((w) => [w.name, w]));
  const jobs: Job[] = plan
    ? plan.jobs.flatMap(({ name, workload, servers, limits, impossible, rule }) => {
        const w = byName.get(workload);
        if (!w) return [];
        const placement: Placement = { ...(servers && { servers }), ...(limits && { limits }), ...(impossible !== undefined && { impossible }), ...(rule !== undefined && { rule }) };
        return [{ name, workload: w, ...(Object.keys(placement).length > 0 && { placement }), phase: { state: "unassigned" }, entered: {}, attempts: [] }];
      })
    : workloads.map((workload) => ({ name: workload.name, workload, phase: { state: "unassigned" }, entered: {}, attempts: [] }));
  return {
    jobs,
    timeouts,
    attemptCount: 0,
    ...(lab && { lab }),
    ...(plan && Object.keys(plan.hosts).length > 0 && { hosts: plan.hosts }),
  };
}
