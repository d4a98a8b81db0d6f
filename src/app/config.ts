import type { Timeouts } from "../core/job.ts";
import type { FilingClientOptions } from "../github/client.ts";
import type { ServeLimits } from "../runtime/types.ts";
import { UsageError } from "./errors.ts";

export type BindAddress = { readonly hostname: string; readonly port: number };

/** Everything a run needs, resolved from the command line and environment. */
export type DispatchConfig = {
  /** The repository of the release (source) and of the issues (sink); unset when neither is GitHub. */
  readonly owner?: string;
  readonly repo?: string;
  readonly tag: string;
  readonly filters: readonly string[];
  /** Only needed, and only resolved, when the source or the sink is GitHub. */
  readonly token?: string;
  readonly apiUrl: string;
  /** --dir: the workloads are the files of this folder instead of a release's assets. */
  readonly dir?: string;
  /** --reports: each report becomes a Markdown file in this folder instead of a GitHub issue. */
  readonly reportsDir?: string;
  readonly bind: BindAddress;
  readonly path: string;
  readonly mdns: boolean;
  /** --mdns-interface: announce on these instead of the interfaces that serve the bind address. */
  readonly mdnsInterfaces?: readonly string[];
  readonly timeouts: Timeouts;
  /** The state folder (journal, full report texts); unset: one per repository and release under the user's state directory. */
  readonly stateDir?: string;
  /** Start over instead of resuming the journal (which is kept aside). */
  readonly fresh?: boolean;
  /** --lab: the lab file of servers dispatch powers. */
  readonly lab?: string;
  /** --boot-timeout: a lab server powered on must ask within this. */
  readonly bootTimeoutMs?: number;
  /** --retries: more attempts for a job that failed without a report (with --lab). */
  readonly retries?: number;
  /** Not for the command line: how long a server handed poweroff.efi may take to be off (tests). */
  readonly poweroffGraceMs?: number;
  /** Not for the command line: how often a lab server handed poweroff.efi is asked if it is off (tests). */
  readonly powerPollMs?: number;
  /** --console-in-reports: report issues end with the server's console too (failures always do). */
  readonly consoleInReports?: boolean;
  /** Not for the command line: how long a console command that ended waits before starting again (tests). */
  readonly consoleRestartMs?: number;
  /** File an issue for each failed job too. */
  readonly fileFailures?: boolean;
  /** --summary-issue: one issue per run with a table of every job, closed when the run settles. */
  readonly summaryIssue?: boolean;
  /** --junit: the run as a JUnit XML file, rewritten as jobs settle. */
  readonly junit?: string;
  /** --fail-label: a report carrying one of these labels is a failed test (and `--exit-when-done` exits 1). */
  readonly failLabels?: readonly string[];
  /** Not for the command line: the summary issue's batch time (default 10 s) and least time between writes (1 s). */
  readonly summaryPacing?: { readonly batchMs: number; readonly spacingMs: number };
  /** Not for the command line: tests shorten GitHub's write spacing and the server's client limits. */
  readonly github?: FilingClientOptions;
  readonly limits?: Partial<ServeLimits>;
  /** Not for the command line: the wait before filing retry number `attempt` when GitHub names no time. */
  readonly retryDelayMs?: (attempt: number) => number;
  /** Not for the command line: the same after GitHub refused for good (default: up to every 10 minutes). */
  readonly refusedDelayMs?: (attempt: number) => number;
};

/** The GitHub repository and token a release source or an issues sink needs; the message says which flag is missing. */
export function githubTarget(config: DispatchConfig, why: string): { owner: string; repo: string; token: string } {
  const { owner, repo, token } = config;
  if (!owner || !repo) throw new UsageError(`${why} needs --owner and --repo`);
  if (!token) throw new UsageError(`${why} needs a GitHub token`);
  return { owner, repo, token };
}
