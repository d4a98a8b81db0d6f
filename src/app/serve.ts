import type { ConsoleBook } from "../console/book.ts";
import type { Log } from "../core/log.ts";
import type { Store } from "../core/store.ts";
import { poweroffEfi } from "../efi/poweroff.ts";
import { createApp } from "../http/app.ts";
import { normalizeIp } from "../http/client-ip.ts";
import { limitsFromEnv, limitsVariable } from "../runtime/limits.ts";
import { type InFlight, type Runtime, type Server, serveLimits } from "../runtime/types.ts";
import type { DispatchConfig } from "./config.ts";
import { bootUrls } from "./listen-urls.ts";
import { reportTexts } from "./report-texts.ts";
import type { WorkloadSource } from "./ports.ts";
import type { Sinks } from "./sinks/attach.ts";

export type Serving = {
  readonly server: Server;
  readonly urls: readonly string[];
  /** How long a stop lets requests in flight (and their filing) finish: the `stopGraceMs` limit. */
  readonly graceMs: number;
  /**
   * Stops the clock, then the server: no new connections; downloads and other connections are
   * cut at once, and beacon calls in flight (a report arriving) finish until `bound` aborts.
   */
  stop(bound?: AbortSignal): Promise<void>;
};

const tickMs = 1000;

/** The HTTP surface on the bind address, and the clock that judges timeouts. */
export async function serve(
  config: DispatchConfig,
  deps: {
    store: Store;
    source: WorkloadSource;
    sinks: Sinks;
    durable: () => Promise<void>;
    runtime: Runtime;
    log: Log;
    now: () => number;
    stateDir: string;
    /** Before a boot request is decided: which lab server an unknown address is (see lab.ts). */
    identify?: (ip: string) => Promise<void>;
    consoles?: ConsoleBook;
  },
): Promise<Serving> {
  const { store, sinks, now, log } = deps;
  const limits = { ...serveLimits, ...limitsFromEnv(deps.runtime.env(limitsVariable)), ...config.limits };
  const app = createApp({
    store,
    now,
    path: config.path,
    poweroff: poweroffEfi,
    log,
    durable: deps.durable,
    reportTexts: reportTexts(deps.runtime.files, deps.stateDir),
    // The same limit the server enforces on a declared length, however it was set.
    maxReportBytes: limits.maxReportBytes,
    status: sinks.status,
    feed: sinks.feed,
    counters: sinks.counters,
    openAsset: deps.source.open,
    ...(deps.consoles && { consoles: deps.consoles }),
    ...(deps.identify && { identify: deps.identify }),
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
    graceMs: limits.stopGraceMs,
    async stop(bound) {
      clearInterval(ticker);
      const seconds = Math.ceil(limits.stopGraceMs / 1000);
      const waiting = (inFlight: readonly InFlight[]) =>
        log.info(`stopping: waiting up to ${seconds} s for ${describe(inFlight, config.path)} to finish (Ctrl-C or SIGTERM again stops at once)`);
      await server.stop(bound && { signal: bound, waiting });
    },
  };
}

/** "1 report in flight (from 192.0.2.7)", in words, for the line a stop prints while it waits. */
function describe(inFlight: readonly InFlight[], path: string): string {
  const what = (request: InFlight) =>
    new URL(request.path, "http://x").pathname !== path ? `${request.method} ${request.path}` : request.method === "PUT" ? "report" : request.method === "POST" ? "beacon boot" : request.method;
  const counts = new Map<string, string[]>();
  for (const request of inFlight) counts.set(what(request), [...(counts.get(what(request)) ?? []), normalizeIp(request.remoteAddress)]);
  return [...counts]
    .map(([kind, from]) => `${from.length} ${kind}${from.length > 1 ? "s" : ""} in flight (from ${[...new Set(from)].join(", ")})`)
    .join(" and ");
}
