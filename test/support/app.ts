import { initialState } from "../../src/core/job.ts";
import { createStore } from "../../src/core/store.ts";
import { selectWorkloads } from "../../src/core/workload.ts";
import { poweroffEfi } from "../../src/efi/poweroff.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reportTexts } from "../../src/app/report-texts.ts";
import { createApp } from "../../src/http/app.ts";
import { nodeFiles } from "../../src/runtime/bun/files.ts";
import { serveLimits } from "../../src/runtime/types.ts";
import { createStatusFeed } from "../../src/http/status-feed.ts";
import { countEvents } from "../../src/metrics/counters.ts";
import { createStatusSource } from "../../src/status/source.ts";
import type { FakeAsset } from "../fake-github/index.ts";

/**
 * dispatch's HTTP app with no socket and no GitHub, for what a request and its answer decide
 * alone (the protocol's answers, validation, routing): `app.request()` on a store over these
 * assets, whose bytes come from memory. Streaming, slow clients and firmware keep real sockets.
 */
export function appOver(
  assets: readonly FakeAsset[],
  { path = "/dispatch", durable = async () => {}, maxReportBytes = serveLimits.maxReportBytes }: { path?: string; durable?: () => Promise<void>; maxReportBytes?: number } = {},
) {
  const workloads = selectWorkloads(assets.map((a) => ({ name: a.name, size: a.data.byteLength, contentType: a.contentType, url: `memory:${a.name}` })), []);
  const store = createStore(initialState(workloads, { downloadMs: 300_000, runMs: 3_600_000 }));
  const lines: string[] = [];
  const app = createApp({
    store,
    now: Date.now,
    path,
    poweroff: poweroffEfi,
    log: { info: (l) => lines.push(l), warn: (l) => lines.push(`⚠️ ${l}`) },
    durable,
    // Long report bodies would be kept here; the folder is made only if one arrives.
    reportTexts: reportTexts(nodeFiles, join(tmpdir(), `dispatch-app-state-${process.pid}`)),
    maxReportBytes,
    status: createStatusSource(store, { source: "memory", sink: "memory", version: "test" }, Date.now),
    feed: createStatusFeed(store),
    counters: countEvents(store),
    openAsset: async (workload, range) => {
      const data = assets.find((a) => a.name === workload.name)!.data;
      const span = range && /^bytes=(\d+)-(\d+)$/.exec(range);
      return span ? new Response(data.slice(Number(span[1]), Number(span[2]) + 1), { status: 206 }) : new Response(data.slice());
    },
  });
  /** One request to `path` from the server at `from`, as a runtime adapter hands it over. */
  const request = async (from: string, init: RequestInit = {}, to = path) => app.request(to, init, { remoteAddress: from });
  const jobOf = (name: string) => store.state.jobs.find((j) => j.workload.name === name)!;
  return { app, store, lines, request, jobOf };
}
