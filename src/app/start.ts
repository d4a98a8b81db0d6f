import { initialState } from "../core/job.ts";
import { reduce } from "../core/reducer.ts";
import { countByState, filingRefused, isSettledOrRefused } from "../core/selectors.ts";
import { createStore } from "../core/store.ts";
import { selectWorkloads } from "../core/workload.ts";
import { poweroffEfi } from "../efi/poweroff.ts";
import { openAsset } from "../github/asset-stream.ts";
import { createFilingOctokit, createOctokit } from "../github/client.ts";
import { ApiUrlError } from "../github/errors.ts";
import { findApiUrl, probeWithFetch } from "../github/api-url.ts";
import { CannotFileError, checkCanFile } from "../github/can-file.ts";
import { classifyFilingError } from "../github/filing.ts";
import { describeRelease, fetchRelease } from "../github/release.ts";
import { createApp } from "../http/app.ts";
import { startMdns } from "../mdns/start-mdns.ts";
import { openJournal } from "../journal/open.ts";
import { defaultStateDir } from "../journal/state-dir.ts";
import type { Runtime } from "../runtime/types.ts";
import { formatBytes } from "../ui/bytes.ts";
import { countEvents } from "../metrics/counters.ts";
import { logEntries } from "../ui/log-lines.ts";
import { createStatusSource } from "../ui/status-source.ts";
import { version } from "../version.ts";
import type { DispatchConfig, Output } from "./config.ts";
import { fileJob } from "./file-job.ts";
import { backoff, startFiler } from "./filer.ts";
import { type Unfiled, keepUnfiled } from "./kept-reports.ts";
import { bootUrls } from "./listen-urls.ts";

export type Running = {
  /** The address actually bound (port 0 resolves to a real port). */
  readonly port: number;
  /** The state folder in use. */
  readonly stateDir: string;
  /**
   * Resolves once every job is finished or failed and nothing is left to file, or only what
   * GitHub refuses for good (`unfiled`, their texts kept in the state folder) (`--exit-when-done`).
   */
  readonly settled: Promise<{ readonly finished: number; readonly failed: number; readonly unfiled: readonly Unfiled[] }>;
  /** The one shutdown sequence: no new downloads, filing stops, the journal is flushed and closed. */
  stop(): Promise<void>;
};

const tickMs = 1000;

