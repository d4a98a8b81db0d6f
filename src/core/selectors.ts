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

/** A server may `beacon report` only while its job is booting. */
export function canReport(job: Job | undefined): boolean {
  return job?.phase.state === "booting";
}

export function jobNamed(state: DispatchState, name: string): Job | undefined {
  return state.jobs.find((job) => job.workload.name === name);
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
