import type { IssueKind } from "../../core/events.ts";
import type { FilingFailure } from "../../core/filing.ts";
import type { FiledIssue, Job } from "../../core/job.ts";
import { needsIssue, pendingExtras } from "../../core/selectors.ts";
import type { Store } from "../../core/store.ts";

export type FilerDeps = {
  readonly store: Store;
  readonly now: () => number;
  /** File failed jobs too (`--file-failures`). */
  readonly fileFailures: boolean;
  /** Files one job's issue; with `lookFirst`, returns the issue an earlier attempt filed, if any. */
  readonly file: (job: Job, options: { readonly lookFirst: boolean }) => Promise<FiledIssue>;
  /** Adds a job's second report to its issue; with `lookFirst`, returns what an earlier attempt added, if any. */
  readonly addExtra: (job: Job, index: number, options: { readonly lookFirst: boolean }) => Promise<FiledIssue>;
  readonly classify: (error: unknown, now: number, doing?: string) => FilingFailure;
  /** Wait before retry number `attempt` (1-based) when GitHub named no time. */
  readonly retryDelayMs: (attempt: number) => number;
  /** The same after a refusal for good; default `refusedBackoff`. */
  readonly refusedDelayMs?: (attempt: number) => number;
};

export type Filer = {
  /** The jobs whose filing is under way right now (not those waiting out a backoff). */
  underWay(): string[];
  stop(): void;
};

const kindOf = (job: Job): IssueKind => (job.phase.state === "reported" ? "report" : "failure");

/** 1 s, 2 s, 4 s … capped at a minute: GitHub gets time to recover, the report is not dropped. */
export const backoff = (attempt: number): number => Math.min(60_000, 1000 * 2 ** (attempt - 1));

/**
 * After a refusal for good (401, 403, 404, 410): 1, 2, 4, 8, then every 10 minutes. Asking
 * faster cannot help, yet someone may fix the token or the settings while dispatch runs.
 */
export const refusedBackoff = (attempt: number): number => Math.min(600_000, 60_000 * 2 ** (attempt - 1));

/**
 * Turns jobs that need an issue into issues, one attempt at a time per job, retrying for as
 * long as dispatch runs. Exactly once: a job pending when the filer starts may have been filed
 * by a process that died before recording it, and an attempt that failed without a clear
 * answer may have filed it; in both cases the next attempt looks for the issue first.
 */
export function startFiler(deps: FilerDeps): Filer {
  const busy = new Set<string>();
  const attempts = new Map<string, number>();
  const uncertain = new Set<string>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  /** Jobs waiting out a backoff, and which issue the wait is for. */
  const waiting = new Map<string, { readonly timer: ReturnType<typeof setTimeout>; readonly kind: IssueKind }>();
  let stopped = false;

  const current = (name: string) => deps.store.state.jobs.find((j) => j.name === name);
  /** How long to wait after the `n`th failed attempt: the time GitHub named, else the backoff for its kind of failure. */
  const delayAfter = (failure: FilingFailure, n: number) =>
    failure.retryAt !== undefined
      ? Math.max(0, failure.retryAt - deps.now())
      : failure.permanent
        ? (deps.refusedDelayMs ?? refusedBackoff)(n)
        : deps.retryDelayMs(n);

  const attempt = async (name: string) => {
    const job = current(name);
    if (stopped || !job || !needsIssue(job, deps.fileFailures)) return void busy.delete(name);
    // Which issue this attempt files: a late report may turn the job around while it runs.
    const kind = kindOf(job);
    try {
      const issue = await deps.file(job, { lookFirst: uncertain.has(name) });
      busy.delete(name);
      uncertain.delete(name);
      if (!stopped) deps.store.dispatch({ type: "issue-filed", at: deps.now(), name, issue, for: kind });
    } catch (error) {
      const n = (attempts.get(name) ?? 0) + 1;
      attempts.set(name, n);
      const failure = deps.classify(error, deps.now());
      if (failure.uncertain) uncertain.add(name);
      if (stopped) return;
      deps.store.dispatch({ type: "filing-failed", at: deps.now(), name, error: failure.message, ...(failure.permanent && { permanent: true }), for: kind });
      const delay = delayAfter(failure, n);
      const timer = setTimeout(() => {
        timers.delete(timer);
        waiting.delete(name);
        void attempt(name);
      }, delay);
      timers.add(timer);
      waiting.set(name, { timer, kind });
    }
  };

  /**
   * A job's second reports, once its issue exists: one at a time per job, in the order they came,
   * retried with the same backoff, looked for first after an attempt whose outcome is unknown.
   */
  const extrasBusy = new Set<string>();
  const extraAttempts = new Map<string, number>();
  const extrasUncertain = new Set<string>();
  const addExtra = async (name: string) => {
    const job = current(name);
    const index = job ? pendingExtras(job)[0] : undefined;
    if (stopped || !job || index === undefined) return void extrasBusy.delete(name);
    const key = `${name}#${index}`;
    try {
      const issue = await deps.addExtra(job, index, { lookFirst: extrasUncertain.has(key) });
      extrasUncertain.delete(key);
      extraAttempts.delete(name);
      if (stopped) return;
      deps.store.dispatch({ type: "extra-filed", at: deps.now(), name, index, issue });
      void addExtra(name);
    } catch (error) {
      const n = (extraAttempts.get(name) ?? 0) + 1;
      extraAttempts.set(name, n);
      const failure = deps.classify(error, deps.now(), "adding the second report to the job's issue");
      if (failure.uncertain) extrasUncertain.add(key);
      if (stopped) return;
      deps.store.dispatch({ type: "extra-failed", at: deps.now(), name, index, error: failure.message, ...(failure.permanent && { permanent: true }) });
      const delay = delayAfter(failure, n);
      const timer = setTimeout(() => {
        timers.delete(timer);
        void addExtra(name);
      }, delay);
      timers.add(timer);
    }
  };

  const scan = () => {
    if (stopped) return;
    for (const job of deps.store.state.jobs) {
      const name = job.name;
      if (pendingExtras(job).length === 0 || extrasBusy.has(name)) continue;
      extrasBusy.add(name);
      void addExtra(name);
    }
    for (const job of deps.store.state.jobs) {
      const name = job.name;
      if (!needsIssue(job, deps.fileFailures)) continue;
      const wait = waiting.get(name);
      if (wait && wait.kind !== kindOf(job)) {
        // A late report came while the failure's issue waited for GitHub: the report goes now.
        clearTimeout(wait.timer);
        timers.delete(wait.timer);
        waiting.delete(name);
        attempts.delete(name);
        void attempt(name);
      } else if (!busy.has(name)) {
        busy.add(name);
        void attempt(name);
      }
    }
  };

  // Whatever is pending now was left by an earlier process, which may have filed it already.
  for (const job of deps.store.state.jobs) {
    if (needsIssue(job, deps.fileFailures)) uncertain.add(job.name);
    for (const index of pendingExtras(job)) extrasUncertain.add(`${job.name}#${index}`);
  }
  const unsubscribe = deps.store.subscribe(({ before, after }) => {
    if (before !== after) scan();
  });
  scan();
  return {
    underWay: () => [...busy].filter((name) => !waiting.has(name)),
    stop() {
      stopped = true;
      unsubscribe();
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
