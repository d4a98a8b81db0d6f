import { formatDuration } from "../core/duration.ts";
import { lateWhen } from "../core/issue.ts";
import type { Job } from "../core/job.ts";
import type { Change } from "../core/store.ts";
import { formatBytes } from "../status/bytes.ts";
import { stateEmoji } from "../status/wording.ts";
import { labEntries } from "./lab-lines.ts";
import type { LogEntry } from "./log-entry.ts";

export type { LogEntry } from "./log-entry.ts";

/** The person-readable lines a change deserves: one per job that changed state. */
export function logLines(change: Change): string[] {
  return logEntries(change).map((entry) => entry.message);
}

/** The same lines as `logLines`, each with its job's facts. */
export function logEntries({ event, before, after, outcome }: Change): LogEntry[] {
  if (outcome.kind === "not-mine" && (event.type === "booted" || event.type === "reported")) {
    const call = event.type === "booted" ? "boot" : "report";
    return [{ message: `⚠️ ${call} from ${event.ip} refused: ${outcome.reason}`, fields: { ip: event.ip, reason: outcome.reason } }];
  }
  if (outcome.kind === "report-accepted" && outcome.extra && event.type === "reported") {
    const name = outcome.job.name;
    return [{ message: `📝 ${name}: a second report from ${event.ip}, "${event.report.title}": it goes onto the job's issue`, fields: fieldsOf(outcome.job) }];
  }
  if (before === after) return [];
  const entries: LogEntry[] = [];
  entries.push(...labEntries({ event, before, after, outcome }));
  after.jobs.forEach((job, i) => {
    const previous = before.jobs[i]!;
    const name = job.name;
    if (previous.phase.state !== job.phase.state) {
      entries.push({ message: describe(job, previous, freedBecause(event, before)), fields: fieldsOf(job) });
    } else if (event.type === "filing-failed" && event.name === name && (job.phase.state === "reported" || job.phase.state === "failed")) {
      entries.push({
        message: `${stateEmoji[job.phase.state]} ${name}: filing the issue failed, will retry: ${event.error}`,
        fields: { ...fieldsOf(job), error: event.error },
      });
    } else if (event.type === "extra-failed" && event.name === name && job.phase.state === "finished") {
      entries.push({
        message: `${stateEmoji.finished} ${name}: adding the second report to its issue failed, will retry: ${event.error}`,
        fields: { ...fieldsOf(job), error: event.error },
      });
    } else if (event.type === "extra-filed" && event.name === name && job.phase.state === "finished") {
      const filed = job.phase.extras?.[event.index]?.filed;
      if (filed) entries.push({ message: `${stateEmoji.finished} ${name}: second report added: ${filed.url}`, fields: { ...fieldsOf(job), issue: filed.url } });
    } else if (event.type === "issue-filed" && event.name === name && job.phase.state === "failed" && job.phase.issue) {
      entries.push({ message: `${stateEmoji.failed} ${name}: failure filed: ${job.phase.issue.url}`, fields: { ...fieldsOf(job), issue: job.phase.issue.url } });
    }
  });
  return entries;
}

function fieldsOf(job: Job): LogEntry["fields"] {
  const phase = job.phase;
  return {
    job: job.name,
    state: phase.state,
    ...("ip" in phase && phase.ip !== undefined && { ip: phase.ip }),
    ...(phase.state === "failed" && { reason: phase.reason }),
    ...(phase.state === "finished" && { issue: phase.issue.url }),
  };
}

/** Why a job went back to the queue, for its log line. */
function freedBecause(event: Change["event"], before: Change["before"]): string {
  switch (event.type) {
    case "tick":
      return ` after ${formatDuration(before.timeouts.downloadMs)} without activity`;
    case "download-ended":
      return event.error ? ` because its source could not deliver it (${event.error})` : "";
    case "restarted":
      return " (its download was cut when dispatch stopped)";
    default:
      return "";
  }
}

function describe(job: Job, previous: Job, freedBecause: string): string {
  const name = job.name;
  const phase = job.phase;
  const emoji = stateEmoji[phase.state];
  switch (phase.state) {
    case "unassigned": {
      const ip = "ip" in previous.phase ? previous.phase.ip : "its server";
      return `${emoji} ${name} freed from ${ip}${freedBecause}: back in the queue`;
    }
    case "assigned":
      return `${emoji} ${name} assigned to ${phase.ip}`;
    case "downloading":
      return `${emoji} ${name} downloading to ${phase.ip} (${formatBytes(job.workload.size)}, ${job.workload.bootType})`;
    case "booting":
      return `${emoji} ${name} booting on ${phase.ip}`;
    case "reported":
      return `${emoji} ${name} reported by ${phase.ip}: "${phase.report.title}"${phase.late ? ` (${lateWhen(phase.late)}: filed all the same)` : ""}`;
    case "finished":
      return `${emoji} ${name} finished: ${phase.issue.url}`;
    case "failed":
      return `${emoji} ${name} failed${phase.ip ? ` on ${phase.ip}` : ""}: ${phase.reason}`;
    default:
      return phase satisfies never;
  }
}
