import { countByState, filingRefused } from "../core/selectors.ts";
import { startMdns } from "../mdns/start-mdns.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Output } from "../ui/output.ts";
import { version } from "../version.ts";
import type { DispatchConfig } from "./config.ts";
import { locateGitHubApi } from "./github-api.ts";
import { type Unfiled, keepUnfiled } from "./kept-reports.ts";
import { serve } from "./serve.ts";
import { attachSinks } from "./sinks/attach.ts";
import { issuesSink } from "./sinks/issues.ts";
import { reportFilesSink } from "./sinks/report-files.ts";
import { folderSource } from "./sources/folder.ts";
import { releaseSource } from "./sources/release.ts";
import { openState, recordRestart, stateDirOf } from "./state.ts";

export type Run = {
  /** The port actually bound (port 0 resolves to a real port). */
  readonly port: number;
  /** The state folder in use. */
  readonly stateDir: string;
  /**
   * Resolves once every job is finished or failed and nothing is left to file, or only what
   * GitHub refuses for good (`unfiled`, their texts kept in the state folder) (`--exit-when-done`).
   */
  readonly settled: Promise<Settled>;
  /**
   * The one shutdown sequence, in this order: the live view closes; the clock stops; serving
   * stops and the mDNS goodbye goes out together (downloads are cut at once, reports in flight
   * finish and are filed, for up to the `stopGraceMs` limit or until `hurry`); the sinks detach
   * (filer, read models, log, journal); the journal is flushed and closed; the state folder's
   * lock is released.
   */
  stop(): Promise<void>;
  /** Cuts short what a stop waits for (reports in flight, their filing): a second Ctrl-C. */
  hurry(): void;
};

export type Settled = { readonly finished: number; readonly failed: number; readonly unfiled: readonly Unfiled[] };

/**
 * Starts a run in five phases: load the queue from the source (and check the sink can take
 * reports), open the state (journal and replay), attach the sinks in their order, serve,
 * announce. Throws with a readable message.
 */
export async function startDispatch(given: DispatchConfig, runtime: Runtime, out: Output): Promise<Run> {
  const now = () => Date.now();
  const userAgent = `dispatch/${version}`;
  // Only a run that talks to GitHub asks where its API is: a folder-to-folder run needs no network.
  const usesGitHub = given.dir === undefined || given.reportsDir === undefined;
  const config = usesGitHub ? await locateGitHubApi(given, userAgent, out) : given;

  // 1. The queue: a folder's files (--dir) or a release's assets; and the sink: a folder
  // (--reports) or GitHub issues, whose word that reports can be filed at all comes before
  // anything is served. A --reports folder that cannot be made is refused here too.
  const source = config.dir !== undefined ? await folderSource(config.dir, config.filters, runtime.files, out) : await releaseSource(config, userAgent, out);
  if (config.dir !== undefined && config.reportsDir !== undefined) {
    out.info("no GitHub token needed: the workloads come from a folder and the reports go to a folder");
  }
  const stateDir = stateDirOf(config, source, runtime);
  const sink =
    config.reportsDir !== undefined
      ? await reportFilesSink({ dir: config.reportsDir, files: runtime.files, source: source.label, stateDir, version })
      : issuesSink({ config, userAgent, log: out, context: source.context });
  await sink.check();
  out.info(`reports go to ${sink.label}`);

  // 2. The state: the journal replayed onto the queue.
  const state = await openState(config, source, stateDir, runtime, out, now);
  const { store } = state;

  // 3. The sinks, with the restart recorded where they all see it.
  const fileFailures = config.fileFailures ?? false;
  const sinks = attachSinks({
    store,
    journal: state.journal,
    log: out,
    sink,
    run: { source: source.label, sink: sink.label, version },
    now,
    fileFailures,
    ...(config.retryDelayMs && { retryDelayMs: config.retryDelayMs }),
    ...(config.refusedDelayMs && { refusedDelayMs: config.refusedDelayMs }),
    catchUp: () => recordRestart(state, config, out, now),
  });

  // 4. Serve. (A bind that fails lets go of the state folder: a test or a retry may take it next.)
  const serving = await serve(config, { store, source, sinks, durable: state.journal.durable, runtime, log: out, now, stateDir: state.stateDir }).catch(
    async (error: unknown) => {
      sinks.stop();
      await state.journal.close();
      await state.lock.release();
      throw error;
    },
  );
  const unfollow = out.follow?.(sinks.status);

  // 5. Announce.
  const mdns = config.mdns
    ? await startMdns({
        bindHost: config.bind.hostname,
        port: serving.server.port,
        interfaces: config.mdnsInterfaces ?? [],
        path: config.path,
        version,
        // The TXT record cuts a long one (a deep folder path) to fit its 255 bytes.
        description: `dispatch: workloads from ${source.label}, reports to ${sink.label}`,
        log: out,
      })
    : undefined;

  const settled = sinks.settled.then(async (): Promise<Settled> => {
    const counts = countByState(store.state);
    const unfiled = await keepUnfiled(runtime.files, stateDir, store.state.jobs.filter(filingRefused), source.context);
    return { finished: counts.finished, failed: counts.failed, unfiled };
  });

  let stopping: Promise<void> | undefined;
  const hurry = new AbortController();
  return {
    port: serving.server.port,
    stateDir: state.stateDir,
    settled,
    stop() {
      stopping ??= (async () => {
        unfollow?.();
        const bound = AbortSignal.any([hurry.signal, AbortSignal.timeout(serving.graceMs)]);
        // The goodbye goes out with the server stop, before the caller exits, so browsers drop dispatch at once.
        await Promise.all([mdns?.stop(), serving.stop(bound)]);
        await sinks.filed(bound, (names) => out.info(`stopping: waiting for the filing of ${names.join(", ")} to finish (Ctrl-C or SIGTERM again stops at once)`));
        sinks.stop();
        await state.journal.close();
        await state.lock.release();
      })();
      return stopping;
    },
    hurry: () => hurry.abort(),
  };
}
