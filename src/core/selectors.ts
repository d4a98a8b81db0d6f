import type { Attempt, DispatchState, Job, JobState } from "./job.ts";
import { type Report, sameReport } from "./report.ts";
import { coversAll } from "./spans.ts";

/** States in which a job belongs to a server: it asked for it and has not reported yet. */
const heldStates: ReadonlySet<JobState> = new Set(["assigned", "downloading", "booting"]);

/** The job this server holds, if any. The reducer keeps this to at most one per address. */
export function heldBy(state: DispatchState, ip: string): Job | undefined {
  return state.jobs.find((job) => heldStates.has(job.phase.state) && "ip" in job.phase && job.phase.ip === ip);
}

/** The name a server goes by in placements: its lab file name, else its address. */
export function hostOf(state: DispatchState, ip: string): string {
  return state.hosts?.[ip] ?? state.lab?.servers.find((s) => s.ip === ip)?.name ?? ip;
}

/** The job's rule lets the server at this address run it. */
export function mayRun(state: DispatchState, job: Job, ip: string): boolean {
  const allowed = job.placement?.servers;
  return allowed === undefined || allowed.includes(hostOf(state, ip));
}

/** The job's rule lets the server of this name (lab file name, or address) run it. */
export function mayRunOn(job: Job, server: string): boolean {
  const allowed = job.placement?.servers;
  return allowed === undefined || allowed.includes(server);
}

/** The server holding this job has every byte of it. */
export function downloaded(job: Job): boolean {
  return job.phase.state === "downloading" && coversAll(job.phase.received, job.workload.size);
}

/** Each job this server was handed, with its latest attempt there, newest first. */
export function attemptsBy(state: DispatchState, ip: string): { readonly job: Job; readonly attempt: Attempt }[] {
  const found: { job: Job; attempt: Attempt }[] = [];
  for (const job of state.jobs) {
    const attempt = job.attempts.findLast((a) => a.ip === ip);
    if (attempt) found.push({ job, attempt });
  }
  return found.sort((a, b) => b.attempt.n - a.attempt.n);
}

/**
 * The job a `beacon boot` or `beacon report` from this server is about: the last one it ran (had
 * whole, or booted), whatever became of it since. A job handed out after that one but not yet
 * downloaded whole is the next one the server asked for, not what is running (it asked the boot
 * URL again mid-run); once that next one is whole or booted, it is the one.
 */
export function lastRunBy(state: DispatchState, ip: string): Job | undefined {
  const mine = attemptsBy(state, ip);
  const ran = mine.find(({ job, attempt }) => attempt.bootedAt !== undefined || attempt.downloadedAt !== undefined || downloaded(job));
  return (ran ?? mine[0])?.job;
}

/** The same report sent again, as the job's report or as one of its extras. */
export function knownReport(job: Job, report: Report): boolean {
  const phase = job.phase;
  if (phase.state !== "reported" && phase.state !== "finished") return false;
  return sameReport(phase.report, report) || (phase.extras ?? []).some((extra) => sameReport(extra.report, report));
}

/** A job's second reports that wait to be filed as comments on its issue (which must exist first). */
export function pendingExtras(job: Job): number[] {
  const phase = job.phase;
  if (phase.state !== "finished" || !phase.extras) return [];
  return phase.extras.flatMap((extra, i) => (extra.filed ? [] : [i]));
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
  return isDone(state) && !state.jobs.some((job) => needsIssue(job, fileFailures) || pendingExtras(job).length > 0);
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
  return state.jobs.every(ended) && state.jobs.every((job) => (!needsIssue(job, fileFailures) || filingRefused(job)) && pendingExtras(job).length === refusedExtras(job).length);
}

/** A finished job's second reports that GitHub refused to add for good (issues turned off since, the token's rights taken away). */
export function refusedExtras(job: Job): number[] {
  const phase = job.phase;
  if (phase.state !== "finished" || !phase.extras) return [];
  return phase.extras.flatMap((extra, i) => (!extra.filed && extra.refused ? [i] : []));
}
