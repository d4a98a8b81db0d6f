import { countByState } from "../core/selectors.ts";
import { startMdns } from "../mdns/start-mdns.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Output } from "../ui/output.ts";
import { version } from "../version.ts";
import type { DispatchConfig } from "./config.ts";
import { serve } from "./serve.ts";
import { attachSinks } from "./sinks/attach.ts";
import { issuesSink } from "./sinks/issues.ts";
import { releaseSource } from "./sources/release.ts";
import { openState, recordRestart } from "./state.ts";

export type Run = {
  /** The port actually bound (port 0 resolves to a real port). */
  readonly port: number;
  /** The state folder in use. */
  readonly stateDir: string;
  /** Resolves once every job is finished or failed and nothing is left to file (`--exit-when-done`). */
  readonly settled: Promise<{ readonly finished: number; readonly failed: number }>;
  /**
   * The one shutdown sequence, in this order: the live view closes; the clock stops; serving
   * stops and the mDNS goodbye goes out together; the sinks detach (filer, read models, log,
   * journal); the journal is flushed and closed; the state folder's lock is released.
   */
  stop(): Promise<void>;
};

/**
 * Starts a run in five phases: load the queue from the source, open the state (journal and
 * replay), attach the sinks in their order, serve, announce. Throws with a readable message.
 */
export async function startDispatch(config: DispatchConfig, runtime: Runtime, out: Output): Promise<Run> {
  const now = () => Date.now();
  const userAgent = `dispatch/${version}`;

  // 1. The queue.
  const source = await releaseSource(config, userAgent, out);

  // 2. The state: the journal replayed onto the queue.
  const state = await openState(config, source, runtime, out, now);
  const { store } = state;

  // 3. The sinks, then the restart they must all see.
  const fileFailures = config.fileFailures ?? false;
  const sinks = attachSinks({
    store,
    journal: state.journal,
    log: out,
    sink: issuesSink({ config, userAgent, log: out, context: source.context }),
    run: { ...source.context, version },
    now,
    fileFailures,
    ...(config.retryDelayMs && { retryDelayMs: config.retryDelayMs }),
  });
  recordRestart(state, config, out, now);

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
        description: `dispatch: workloads of ${source.label} over UEFI HTTP boot`,
        log: out,
      })
    : undefined;

  const settled = sinks.settled.then(() => {
    const counts = countByState(store.state);
    return { finished: counts.finished, failed: counts.failed };
  });

  let stopping: Promise<void> | undefined;
  return {
    port: serving.server.port,
    stateDir: state.stateDir,
    settled,
    stop() {
      stopping ??= (async () => {
        unfollow?.();
        // The goodbye goes out with the server stop, before the caller exits, so browsers drop dispatch at once.
        await Promise.all([mdns?.stop(), serving.stop()]);
        sinks.stop();
        await state.journal.close();
        await state.lock.release();
      })();
      return stopping;
    },
  };
}
