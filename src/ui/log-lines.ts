import { formatDuration } from "../core/duration.ts";
import type { Job, JobState } from "../core/job.ts";
import type { Change } from "../core/store.ts";
import { formatBytes } from "./bytes.ts";
import { stateEmoji } from "./emoji.ts";

/** A log line with the facts behind it, for log collectors (`--log-format json`). */
export type LogEntry = {
  readonly message: string;
  readonly fields: {
    readonly job: string;
    readonly state: JobState;
    readonly ip?: string;
    readonly reason?: string;
    readonly error?: string;
    readonly issue?: string;
  };
};

/** The person-readable lines a change deserves: one per job that changed state. */
export function logLines(change: Change): string[] {
  return logEntries(change).map((entry) => entry.message);
}

/** The same lines as `logLines`, each with its job's facts. */
export function logEntries({ event, before, after }: Change): LogEntry[] {
  if (before === after) return [];
  const entries: LogEntry[] = [];
  after.jobs.forEach((job, i) => {
    const previous = before.jobs[i]!;
    if (previous.phase.state !== job.phase.state) {
      entries.push({ message: describe(job, previous, event.type === "tick" ? before.timeouts.downloadMs : undefined), fields: fieldsOf(job) });
    } else if (event.type === "filing-failed" && job.phase.state === "reported" && event.name === job.workload.name) {
      entries.push({
        message: `${stateEmoji.reported} ${job.workload.name}: filing the issue failed, will retry: ${event.error}`,
        fields: { ...fieldsOf(job), error: event.error },
      });
    }
  });
  return entries;
}

function fieldsOf(job: Job): LogEntry["fields"] {
  const phase = job.phase;
  return {
    job: job.workload.name,
    state: phase.state,
    ...("ip" in phase && phase.ip !== undefined && { ip: phase.ip }),
    ...(phase.state === "failed" && { reason: phase.reason }),
    ...(phase.state === "finished" && { issue: phase.issue.url }),
  };
}

function describe(job: Job, previous: Job, freedAfterMs: number | undefined): string {
  const name = job.workload.name;
  const phase = job.phase;
  const emoji = stateEmoji[phase.state];
  switch (phase.state) {
    case "unassigned": {
      const ip = "ip" in previous.phase ? previous.phase.ip : "its server";
      const quiet = freedAfterMs === undefined ? "" : ` after ${formatDuration(freedAfterMs)} without activity`;
      return `${emoji} ${name} freed from ${ip}${quiet}: back in the queue`;
    }
    case "assigned":
      return `${emoji} ${name} assigned to ${phase.ip}`;
    case "downloading":
      return `${emoji} ${name} downloading to ${phase.ip} (${formatBytes(job.workload.size)}, ${job.workload.bootType})`;
    case "booting":
      return `${emoji} ${name} booting on ${phase.ip}`;
    case "reported":
      return `${emoji} ${name} reported by ${phase.ip}: "${phase.report.title}"`;
    case "finished":
      return `${emoji} ${name} finished: ${phase.issue.url}`;
    case "failed":
      return `${emoji} ${name} failed${phase.ip ? ` on ${phase.ip}` : ""}: ${phase.reason}`;
    default:
      return phase satisfies never;
  }
}
