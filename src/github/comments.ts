import type { Octokit } from "octokit";
import type { FiledIssue } from "../core/job.ts";

/**
 * Adds a comment to an issue, exactly once: with `lookFirst` (an earlier attempt may have added it
 * before its answer was lost), the issue's comments are searched for `marker` first.
 */
export async function addMarkedComment(
  octokit: Octokit,
  target: { readonly owner: string; readonly repo: string; readonly issue: number },
  body: string,
  marker: string,
  lookFirst: boolean,
): Promise<FiledIssue> {
  const { owner, repo, issue } = target;
  if (lookFirst) {
    const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, { owner, repo, issue_number: issue, per_page: 100 });
    for await (const { data } of pages) {
      const found = data.find((comment) => comment.body?.includes(marker));
      if (found) return { url: found.html_url };
    }
  }
  const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issue, body });
  return { url: data.html_url };
}
