import type { PlanInput } from "../core/job.ts";
import type { Log } from "../core/log.ts";
import { type JobPlan, planJobs } from "../core/placement.ts";
import type { Workload } from "../core/workload.ts";
import type { OpenedLab } from "./lab.ts";

/**
 * Which server runs what, from the lab file's rules and the assets' labels, with a line for each
 * workload that is placed and a warning for each that no server can run. Undefined when nothing
 * places anything: every job runs anywhere, as without rules.
 */
export function planRun(workloads: readonly Workload[], lab: OpenedLab | undefined, log: Log): PlanInput | undefined {
  const jobs = planJobs(workloads, lab?.placement.rules ?? [], lab?.placement.servers ?? []);
  const placed = jobs.filter((job) => job.servers !== undefined || job.limits !== undefined || job.name !== job.workload);
  if (placed.length === 0) return undefined;
  const byWorkload = new Map<string, JobPlan[]>();
  for (const job of placed) byWorkload.set(job.workload, [...(byWorkload.get(job.workload) ?? []), job]);
  for (const [workload, group] of byWorkload) {
    const first = group[0]!;
    if (first.impossible !== undefined) continue;
    const where = group.length > 1 || first.name !== workload ? `one job on each of ${group.flatMap((j) => j.servers ?? []).join(", ")}` : first.servers ? `on ${first.servers.join(", ")}` : "on any server";
    log.info(`  📍 ${workload}: ${where}${limitsText(first)} (${first.rule})`);
  }
  const impossible = jobs.filter((job) => job.impossible !== undefined);
  if (impossible.length > 0) {
    log.warn(`no server can run ${impossible.length === 1 ? "this workload" : `these ${impossible.length} workloads`}; ${impossible.length === 1 ? "it fails" : "they fail"} at once:`);
    for (const job of impossible) log.warn(`  ❌ ${job.workload}: ${job.impossible}`);
  }
  const hosts = Object.fromEntries((lab?.placement.servers ?? []).flatMap((s) => (s.ip === undefined ? [] : [[s.ip, s.name]])));
  return { jobs: jobs.map(({ rule: _, ...job }) => job), hosts };
}

function limitsText(job: JobPlan): string {
  const l = job.limits;
  if (!l) return "";
  const parts = [l.runMs !== undefined && `run timeout ${l.runMs / 1000}s`, l.downloadMs !== undefined && `download timeout ${l.downloadMs / 1000}s`, l.retries !== undefined && `${l.retries} retries`];
  return `, ${parts.filter(Boolean).join(", ")}`;
}
