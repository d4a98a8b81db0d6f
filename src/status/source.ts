import type { Store } from "../core/store.ts";
import { trackRates } from "./rates.ts";
import { trackRefusals } from "./refusals.ts";
import type { RefusalView } from "./refusals.ts";
import { type ConsoleLast, type ServerView, serverViews } from "./servers.ts";
import { type JobView, type RunInfo, type StatusView, jobView, statusView } from "./view.ts";

/**
 * The queue as watchers see it (terminal, page, JSON, event stream): the store's state plus
 * what the edge measures beside it (download speeds) and knows about the run (boot URLs).
 */
export type StatusSource = {
  readonly store: Store;
  readonly now: () => number;
  run(): RunInfo;
  view(): StatusView;
  /** The views of the named jobs, in queue order. */
  jobViews(names: ReadonlySet<string>): JobView[];
  /** The lab's servers, as the views show them. */
  servers(): ServerView[] | undefined;
  /** The last beacon calls answered 417, newest last. */
  refused(): readonly RefusalView[];
  /** dispatch listens: servers boot from these URLs. */
  listening(bootUrls: readonly string[]): void;
  stop(): void;
};

export function createStatusSource(store: Store, run: Omit<RunInfo, "bootUrls">, now: () => number, consoleLast?: ConsoleLast): StatusSource {
  const rates = trackRates(store);
  const refusals = trackRefusals(store);
  let info: RunInfo = { ...run, bootUrls: [] };
  const extras = () => ({ now: now(), rate: rates.rate, run: info, refused: refusals.list(), ...(consoleLast && { consoleLast }) });
  return {
    store,
    now,
    run: () => info,
    view: () => statusView(store.state, extras()),
    jobViews(names) {
      const x = extras();
      return store.state.jobs.filter((job) => names.has(job.name)).map((job) => jobView(job, x));
    },
    listening(bootUrls) {
      info = { ...info, bootUrls: [...bootUrls] };
    },
    refused: refusals.list,
    servers: () => serverViews(store.state, consoleLast),
    stop() {
      rates.stop();
      refusals.stop();
    },
  };
}
