import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { countByState } from "../core/selectors.ts";
import type { Counters } from "../metrics/counters.ts";
import { metricsContentType, metricsText } from "../metrics/exposition.ts";
import type { StatusSource } from "../status/source.ts";
import { webAssets } from "../ui/web/assets.ts";
import type { AppEnv } from "./client-ip.ts";
import type { StatusFeed } from "./status-feed.ts";

export type StatusRouteDeps = {
  readonly status: StatusSource;
  readonly feed: StatusFeed;
  readonly counters: Counters;
  /** Least time between two updates to one watcher: changes in between are merged. */
  readonly eventEveryMs?: number;
  /** A comment line this often keeps idle streams open through proxies and finds dead ones. */
  readonly pingEveryMs?: number;
};

/** Everything it needs comes from dispatch itself: a lab may have no internet. */
const pageSecurity = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
};

/**
 * The status surface, beside the boot path: the page, its JSON, its live event stream and
 * Prometheus metrics. Nothing here dispatches events; watchers only read.
 */
export function statusRoutes(deps: StatusRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { status, counters, feed } = deps;

  for (const [path, asset] of Object.entries(webAssets)) {
    app.get(path, (c) => c.body(asset.body, 200, { "content-type": asset.type, ...pageSecurity }));
  }

  app.get("/api/status", (c) => c.json(status.view()));

  app.get("/api/events", (c) => streamSSE(c, (stream) => watch(stream, c.req.raw.signal, feed, deps)));

  app.get("/metrics", (c) =>
    c.body(
      metricsText({ counts: countByState(status.store.state), counters: counters.values(), watchers: feed.watchers, version: status.run().version }),
      200,
      { "content-type": metricsContentType },
    ),
  );
  return app;
}

type SSEStream = Parameters<Parameters<typeof streamSSE>[1]>[0];

/**
 * One watcher: the whole status, then the jobs that changed, at most one update per
 * `eventEveryMs`. A watcher that reads slowly holds up only itself: while it is behind, its
 * changes pile up as job names (never as messages) and go out merged, as they are now.
 */
async function watch(stream: SSEStream, signal: AbortSignal, feed: StatusFeed, deps: StatusRouteDeps): Promise<void> {
  const everyMs = deps.eventEveryMs ?? 250;
  const pingMs = deps.pingEveryMs ?? 15_000;
  const leave = feed.watch();
  let open = true;
  let closed!: () => void;
  const whenClosed = new Promise<void>((resolve) => (closed = resolve));
  const close = () => {
    open = false;
    closed();
  };
  stream.onAbort(close);
  // The runtime aborts the request when the client goes; that must end the stream even while
  // it waits for the next change.
  if (signal.aborted) close();
  else signal.addEventListener("abort", () => stream.abort(), { once: true });

  const pause = async (ms: number, until?: Promise<void>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), whenClosed, ...(until ? [until] : [])]);
    clearTimeout(timer);
  };

  try {
    let seen = feed.version;
    await stream.writeSSE({ event: "status", id: String(seen), retry: 2000, data: JSON.stringify(deps.status.view()) });
    let sentAt = Date.now();
    while (open) {
      await pause(pingMs, feed.changed(seen));
      if (!open) break;
      if (feed.version === seen) {
        await stream.write(": ping\n\n");
        continue;
      }
      await pause(Math.max(0, sentAt + everyMs - Date.now()));
      if (!open) break;
      const version = feed.version;
      const names = feed.changedSince(seen);
      seen = version;
      const update = {
        now: new Date(deps.status.now()).toISOString(),
        jobs: deps.status.jobViews(names),
        counts: countByState(deps.status.store.state),
        refused: deps.status.refused(),
        ...(deps.status.store.state.lab && { servers: deps.status.servers() }),
      };
      await stream.writeSSE({ event: "jobs", id: String(version), data: JSON.stringify(update) });
      sentAt = Date.now();
    }
  } finally {
    leave();
  }
}
