import { selectWorkloads } from "../../core/workload.ts";
import { openAsset } from "../../github/asset-stream.ts";
import { handOverBody } from "../../runtime/handed-over.ts";
import { createOctokit } from "../../github/client.ts";
import { describeRelease, fetchRelease } from "../../github/release.ts";
import { formatBytes } from "../../status/bytes.ts";
import { type DispatchConfig, githubTarget } from "../config.ts";
import type { WorkloadSource } from "../ports.ts";
import type { Log } from "../../core/log.ts";
import { describeTerms } from "../../core/placement.ts";
import type { AssetInfo, Workload } from "../../core/workload.ts";
import { readLabelTerms } from "../../github/asset-label.ts";
import { UsageError } from "../errors.ts";

/** Reads the release and queues its dispatch assets; their bytes stream from GitHub on demand. */
export async function releaseSource(config: DispatchConfig, userAgent: string, log: Log): Promise<WorkloadSource> {
  const { owner, repo, token } = githubTarget(config, "a release as the source");
  const octokit = createOctokit({ ...config, owner, repo, token, userAgent }, log);
  const release = await fetchRelease(octokit, owner, repo, config.tag, { hasWork: (assets) => selectWorkloads(assets, config.filters).length > 0 });
  const workloads = withLabelTerms(selectWorkloads(release.assets, config.filters), release.assets, `${owner}/${repo}`, release.tag);
  log.info(`release ${describeRelease(release)} of ${owner}/${repo}: ${release.assets.length} assets, ${workloads.length} queued`);
  for (const w of workloads) log.info(`  ⏳ ${w.name} (${formatBytes(w.size)}, ${w.bootType})${w.labelTerms ? `, its label: ${describeTerms(w.labelTerms)}` : ""}`);
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
    // Fetched chunks are the server's to free once written (runtime/handed-over.ts).
    open: async (workload, range, signal) => handOverBody(await openAsset({ url: workload.source, apiUrl: config.apiUrl, token, userAgent, range, signal })),
  };
}

/**
 * Each queued workload's placement terms from its asset's label (`dispatch: tags=2p each`). A label
 * that says something dispatch cannot read stops the start: running the workload anywhere would
 * ignore what the release asked for.
 */
function withLabelTerms(workloads: readonly Workload[], assets: readonly AssetInfo[], repository: string, tag: string): Workload[] {
  const labels = new Map(assets.map((a) => [a.name, a.label]));
  const problems: string[] = [];
  const read = workloads.map((w) => {
    const label = labels.get(w.name);
    try {
      const terms = readLabelTerms(label);
      return terms ? { ...w, labelTerms: terms } : w;
    } catch (error) {
      problems.push(`${w.name}: its label "${label}": ${(error as Error).message}`);
      return w;
    }
  });
  if (problems.length > 0) {
    throw new UsageError(
      `release ${tag} of ${repository} has asset labels dispatch cannot read:\n  ${problems.join("\n  ")}\n` +
        `Fix the label (gh api -X PATCH repos/${repository}/releases/assets/ID -f label="…"), or leave the workload out with a filter.`,
    );
  }
  return read;
}
