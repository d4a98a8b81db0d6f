import type { FiledIssue, Job } from "../core/job.ts";
import type { Store } from "../core/store.ts";

export type FilerDeps = {
  readonly store: Store;
  readonly now: () => number;
  /** Files one reported job as an issue. */
  readonly file: (job: Job) => Promise<FiledIssue>;
  readonly explain: (error: unknown) => string;
  /** Wait before retry number `attempt` (1-based). */
  readonly retryDelayMs: (attempt: number) => number;
};

export type Filer = { stop(): void };

/** 1 s, 2 s, 4 s … capped at a minute: GitHub gets time to recover, the report is not dropped. */
export const backoff = (attempt: number): number => Math.min(60_000, 1000 * 2 ** (attempt - 1));

/**
 * Turns reported jobs into GitHub issues, one attempt at a time per job, retrying failures
 * for as long as dispatch runs. The store says what is pending; this only remembers what is
 * in flight or waiting for a retry.
 */
export function startFiler(deps: FilerDeps): Filer {
  const busy = new Set<string>();
  const attempts = new Map<string, number>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let stopped = false;

  const attempt = async (name: string) => {
    const job = deps.store.state.jobs.find((j) => j.workload.name === name);
    if (stopped || job?.phase.state !== "reported") return void busy.delete(name);
    try {
      const issue = await deps.file(job);
      busy.delete(name);
      deps.store.dispatch({ type: "issue-filed", at: deps.now(), name, issue });
    } catch (error) {
      const n = (attempts.get(name) ?? 0) + 1;
      attempts.set(name, n);
      deps.store.dispatch({ type: "filing-failed", at: deps.now(), name, error: deps.explain(error) });
      if (stopped) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        void attempt(name);
      }, deps.retryDelayMs(n));
      timers.add(timer);
    }
  };

  const scan = () => {
    for (const job of deps.store.state.jobs) {
      const name = job.workload.name;
      if (job.phase.state === "reported" && !busy.has(name)) {
        busy.add(name);
        void attempt(name);
      }
    }
  };

  const unsubscribe = deps.store.subscribe(({ event }) => {
    if (event.type === "reported") scan();
  });
  scan(); // reports that were pending before we started
  return {
    stop() {
      stopped = true;
      unsubscribe();
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
