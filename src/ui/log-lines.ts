import { formatDuration } from "../core/duration.ts";
import type { Job } from "../core/job.ts";
import type { Change } from "../core/store.ts";
import { formatBytes } from "./bytes.ts";
import { stateEmoji } from "./emoji.ts";

/** The person-readable lines a change deserves: one per job that changed state. */
export function logLines({ event, before, after }: Change): string[] {
  if (before === after) return [];
  const lines: string[] = [];
  after.jobs.forEach((job, i) => {
    const previous = before.jobs[i]!;
    if (previous.phase.state !== job.phase.state) lines.push(describe(job, previous, event.type === "tick" ? before.timeouts.downloadMs : undefined));
    else if (event.type === "filing-failed" && job.phase.state === "reported" && event.name === job.workload.name) {
      lines.push(`${stateEmoji.reported} ${job.workload.name}: filing the issue failed, will retry: ${event.error}`);
    }
  });
  return lines;
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
