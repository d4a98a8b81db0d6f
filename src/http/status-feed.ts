import type { Store } from "../core/store.ts";

/**
 * Which jobs changed since when, for any number of status watchers. The boot path pays for it
 * once per state change (a version bump and one pass over the jobs), however many watchers
 * there are; each watcher does its own work later, at its own pace.
 */
export type StatusFeed = {
  /** Bumped on every change of state. */
  readonly version: number;
  /** The names of the jobs that changed after `version`. */
  changedSince(version: number): Set<string>;
  /** Resolves once the version is past `version`. */
  changed(version: number): Promise<void>;
  /** Watchers count themselves in and out, for /metrics. */
  readonly watchers: number;
  watch(): () => void;
  stop(): void;
};

export function createStatusFeed(store: Store): StatusFeed {
  let version = 0;
  let watchers = 0;
  const changedAt = new Map<string, number>();
  let wake = deferred();
  const unsubscribe = store.subscribe(({ before, after, outcome }) => {
    // A refused beacon call changes no job, but watchers list it.
    if (before === after && outcome.kind !== "not-mine") return;
    version++;
    // The reducer keeps unchanged jobs as the same objects, so identity tells what changed.
    after.jobs.forEach((job, i) => {
      if (before.jobs[i] !== job) changedAt.set(job.name, version);
    });
    wake.resolve();
    wake = deferred();
  });
  return {
    get version() {
      return version;
    },
    changedSince(since) {
      const names = new Set<string>();
      for (const [name, at] of changedAt) if (at > since) names.add(name);
      return names;
    },
    changed: (since) => (version > since ? Promise.resolve() : wake.promise),
    get watchers() {
      return watchers;
    },
    watch() {
      watchers++;
      let counted = true;
      return () => {
        if (counted) watchers--;
        counted = false;
      };
    },
    stop: unsubscribe,
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
