import { join } from "node:path";
import { type RunContext, failureIssue } from "../core/issue.ts";
import type { Job } from "../core/job.ts";
import type { Files } from "../runtime/types.ts";

/** Where a job's report text is kept on the dispatch host (the state folder's `reports/`). */
export function keptReportPath(stateDir: string, job: Job): string {
  const at = job.phase.state === "failed" ? job.entered.failed : job.entered.reported;
  return join(stateDir, "reports", `${encodeURIComponent(job.name)}.${at ?? 0}.md`);
}

/** A job GitHub refused to file for good, when the run ends without it. */
export type Unfiled = { readonly name: string; readonly reason: string; readonly keptAt: string };

/**
 * Writes the text of each job GitHub refused to file beside the journal, where a person can
 * read it; the journal keeps the report too, and the next start files it from there.
 */
export async function keepUnfiled(files: Files, stateDir: string, jobs: readonly Job[], context: RunContext): Promise<Unfiled[]> {
  const kept: Unfiled[] = [];
  for (const job of jobs) {
    const phase = job.phase;
    if (phase.state !== "reported" && phase.state !== "failed") continue;
    // A long body is already kept whole, streamed there as it arrived.
    if (phase.state === "reported" && phase.report.kept) {
      kept.push({ name: job.name, reason: phase.lastError ?? "GitHub refused it", keptAt: join(stateDir, phase.report.kept.file) });
      continue;
    }
    const keptAt = keptReportPath(stateDir, job);
    const { title, body } = phase.state === "reported" ? { title: phase.report.title, body: phase.report.body ?? "" } : failureIssue(job, context);
    try {
      await files.mkdirp(join(stateDir, "reports"));
      await files.writeDurably(keptAt, `# ${title}\n\n${body}\n`);
    } catch {
      // The journal still holds it; the message names the state folder either way.
    }
    kept.push({ name: job.name, reason: phase.lastError ?? "GitHub refused it", keptAt });
  }
  return kept;
}