/** Reads the release, builds the queue, and starts serving. Throws with a readable message. */
export async function startDispatch(given: DispatchConfig, runtime: Runtime, out: Output): Promise<Running> {
  const { owner, repo } = given;
  const userAgent = `dispatch/${version}`;
  const api = await findApiUrl(given.apiUrl, probeWithFetch(userAgent));
  if (api.kind === "wrong") throw new ApiUrlError(api.message);
  if (api.note) out.info(api.note);
  const config = { ...given, apiUrl: api.apiUrl };
  const octokit = createOctokit({ ...config, userAgent }, out.warn);

  const release = await fetchRelease(octokit, owner, repo, config.tag, { hasWork: (assets) => selectWorkloads(assets, config.filters).length > 0 });
  const workloads = selectWorkloads(release.assets, config.filters);
  out.info(`release ${describeRelease(release)} of ${owner}/${repo}: ${release.assets.length} assets, ${workloads.length} queued`);
  for (const w of workloads) out.info(`  ⏳ ${w.name} (${formatBytes(w.size)}, ${w.bootType})`);
  if (workloads.length === 0) {
    out.warn(
      `nothing to run: no asset ${config.filters.length ? `matching ${config.filters.join(", ")} ` : ""}has a dispatch content type ` +
        `(application/vnd.dispatch+efi, +iso or +img). Every server will get poweroff.efi.`,
    );
  }
  // Before anything is served: a run that could never file would otherwise take reports for hours.
  const canFile = await checkCanFile(octokit, owner, repo);
  if (canFile.kind === "refused") throw new CannotFileError(`not started, as no report could ever be filed: ${canFile.reason}`);
  if (canFile.kind === "unknown") out.warn(`could not check that issues can be filed (${canFile.reason}); going on`);

  const stateDir = config.stateDir ?? defaultStateDir(runtime.env, owner, repo, release.tag);
  if (!stateDir) throw new Error("no state folder: neither XDG_STATE_HOME nor HOME is set; pass --state DIR");
  const now = () => Date.now();
  const opened = await openJournal({
    files: runtime.files,
    dir: stateDir,
    run: { owner, repo, release: release.tag, filters: config.filters, workloads, timeouts: config.timeouts },
    fresh: config.fresh ?? false,
    now,
    info: out.info,
    warn: out.warn,
  });
  out.info(`state: ${opened.path}`);

  // Replay: the same reducer folds the same events onto the same queue, so it decides the same way.
  const store = createStore(opened.events.reduce(reduce, initialState(workloads, opened.timeouts)));
  // Only events that changed something: leaving out the others replays to the same state.
  // Progress is left out too: it only counts bytes of downloads that a restart frees anyway,
  // and at one event per download every 250 ms it would be most of the journal.
  const unjournal = store.subscribe(({ event, before, after }) => {
    if (before !== after && event.type !== "download-progressed") opened.journal.append(event);
  });
  store.subscribe((change) => logEntries(change).forEach((entry) => out.info(entry.message, entry.fields)));
  if (opened.resumed) {
    const before = countByState(store.state);
    store.dispatch({ type: "restarted", at: now(), timeouts: config.timeouts });
    const freed = countByState(store.state).unassigned - before.unassigned;
    out.info(
      `resumed ${opened.events.length} events: ${before.finished} finished, ${before.failed} failed, ` +
        `${before.reported} reports to file, ${before.booting} running, ${freed} in-flight downloads freed`,
    );
  }

  const status = createStatusSource(store, { repository: `${owner}/${repo}`, release: release.tag, version }, now);
  const counters = countEvents(store);

  const fileFailures = config.fileFailures ?? false;
  const context = { repository: `${owner}/${repo}`, release: release.tag };
  const filingOctokit = createFilingOctokit({ ...config, userAgent }, out.warn, config.github);
  const filer = startFiler({
    store,
    now,
    fileFailures,
    retryDelayMs: config.retryDelayMs ?? backoff,
    ...(config.refusedDelayMs && { refusedDelayMs: config.refusedDelayMs }),
    classify: classifyFilingError,
    file: fileJob({ octokit: filingOctokit, owner, repo, context, files: runtime.files, stateDir }),
  });

  const app = createApp({
    store,
    now,
    path: config.path,
    poweroff: poweroffEfi,
    log: out,
    durable: opened.journal.durable,
    status,
    counters,
    openAsset: (workload, range, signal) =>
      openAsset({ url: workload.source, apiUrl: config.apiUrl, token: config.token, userAgent, range, signal }),
  });
  const server = await runtime.serve({
    ...config.bind,
    limits: config.limits,
    fetch: (request, remoteAddress) => app.fetch(request, { remoteAddress }),
  });
  const ticker = setInterval(() => store.dispatch({ type: "tick", at: now() }), tickMs);

  const settled = new Promise<{ finished: number; failed: number; unfiled: Unfiled[] }>((resolve) => {
    let done = false;
    const check = () => {
      if (done || !isSettledOrRefused(store.state, fileFailures)) return;
      done = true;
      const counts = countByState(store.state);
      const refused = store.state.jobs.filter(filingRefused);
      void keepUnfiled(runtime.files, stateDir, refused, context).then((unfiled) => resolve({ finished: counts.finished, failed: counts.failed, unfiled }));
    };
    store.subscribe(check);
    check();
  });

  const urls = bootUrls(config.bind.hostname, server.port, config.path);
  out.info(`listening on ${config.bind.hostname}:${server.port}; servers boot from:`);
  for (const url of urls) out.info(`  ${url}`);
  if (urls[0]) out.info(`status page: ${new URL("/", urls[0]).href}`);
  status.listening(urls);
  const unfollow = out.follow?.(status);

  const mdns = config.mdns
    ? await startMdns({
        bindHost: config.bind.hostname,
        port: server.port,
        interfaces: config.mdnsInterfaces ?? [],
        path: config.path,
        version,
        description: `dispatch: workloads of ${owner}/${repo} release ${release.tag} over UEFI HTTP boot`,
        log: out,
      })
    : undefined;

  let stopping: Promise<void> | undefined;
  return {
    port: server.port,
    stateDir,
    settled,
    stop() {
      stopping ??= (async () => {
        unfollow?.();
        clearInterval(ticker);
        // No new downloads or reports; connections still open are cut (their jobs are freed on the next start).
        // The mDNS goodbye goes out with the server stop, before the caller exits, so browsers drop dispatch at once.
        await Promise.all([mdns?.stop(), server.stop()]);
        filer.stop();
        unjournal();
        await opened.journal.close();
      })();
      return stopping;
    },
  };
}
