import type { DispatchState, FiledIssue, Job, JobState, Time } from "./job.ts";
import type { Report } from "./report.ts";

/**
 * What a job came to, read as a test result. A report is a result, not a pass: it fails when it
 * carries a label named by `--fail-label`.
 * - passed: its report came, without a failing label;
 * - failed: it ran (booted) and failed, or its report carries a failing label;
 * - never-run: it failed before any server booted it (no server could run it);
 * - pending: not settled yet.
 */
export type Verdict = "passed" | "failed" | "never-run" | "pending";

/** One job in the run's summary: a row of the table, a test case of the JUnit file. */
export type SummaryRow = {
  /** The job's name: its workload's, or `WORKLOAD@SERVER` for one of a workload run on every matching server. */
  readonly job: string;
  /** The workload it runs: the jobs of one `each` workload share it, and the summary groups them by it. */
  readonly workload: string;
  /** The server that holds or held it. */
  readonly server?: string;
  readonly state: JobState;
  readonly verdict: Verdict;
  /** Why it failed: the job's reason, or the failing labels its report carries. */
  readonly reason?: string;
  /** The report's labels that `--fail-label` names, as the report spelt them. */
  readonly failingLabels: readonly string[];
  /** When its run began (booted; else its download, else its assignment) and ended (reported, else failed). */
  readonly startedAt?: Time;
  readonly endedAt?: Time;
  readonly durationMs?: number;
  /** Its report's issue (or file), else its failure's. */
  readonly issue?: FiledIssue;
  /** How many times it was tried, where the run counts attempts. */
  readonly attempts?: number;
  readonly report?: Report;
};

export type Tally = {
  readonly total: number;
  readonly passed: number;
  /** Failed jobs that ran, and reports with a failing label. */
  readonly failed: number;
  /** Of `failed`: reports that failed by their label. */
  readonly labelled: number;
  readonly neverRun: number;
  readonly pending: number;
};

/** The table of every job, in queue order. */
export function summaryRows(state: DispatchState, failLabels: readonly string[]): SummaryRow[] {
  const failing = new Set(failLabels.map((label) => label.toLowerCase()));
  return state.jobs.map((job) => summaryRow(job, failing));
}

function summaryRow(job: Job, failing: ReadonlySet<string>): SummaryRow {
  const phase = job.phase;
  const startedAt = job.entered.booting ?? job.entered.downloading ?? job.entered.assigned;
  const base = {
    job: job.name,
    workload: job.workload.name,
    ...("ip" in phase && phase.ip !== undefined && { server: phase.ip }),
    state: phase.state,
    ...(startedAt !== undefined && { startedAt }),
    ...attemptsOf(job),
  };
  switch (phase.state) {
    case "reported":
    case "finished": {
      const endedAt = job.entered.reported;
      // GitHub compares label names without case; so does the verdict.
      const failingLabels = (phase.report.labels ?? []).filter((label) => failing.has(label.toLowerCase()));
      const issue = phase.state === "finished" ? phase.issue : undefined;
      return {
        ...base,
        verdict: failingLabels.length > 0 ? "failed" : "passed",
        ...(failingLabels.length > 0 && { reason: `the report carries the label${failingLabels.length > 1 ? "s" : ""} ${failingLabels.join(", ")}` }),
        failingLabels,
        ...timeSpan(startedAt, endedAt),
        ...(issue && { issue }),
        report: phase.report,
      };
    }
    case "failed":
      return {
        ...base,
        verdict: job.entered.booting === undefined ? "never-run" : "failed",
        reason: phase.reason,
        failingLabels: [],
        ...timeSpan(startedAt, job.entered.failed),
        ...(phase.issue && { issue: phase.issue }),
      };
    case "unassigned":
    case "assigned":
    case "downloading":
    case "booting":
      return { ...base, verdict: "pending", failingLabels: [] };
    default:
      return phase satisfies never;
  }
}

function timeSpan(startedAt: Time | undefined, endedAt: Time | undefined): { endedAt?: Time; durationMs?: number } {
  if (endedAt === undefined) return {};
  return { endedAt, ...(startedAt !== undefined && { durationMs: Math.max(0, endedAt - startedAt) }) };
}

/** How many servers had a go at the job, where it was tried more than once (a lab run retries it elsewhere). */
function attemptsOf(job: Job): { attempts?: number } {
  return job.attempts.length > 1 ? { attempts: job.attempts.length } : {};
}

export function tally(rows: readonly SummaryRow[]): Tally {
  const count = (verdict: Verdict) => rows.filter((row) => row.verdict === verdict).length;
  return {
    total: rows.length,
    passed: count("passed"),
    failed: count("failed"),
    labelled: rows.filter((row) => row.failingLabels.length > 0).length,
    neverRun: count("never-run"),
    pending: count("pending"),
  };
}
