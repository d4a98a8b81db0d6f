import { initialState } from "../core/job.ts";
import { issueBody } from "../core/issue.ts";
import { createStore } from "../core/store.ts";
import { selectWorkloads } from "../core/workload.ts";
import { poweroffEfi } from "../efi/poweroff.ts";
import { openAsset } from "../github/asset-stream.ts";
import { createOctokit } from "../github/client.ts";
import { explainGitHubError } from "../github/errors.ts";
import { createIssue } from "../github/issues.ts";
import { fetchRelease } from "../github/release.ts";
import { createApp } from "../http/app.ts";
import type { Runtime } from "../runtime/types.ts";
import { formatBytes } from "../ui/bytes.ts";
import { countEvents } from "../metrics/counters.ts";
import { logEntries } from "../ui/log-lines.ts";
import { createStatusSource } from "../ui/status-source.ts";
import { version } from "../version.ts";
import type { DispatchConfig, Output } from "./config.ts";
import { backoff, startFiler } from "./filer.ts";
import { bootUrls } from "./listen-urls.ts";

export type Running = {
  /** The address actually bound (port 0 resolves to a real port). */
  readonly port: number;
  stop(): Promise<void>;
};

const tickMs = 1000;

/** Reads the release, builds the queue, and starts serving. Throws with a readable message. */
export async function startDispatch(config: DispatchConfig, runtime: Runtime, out: Output): Promise<Running> {
  const { owner, repo } = config;
  const userAgent = `dispatch/${version}`;
  const octokit = createOctokit({ ...config, userAgent }, out.warn);

  let release;
  try {
    release = await fetchRelease(octokit, owner, repo, config.tag);
  } catch (error) {
    throw new Error(explainGitHubError(error, `reading release "${config.tag}" of ${owner}/${repo}`));
  }
  const workloads = selectWorkloads(release.assets, config.filters);
  out.info(`release ${release.tag} of ${owner}/${repo}: ${release.assets.length} assets, ${workloads.length} queued`);
  for (const w of workloads) out.info(`  ⏳ ${w.name} (${formatBytes(w.size)}, ${w.bootType})`);
  if (workloads.length === 0) {
    out.warn(
      `nothing to run: no asset ${config.filters.length ? `matching ${config.filters.join(", ")} ` : ""}has a dispatch content type ` +
        `(application/vnd.dispatch+efi, +iso or +img). Every server will get poweroff.efi.`,
    );
  }

  const store = createStore(initialState(workloads, config.timeouts));
  store.subscribe((change) => logEntries(change).forEach((entry) => out.info(entry.message, entry.fields)));

  const now = () => Date.now();
  const status = createStatusSource(store, { repository: `${owner}/${repo}`, release: release.tag, version }, now);
  const counters = countEvents(store);
  const context = { repository: `${owner}/${repo}`, release: release.tag };
  const filer = startFiler({
    store,
    now,
    retryDelayMs: backoff,
    explain: (error) => explainGitHubError(error, "filing the issue"),
    file: async (job) => {
      if (job.phase.state !== "reported") throw new Error(`${job.workload.name} is not reported`);
      const report = job.phase.report;
      return createIssue(octokit, owner, repo, { ...report, body: issueBody(report, job, context) });
    },
  });

  const app = createApp({
    store,
    now,
    path: config.path,
    poweroff: poweroffEfi,
    log: out,
    status,
    counters,
    openAsset: (workload, range, signal) =>
      openAsset({ url: workload.source, apiUrl: config.apiUrl, token: config.token, userAgent, range, signal }),
  });
  const server = await runtime.serve({
    ...config.bind,
    fetch: (request, remoteAddress) => app.fetch(request, { remoteAddress }),
  });
  const ticker = setInterval(() => store.dispatch({ type: "tick", at: now() }), tickMs);

  const urls = bootUrls(config.bind.hostname, server.port, config.path);
  out.info(`listening on ${config.bind.hostname}:${server.port}; servers boot from:`);
  for (const url of urls) out.info(`  ${url}`);
  if (urls[0]) out.info(`status page: ${new URL("/", urls[0]).href}`);
  status.listening(urls);
  const unfollow = out.follow?.(status);

  return {
    port: server.port,
    async stop() {
      unfollow?.();
      clearInterval(ticker);
      filer.stop();
      await server.stop();
    },
  };
}
