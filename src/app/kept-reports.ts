import { join } from "node:path";
import { type RunContext, failureIssue } from "../core/issue.ts";
import type { Job } from "../core/job.ts";
import { refusedExtras } from "../core/selectors.ts";
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
 * read it, and of each second report it refused to add to a job's issue (issues turned off
 * since, the token's rights taken away); the journal keeps them too, and the next start files them from there.
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
    await writeKept(files, stateDir, keptAt, phase.state === "reported" ? { title: phase.report.title, body: phase.report.body ?? "" } : failureIssue(job, context));
    kept.push({ name: job.name, reason: phase.lastError ?? "GitHub refused it", keptAt });
  }
  for (const job of jobs) {
    if (job.phase.state !== "finished") continue;
    for (const i of refusedExtras(job)) {
      const extra = job.phase.extras![i]!;
      const name = `${job.name} (second report ${i + 1})`;
      const reason = extra.lastError ?? "GitHub refused it";
      if (extra.report.kept) {
        kept.push({ name, reason, keptAt: join(stateDir, extra.report.kept.file) });
        continue;
      }
      const keptAt = join(stateDir, "reports", `${encodeURIComponent(job.name)}.${extra.at}.second-${i + 1}.md`);
      await writeKept(files, stateDir, keptAt, { title: extra.report.title, body: extra.report.body ?? "" });
      kept.push({ name, reason, keptAt });
    }
  }
  return kept;
}

/** Writes a report's text where a person can read it. */
async function writeKept(files: Files, stateDir: string, keptAt: string, { title, body }: { readonly title: string; readonly body: string }): Promise<void> {
  try {
    await files.mkdirp(join(stateDir, "reports"));
    await files.writeDurably(keptAt, `# ${title}\n\n${body}\n`);
  } catch {
    // The journal still holds it; the message names the state folder either way.
  }
}
