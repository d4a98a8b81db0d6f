import type { Octokit } from "octokit";
import type { AssetInfo } from "../core/workload.ts";
import { explainGitHubError } from "./errors.ts";

export type Release = {
  readonly tag: string;
  readonly name: string;
  readonly url: string;
  readonly prerelease: boolean;
  /** How `--tag` led here: the tag itself, or `--tag latest` as the newest release with work. */
  readonly picked: "by-tag" | "newest";
  readonly assets: readonly AssetInfo[];
};

/** A release, a repository or any release with work is missing: what to fix is in the message. */
export class ReleaseNotFoundError extends Error {
  override name = "ReleaseNotFoundError";
}

type ReleaseData = {
  tag_name: string;
  name?: string | null;
  html_url: string;
  draft: boolean;
  prerelease: boolean;
  created_at: string;
  published_at: string | null;
  id: number;
  assets: readonly { name: string; size: number; content_type: string; url: string; label?: string | null }[];
};

export type FetchReleaseOptions = {
  /** For `--tag latest`: whether a release holds at least one workload the filters keep. */
  readonly hasWork: (assets: readonly AssetInfo[]) => boolean;
};

const status = (error: unknown) => (error as { status?: number }).status;

/**
 * The release `--tag` names. `latest` is a release whose tag is literally `latest` if there is
 * one; otherwise the newest published release, prereleases included (workload releases are
 * often prereleases, which GitHub's own "latest" skips), that holds a workload the filters keep.
 * A tag that is not found says whether the repository or the tag is missing.
 */
export async function fetchRelease(octokit: Octokit, owner: string, repo: string, tag: string, options: FetchReleaseOptions): Promise<Release> {
  const what = `reading release "${tag}" of ${owner}/${repo}`;
  try {
    const { data } = await octokit.rest.repos.getReleaseByTag({ owner, repo, tag });
    return toRelease(data, "by-tag");
  } catch (error) {
    if (status(error) !== 404) throw new Error(explainGitHubError(error, what));
  }
  if (tag !== "latest") {
    await repositoryMustExist(octokit, owner, repo, what);
    const recent = await recentTags(octokit, owner, repo);
    throw new ReleaseNotFoundError(
      `${what}: ${owner}/${repo} has no published release tagged "${tag}". Check --tag${recent.length ? ` (its newest: ${recent.join(", ")})` : ""}, or use --tag latest.`,
    );
  }
  return newestWithWork(octokit, owner, repo, options);
}

async function newestWithWork(octokit: Octokit, owner: string, repo: string, options: FetchReleaseOptions): Promise<Release> {
  const what = `finding the newest release of ${owner}/${repo} for --tag latest`;
  let all: ReleaseData[];
  try {
    // Every page: GitHub documents no order for this list, so the newest is found by sorting.
    all = (await octokit.paginate(octokit.rest.repos.listReleases, { owner, repo, per_page: 100 })) as ReleaseData[];
  } catch (error) {
    if (status(error) === 404) await repositoryMustExist(octokit, owner, repo, what);
    throw new Error(explainGitHubError(error, what));
  }
  const published = all.filter((r) => !r.draft).sort(newestFirst);
  const found = published.map((r) => toRelease(r, "newest")).find((r) => options.hasWork(r.assets));
  if (found) return found;
  throw new ReleaseNotFoundError(
    published.length === 0
      ? `${what}: ${owner}/${repo} has no published release. Publish one (drafts are not served), or name a tag with --tag.`
      : `${what}: none of its ${published.length} published releases holds an asset with a dispatch content type` +
          " (application/vnd.dispatch+efi, +iso or +img) that the filters keep. Check the filters, or name a release with --tag.",
  );
}

/**
 * Newest first, as GitHub orders releases for its own "latest": by `created_at` (the date of
 * the release's commit), then by publication, then by id (the later-made release).
 */
function newestFirst(a: ReleaseData, b: ReleaseData): number {
  const time = (at: string | null) => (at === null ? 0 : Date.parse(at) || 0);
  return time(b.created_at) - time(a.created_at) || time(b.published_at) - time(a.published_at) || b.id - a.id;
}

/** The tag was not found: a missing (or hidden) repository is said so instead. */
async function repositoryMustExist(octokit: Octokit, owner: string, repo: string, what: string): Promise<void> {
  try {
    await octokit.rest.repos.get({ owner, repo });
  } catch (error) {
    if (status(error) === 404) {
      throw new ReleaseNotFoundError(
        `${what}: there is no repository ${owner}/${repo}, or the token cannot see it. Check --owner and --repo, and that the token has access to the repository.`,
      );
    }
    // The repository look-up is only for the message; its own failure does not hide the tag's.
  }
}

/** A few of the newest tags, to show next to "no release tagged …"; none if they cannot be read. */
async function recentTags(octokit: Octokit, owner: string, repo: string): Promise<string[]> {
  try {
    const { data } = await octokit.rest.repos.listReleases({ owner, repo, per_page: 10 });
    return (data as ReleaseData[]).filter((r) => !r.draft).sort(newestFirst).slice(0, 5).map((r) => r.tag_name);
  } catch {
    return [];
  }
}

function toRelease(data: ReleaseData, picked: Release["picked"]): Release {
  // A release holds at most 1000 assets and the API returns them all with the release.
  return {
    tag: data.tag_name,
    name: data.name || data.tag_name,
    url: data.html_url,
    prerelease: data.prerelease,
    picked,
    assets: data.assets.map((asset) => ({ name: asset.name, size: asset.size, contentType: asset.content_type, url: asset.url, ...(asset.label && { label: asset.label }) })),
  };
}

/** "v1.3", "v1.3 (prerelease)", "v1.3 (prerelease; newest with a matching workload, for --tag latest)". */
export function describeRelease(release: Release): string {
  const notes = [release.prerelease ? "prerelease" : undefined, release.picked === "newest" ? "newest with a matching workload, for --tag latest" : undefined].filter(Boolean);
  return notes.length ? `${release.tag} (${notes.join("; ")})` : release.tag;
}
