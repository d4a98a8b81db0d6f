import type { DispatchState, Job, JobState } from "../core/job.ts";
import { countByState } from "../core/selectors.ts";

/** One job as the JSON API and the status page show it. */
export type JobView = {
  name: string;
  state: JobState;
  ip: string | null;
  size: number;
  type: string;
  bytes: number | null;
  reason: string | null;
  error: string | null;
  issue: { number: number; url: string } | null;
  /** ISO times at which the job last entered each state. */
  times: Partial<Record<JobState, string>>;
};

export type StatusView = { jobs: JobView[]; counts: Record<JobState, number> };

export function jobView(job: Job): JobView {
  const phase = job.phase;
  return {
    name: job.workload.name,
    state: phase.state,
    ip: "ip" in phase ? (phase.ip ?? null) : null,
    size: job.workload.size,
    type: job.workload.bootType,
    bytes: phase.state === "downloading" ? phase.bytes : null,
    reason: phase.state === "failed" ? phase.reason : null,
    error: phase.state === "reported" || phase.state === "failed" ? (phase.lastError ?? null) : null,
    issue: phase.state === "finished" || phase.state === "failed" ? (phase.issue ?? null) : null,
    times: Object.fromEntries(Object.entries(job.entered).map(([state, at]) => [state, new Date(at).toISOString()])),
  };
}

export function statusView(state: DispatchState): StatusView {
  return { jobs: state.jobs.map(jobView), counts: countByState(state) };
}
