import type { BootType } from "../core/content-types.ts";
import { type PlanInput, initialState } from "../core/job.ts";
import type { LabState } from "../core/lab.ts";
import type { Log } from "../core/log.ts";
import { reduce } from "../core/reducer.ts";
import { countByState, isSettled } from "../core/selectors.ts";
import { type Store, createStore } from "../core/store.ts";
import { openJournal } from "../journal/open.ts";
import { type StateLock, StateLockedError, lockState } from "../journal/lock.ts";
import { defaultStateDir } from "../journal/state-dir.ts";
import type { Journal } from "../journal/writer.ts";
import type { Runtime } from "../runtime/types.ts";
import type { DispatchConfig } from "./config.ts";
import { UsageError } from "./errors.ts";
import type { WorkloadSource } from "./ports.ts";
import { removeUnrecorded } from "./report-texts.ts";

export type OpenedState = {
  readonly store: Store;
  readonly journal: Journal;
  /** This process's hold on the state folder; released last on the way out. */
  readonly lock: StateLock;
  readonly stateDir: string;
  /** Events replayed from an earlier run's journal; undefined for a new journal. */
  readonly replayed?: number;
  /** When this run began (the journal's `created`), the same after a restart. */
  readonly created: string;
};

/**
 * Opens the state folder's journal and replays it onto the queue: the same reducer folds the
 * same events onto the same queue, so it decides the same way.
 */
export async function openState(
  config: DispatchConfig,
  source: WorkloadSource,
  stateDir: string,
  runtime: Runtime,
  log: Log,
  now: () => number,
  lab?: LabState,
  plan?: PlanInput,
): Promise<OpenedState> {
  const { context, workloads } = source;
  await runtime.files.mkdirp(stateDir);
  let lock: StateLock;
  try {
    lock = await lockState(stateDir, now());
  } catch (error) {
    if (error instanceof StateLockedError) throw new UsageError(error.message);
    throw error;
  }
  const opened = await openJournal({
    files: runtime.files,
    dir: stateDir,
    run: { ...context, filters: config.filters, workloads, timeouts: config.timeouts, ...(plan && { placement: plan }) },
    fresh: config.fresh ?? false,
    over: (events, timeouts, queue, placement) => {
      if (events.length === 0) return undefined; // nothing happened yet: nothing to run again
      // The journal's own queue and plan: its events name those jobs, whatever the source holds now.
      const queued = queue.map((w) => ({ name: w.name, size: w.size, bootType: w.bootType as BootType, source: "" }));
      const last = events.reduce(reduce, initialState(queued, timeouts, undefined, placement));
      if (!isSettled(last, config.fileFailures ?? false)) return undefined;
      const counts = countByState(last);
      return `the last run of ${source.label} is over (${counts.finished} finished, ${counts.failed} failed)`;
    },
    now,
    log,
  }).catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });
  log.info(`state: ${opened.path}`);
  const unrecorded = await removeUnrecorded(runtime.files, stateDir, opened.events).catch((error: Error) => {
    log.warn(`could not look for report texts a crash left behind in ${stateDir}: ${error.message}`);
    return [];
  });
  if (unrecorded.length) {
    log.info(`removed ${unrecorded.length} report text${unrecorded.length > 1 ? "s" : ""} that no journal line names (a crash came before the report was answered; beacon sends it again): ${unrecorded.join(", ")}`);
  }

  const store = createStore(opened.events.reduce(reduce, initialState(workloads, opened.timeouts, lab, plan)));
  return { store, journal: opened.journal, lock, stateDir, created: opened.created, ...(opened.resumed && { replayed: opened.events.length }) };
}

/** `--state`, else one folder per source under the user's state directory. */
export function stateDirOf(config: DispatchConfig, source: WorkloadSource, runtime: Runtime): string {
  const stateDir = config.stateDir ?? defaultStateDir(runtime.env, source.stateKey);
  if (!stateDir) throw new Error("no state folder: neither XDG_STATE_HOME nor HOME is set; pass --state DIR");
  return stateDir;
}

/**
 * A resumed run records its restart once the sinks are attached (so the journal and the log
 * have it): downloads that died with the old process are free again.
 */
export function recordRestart(state: OpenedState, config: DispatchConfig, log: Log, now: () => number): void {
  if (state.replayed === undefined) return;
  const { store } = state;
  const before = countByState(store.state);
  store.dispatch({ type: "restarted", at: now(), timeouts: config.timeouts });
  const freed = countByState(store.state).unassigned - before.unassigned;
  log.info(
    `resumed ${state.replayed} events: ${before.finished} finished, ${before.failed} failed, ` +
      `${before.reported} reports to file, ${before.booting} running, ${freed} in-flight downloads freed ` +
      "(to start this release over instead: --fresh)",
  );
}
