import type { Log } from "../../core/log.ts";
import { labSettled } from "../../core/power.ts";
import { isSettledOrRefused } from "../../core/selectors.ts";
import type { Store } from "../../core/store.ts";
import { createStatusFeed, type StatusFeed } from "../../http/status-feed.ts";
import type { Journal } from "../../journal/writer.ts";
import { type Counters, countEvents } from "../../metrics/counters.ts";
import { type StatusSource, createStatusSource } from "../../status/source.ts";
import type { RunInfo } from "../../status/view.ts";
import type { ConsoleLast } from "../../status/servers.ts";
import { logEntries } from "../../ui/log-lines.ts";
import type { ReportSink } from "../ports.ts";
import { backoff, startFiler } from "./filer.ts";

export type SinkDeps = {
  readonly store: Store;
  readonly journal: Journal;
  readonly log: Log;
  readonly sink: ReportSink;
  readonly run: Omit<RunInfo, "bootUrls">;
  readonly now: () => number;
  readonly fileFailures: boolean;
  readonly retryDelayMs?: (attempt: number) => number;
  readonly refusedDelayMs?: (attempt: number) => number;
  /** The last line each lab server's console showed, for the views. */
  readonly consoleLast?: ConsoleLast;
  /** What happened while dispatch was away (a resumed run's restart), once it can be recorded. */
  readonly catchUp: () => void;
};

export type Sinks = {
  readonly status: StatusSource;
  readonly feed: StatusFeed;
  readonly counters: Counters;
  /** Resolves once every job is finished or failed and nothing is left to file but what the sink refuses for good. */
  readonly settled: Promise<void>;
  /**
   * Resolves once no filing is under way (a report taken just before a stop gets filed), or
   * when `bound` aborts; `waiting` hears once which jobs it waits for, if any.
   */
  filed(bound: AbortSignal, waiting: (names: readonly string[]) => void): Promise<void>;
  /** Detaches every sink, the last attached first. */
  stop(): void;
};

/**
 * Everything that follows the store, attached in the order it must see each change:
 * 1. the journal, first, so it records events in the order the reducer took them even when a
 *    later listener's work dispatches another event;
 * 2. the log lines, in that same order;
 * 3. the read models (download rates, the status feed, the metrics counters);
 *    then `catchUp` records a resumed run's restart, so all of the above see it and the two
 *    below judge the state after it (a refusal of the last run is tried again, not taken);
 * 4. the filer, which acts on changes (files reports, then dispatches what GitHub said);
 * 5. the settled watch, last, judging the state after everyone else has seen the change.
 */
export function attachSinks(deps: SinkDeps): Sinks {
  const { store, log } = deps;
  const detach: (() => void)[] = [];

  // Only events that changed something: leaving out the others replays to the same state.
  // Progress is left out too: it only counts bytes of downloads that a restart frees anyway,
  // and at one event per download every 250 ms it would be most of the journal.
  detach.push(
    store.subscribe(({ event, before, after }) => {
      if (before !== after && event.type !== "download-progressed") deps.journal.append(event);
    }),
  );
  detach.push(store.subscribe((change) => logEntries(change).forEach((entry) => log.info(entry.message, entry.fields))));

  const status = createStatusSource(store, deps.run, deps.now, deps.consoleLast);
  const feed = createStatusFeed(store);
  const counters = countEvents(store);
  detach.push(status.stop, feed.stop, counters.stop);
  deps.catchUp();

  const filer = startFiler({
    store,
    now: deps.now,
    fileFailures: deps.fileFailures,
    retryDelayMs: deps.retryDelayMs ?? backoff,
    ...(deps.refusedDelayMs && { refusedDelayMs: deps.refusedDelayMs }),
    classify: deps.sink.classify,
    file: deps.sink.file,
    addExtra: deps.sink.addExtra,
  });
  detach.push(filer.stop);

  const settled = new Promise<void>((resolve) => {
    // With a lab, the run is over once every server is off with its boot settings put back too.
    const check = () => isSettledOrRefused(store.state, deps.fileFailures) && labSettled(store.state) && resolve();
    detach.push(store.subscribe(check));
    check();
  });

  return {
    status,
    feed,
    counters,
    settled,
    async filed(bound, waiting) {
      const names = filer.underWay();
      if (names.length === 0 || bound.aborted) return;
      waiting(names);
      // A filing ends with an event on the store (filed, or failed and waiting out a backoff).
      await new Promise<void>((resolve) => {
        const done = () => {
          unsubscribe();
          bound.removeEventListener("abort", done);
          resolve();
        };
        const unsubscribe = store.subscribe(() => filer.underWay().length === 0 && done());
        bound.addEventListener("abort", done);
      });
    },
    stop() {
      for (const stop of detach.splice(0).reverse()) stop();
    },
  };
}
