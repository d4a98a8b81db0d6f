import type { Octokit } from "octokit";
import type { AssetInfo } from "../core/workload.ts";

export type Release = { readonly tag: string; readonly name: string; readonly url: string; readonly assets: readonly AssetInfo[] };

/** The release by tag; `latest` means the newest published release. */
export async function fetchRelease(octokit: Octokit, owner: string, repo: string, tag: string): Promise<Release> {
  const { data } =
    tag === "latest"
      ? await octokit.rest.repos.getLatestRelease({ owner, repo })
      : await octokit.rest.repos.getReleaseByTag({ owner, repo, tag });
  // A release holds at most 1000 assets and the API returns them all with the release.
  return {
    tag: data.tag_name,
    name: data.name ?? data.tag_name,
    url: data.html_url,
    assets: data.assets.map((asset) => ({
      name: asset.name,
      size: asset.size,
      contentType: asset.content_type,
      url: asset.url,
    })),
  };
}
