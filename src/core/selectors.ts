import type { DispatchState, Job, JobState } from "./job.ts";
import { coversAll } from "./spans.ts";

/** States in which a job belongs to a server: it asked for it and has not reported yet. */
const heldStates: ReadonlySet<JobState> = new Set(["assigned", "downloading", "booting"]);

/** The job this server holds, if any. The reducer keeps this to at most one per address. */
export function heldBy(state: DispatchState, ip: string): Job | undefined {
  return state.jobs.find((job) => heldStates.has(job.phase.state) && "ip" in job.phase && job.phase.ip === ip);
}

/** The server holding this job has every byte of it. */
export function downloaded(job: Job): boolean {
  return job.phase.state === "downloading" && coversAll(job.phase.received, job.workload.size);
}

/** A server may `beacon boot` once it is downloading (or again, harmlessly, once booting). */
export function canBoot(job: Job | undefined): boolean {
  return job?.phase.state === "downloading" || job?.phase.state === "booting";
}

/** A job takes a report while it runs, or once the run timeout failed it (the run was longer than guessed). */
export function canReport(job: Job | undefined): boolean {
  const phase = job?.phase;
  return phase?.state === "booting" || (phase?.state === "failed" && phase.runTimeout === true);
}

/** The job this server booted last (whatever became of it since), if any. */
export function lastRunBy(state: DispatchState, ip: string): Job | undefined {
  let last: Job | undefined;
  for (const job of state.jobs) {
    const phase = job.phase;
    if (job.entered.booting === undefined || !("ip" in phase) || phase.ip !== ip) continue;
    if (!last || job.entered.booting > (last.entered.booting ?? 0)) last = job;
  }
  return last;
}

export function countByState(state: DispatchState): Record<JobState, number> {
  const counts: Record<JobState, number> = {
    unassigned: 0,
    assigned: 0,
    downloading: 0,
    booting: 0,
    reported: 0,
    finished: 0,
    failed: 0,
  };
  for (const job of state.jobs) counts[job.phase.state]++;
  return counts;
}

/** Every job has reached an end state: nothing left to boot, run or file. */
export function isDone(state: DispatchState): boolean {
  return state.jobs.every((job) => job.phase.state === "finished" || job.phase.state === "failed");
}

/**
 * The job wants an issue filed: its report, or (when failures are filed) its failure. Until
 * then it is not settled, whatever its state.
 */
export function needsIssue(job: Job, fileFailures: boolean): boolean {
  return job.phase.state === "reported" || (fileFailures && job.phase.state === "failed" && !job.phase.issue);
}

/** Every job is finished or failed and nothing is left to file: a run can end here. */
export function isSettled(state: DispatchState, fileFailures: boolean): boolean {
  return isDone(state) && !state.jobs.some((job) => needsIssue(job, fileFailures));
}

/** GitHub refused the job's last filing for good (permissions, issues turned off). */
export function filingRefused(job: Job): boolean {
  return (job.phase.state === "reported" || job.phase.state === "failed") && job.phase.refused === true;
}

/**
 * Nothing is left that waiting could bring: every job is finished or failed, and each one
 * still to file is one GitHub refuses for good. `--exit-when-done` ends here too, with the
 * refused ones named, instead of retrying for ever.
 */
export function isSettledOrRefused(state: DispatchState, fileFailures: boolean): boolean {
  const ended = (job: Job) => job.phase.state === "finished" || job.phase.state === "failed" || (job.phase.state === "reported" && filingRefused(job));
  return state.jobs.every(ended) && state.jobs.every((job) => !needsIssue(job, fileFailures) || filingRefused(job));
}

/**
 * The job this server last reported, while its report is pending or filed: a `beacon report`
 * sent again (its answer was lost) is recognised instead of refused.
 */
export function lastReportBy(state: DispatchState, ip: string): Job | undefined {
  let last: Job | undefined;
  for (const job of state.jobs) {
    const phase = job.phase;
    if ((phase.state !== "reported" && phase.state !== "finished") || phase.ip !== ip) continue;
    if (!last || (job.entered.reported ?? 0) > (last.entered.reported ?? 0)) last = job;
  }
  return last;
}
