import type { ConsoleBook } from "../../console/book.ts";
import type { ConsoleTail } from "../../core/console-block.ts";
import type { Job } from "../../core/job.ts";

/** Lines of each console an issue ends with: GitHub shows 65,536 characters, 100 lines fit beside most reports. */
export const consoleLines = 100;

/**
 * The consoles an issue about `job` ends with: every attempt that ended without a report of its
 * own (timed out, the server never came up), and the last attempt too when `last` (a failure
 * always; a report only with `--console-in-reports`: a passing run's console is noise).
 */
export async function consoleTails(book: ConsoleBook | undefined, job: Job, last: boolean): Promise<ConsoleTail[]> {
  if (!book) return [];
  const lastIndex = job.attempts.length - 1;
  return book.attemptTails(job, consoleLines, (i, j) => j.attempts[i]!.endedAt !== undefined || (last && i === lastIndex));
}
