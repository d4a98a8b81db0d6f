import type { DispatchState, Job, JobState } from "../core/job.ts";
import { countByState, downloaded } from "../core/selectors.ts";
import { formatBytes } from "./bytes.ts";
import type { RefusalView } from "./refusals.ts";
import { type ConsoleLast, type ServerView, serverViews } from "./servers.ts";
import { stateDetail, stateEmoji } from "./wording.ts";

/** One job as the JSON API, the event stream, the status page and the terminal show it. */
export type JobView = {
  /** The job's name: its workload's, or `WORKLOAD@SERVER` for one run on every matching server. */
  name: string;
  /** The workload it runs. */
  workload: string;
  /** The servers it may run on (lab file names, or addresses), from its rule; null: any server. */
  servers: string[] | null;
  state: JobState;
  /** The state's sign and what the job is doing, worded once for every view. */
  emoji: string;
  detail: string;
  ip: string | null;
  size: number;
  type: string;
  /** Bytes sent to the server so far, while downloading. */
  bytes: number | null;
  /** Every byte has reached the server (downloading, waiting for `beacon boot`). */
  downloaded: boolean;
  /** Bytes per second over the last few seconds, while downloading; null until measurable. */
  rate: number | null;
  /** Size, bytes sent and rate as people read them ("1.5 MiB"), so every view writes them alike. */
  text: { size: string; bytes: string | null; rate: string | null };
  /** The report's title, once reported. */
  title: string | null;
  reason: string | null;
  /** Why filing the issue failed last, while it is being retried. */
  error: string | null;
  /** `number` is left out for a report file (`--reports`), whose `url` is its path. */
  issue: { number?: number; url: string } | null;
  /** ISO time of the last thing the server holding the job did with it. */
  seen: string | null;
  /** ISO times at which the job last entered each state. */
  times: Partial<Record<JobState, string>>;
};

/** Facts about the run beside the queue: where servers boot from, what is being served. */
export type RunInfo = {
  /** Where the workloads come from ("OWNER/REPO release TAG", "folder /path"). */
  readonly source: string;
  /** Where the reports go ("issues of OWNER/REPO", "report files in /path"). */
  readonly sink: string;
  readonly version: string;
  /** Empty until dispatch listens. */
  readonly bootUrls: readonly string[];
};

export type StatusView = {
  jobs: JobView[];
  counts: Record<JobState, number>;
  /** Each state's sign, for views that show counts of states no job is in. */
  emoji: Record<JobState, string>;
  /** ISO time the view was taken, so a page can show ages by the server's clock. */
  now?: string;
  run?: RunInfo;
  /** The last beacon calls answered 417 and why, newest last. */
  refused?: readonly RefusalView[];
  /** The lab's servers (`--lab`). */
  servers?: ServerView[];
};

/** What the view adds to the state: measurements made at the edge, never kept in the core. */
export type ViewExtras = {
  readonly now?: number;
  readonly rate?: (name: string, now: number) => number | undefined;
  readonly run?: RunInfo;
  readonly refused?: readonly RefusalView[];
  readonly consoleLast?: ConsoleLast;
};

const iso = (at: number) => new Date(at).toISOString();

export function jobView(job: Job, extras: ViewExtras = {}): JobView {
  const phase = job.phase;
  const rate = phase.state === "downloading" && extras.rate && extras.now !== undefined ? extras.rate(job.name, extras.now) : undefined;
  const facts = {
    state: phase.state,
    downloaded: downloaded(job),
    title: phase.state === "reported" || phase.state === "finished" ? phase.report.title : null,
    reason: phase.state === "failed" ? phase.reason : null,
    error: phase.state === "reported" || phase.state === "failed" ? (phase.lastError ?? null) : null,
    issue: phase.state === "finished" || phase.state === "failed" ? (phase.issue ?? null) : null,
    servers: job.placement?.servers ? [...job.placement.servers] : null,
  };
  return {
    name: job.name,
    workload: job.workload.name,
    ...facts,
    emoji: stateEmoji[phase.state],
    detail: stateDetail(facts),
    ip: "ip" in phase ? (phase.ip ?? null) : null,
    size: job.workload.size,
    type: job.workload.bootType,
    bytes: phase.state === "downloading" ? phase.bytes : null,
    rate: rate ?? null,
    text: {
      size: formatBytes(job.workload.size),
      bytes: phase.state === "downloading" ? formatBytes(phase.bytes) : null,
      rate: rate === undefined ? null : `${formatBytes(rate)}/s`,
    },
    seen: job.seen === undefined ? null : iso(job.seen),
    times: Object.fromEntries(Object.entries(job.entered).map(([state, at]) => [state, iso(at)])),
  };
}

export function statusView(state: DispatchState, extras: ViewExtras = {}): StatusView {
  return {
    jobs: state.jobs.map((job) => jobView(job, extras)),
    counts: countByState(state),
    emoji: stateEmoji,
    ...(extras.now !== undefined && { now: iso(extras.now) }),
    ...(extras.run && { run: extras.run }),
    ...(extras.refused && { refused: extras.refused }),
    ...(state.lab && { servers: serverViews(state, extras.consoleLast) }),
  };
}
