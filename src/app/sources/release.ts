import { selectWorkloads } from "../../core/workload.ts";
import { openAsset } from "../../github/asset-stream.ts";
import { createOctokit } from "../../github/client.ts";
import { describeRelease, fetchRelease } from "../../github/release.ts";
import { formatBytes } from "../../status/bytes.ts";
import type { DispatchConfig } from "../config.ts";
import type { WorkloadSource } from "../ports.ts";
import type { Log } from "../../core/log.ts";

/** Reads the release and queues its dispatch assets; their bytes stream from GitHub on demand. */
export async function releaseSource(config: DispatchConfig, userAgent: string, log: Log): Promise<WorkloadSource> {
  const { owner, repo } = config;
  const octokit = createOctokit({ ...config, userAgent }, log);
  const release = await fetchRelease(octokit, owner, repo, config.tag, { hasWork: (assets) => selectWorkloads(assets, config.filters).length > 0 });
  const workloads = selectWorkloads(release.assets, config.filters);
  log.info(`release ${describeRelease(release)} of ${owner}/${repo}: ${release.assets.length} assets, ${workloads.length} queued`);
  for (const w of workloads) log.info(`  ⏳ ${w.name} (${formatBytes(w.size)}, ${w.bootType})`);
  if (workloads.length === 0) {
    log.warn(
      `nothing to run: no asset ${config.filters.length ? `matching ${config.filters.join(", ")} ` : ""}has a dispatch content type ` +
        `(application/vnd.dispatch+efi, +iso or +img). Every server will get poweroff.efi.`,
    );
  }
  return {
    label: `${owner}/${repo} release ${release.tag}`,
    context: { repository: `${owner}/${repo}`, release: release.tag },
    workloads,
    stateKey: [owner, repo, release.tag],
    open: (workload, range, signal) => openAsset({ url: workload.source, apiUrl: config.apiUrl, token: config.token, userAgent, range, signal }),
  };
}
