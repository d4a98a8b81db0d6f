import type { Log } from "../core/log.ts";
import type { Store } from "../core/store.ts";
import { poweroffEfi } from "../efi/poweroff.ts";
import { createApp } from "../http/app.ts";
import { limitsFromEnv, limitsVariable } from "../runtime/limits.ts";
import { type Runtime, type Server, serveLimits } from "../runtime/types.ts";
import type { DispatchConfig } from "./config.ts";
import { bootUrls } from "./listen-urls.ts";
import { reportTexts } from "./report-texts.ts";
import type { WorkloadSource } from "./ports.ts";
import type { Sinks } from "./sinks/attach.ts";

export type Serving = {
  readonly server: Server;
  readonly urls: readonly string[];
  /** Stops the clock, then the server: no new downloads or reports; open connections are cut. */
  stop(): Promise<void>;
};

const tickMs = 1000;

/** The HTTP surface on the bind address, and the clock that judges timeouts. */
export async function serve(
  config: DispatchConfig,
  deps: { store: Store; source: WorkloadSource; sinks: Sinks; durable: () => Promise<void>; runtime: Runtime; log: Log; now: () => number; stateDir: string },
): Promise<Serving> {
  const { store, sinks, now, log } = deps;
  const app = createApp({
    store,
    now,
    path: config.path,
    poweroff: poweroffEfi,
    log,
    durable: deps.durable,
    reportTexts: reportTexts(deps.runtime.files, deps.stateDir),
    // The same limit the server enforces on a declared length, however it was set.
    maxReportBytes: { ...serveLimits, ...limitsFromEnv(deps.runtime.env(limitsVariable)), ...config.limits }.maxReportBytes,
    status: sinks.status,
    feed: sinks.feed,
    counters: sinks.counters,
    openAsset: deps.source.open,
  });
  const server = await deps.runtime.serve({
    ...config.bind,
    limits: config.limits,
    fetch: (request, remoteAddress) => app.fetch(request, { remoteAddress }),
  });
  const ticker = setInterval(() => store.dispatch({ type: "tick", at: now() }), tickMs);

  const urls = bootUrls(config.bind.hostname, server.port, config.path);
  log.info(`listening on ${config.bind.hostname}:${server.port}; servers boot from:`);
  for (const url of urls) log.info(`  ${url}`);
  if (urls[0]) log.info(`status page: ${new URL("/", urls[0]).href}`);
  sinks.status.listening(urls);

  return {
    server,
    urls,
    async stop() {
      clearInterval(ticker);
      await server.stop();
    },
  };
}
