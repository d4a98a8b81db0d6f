import type { Job } from "./job.ts";
import type { Report } from "./report.ts";

/** Where a run happened, for the footer of the issue it files. */
export type RunContext = { readonly repository: string; readonly release: string };

/** The body of the filed issue: the workload's own text, then a footer with the run's facts. */
export function issueBody(report: Report, job: Job, context: RunContext): string {
  const ip = "ip" in job.phase ? job.phase.ip : "unknown";
  const time = (t: number | undefined) => (t === undefined ? "unknown" : new Date(t).toISOString());
  const footer = [
    "---",
    `Filed by dispatch for \`${job.workload.name}\` from release \`${context.release}\` of ${context.repository}.`,
    `Server ${ip}; booted ${time(job.entered.booting)}; reported ${time(job.entered.reported)}.`,
  ].join("\n");
  return report.body ? `${report.body}\n\n${footer}` : footer;
}
