import type { Octokit } from "octokit";
import type { FiledIssue } from "../core/job.ts";

export type NewIssue = {
  readonly title: string;
  readonly body: string;
  readonly labels?: readonly string[];
  readonly assignees?: readonly string[];
  readonly milestone?: string;
};

/**
 * The number of the milestone with this title, open or closed; undefined when there is none
 * (the issue is then filed without one). Asked each time: reports are rare, milestones change.
 */
export async function milestoneNumber(octokit: Octokit, owner: string, repo: string, title: string): Promise<number | undefined> {
  const milestones = await octokit.paginate(octokit.rest.issues.listMilestones, { owner, repo, state: "all", per_page: 100 });
  return milestones.find((m) => m.title === title)?.number;
}

export async function createIssue(octokit: Octokit, owner: string, repo: string, issue: NewIssue): Promise<FiledIssue> {
  const milestone = issue.milestone === undefined ? undefined : await milestoneNumber(octokit, owner, repo, issue.milestone);
  const { data } = await octokit.rest.issues.create({
    owner,
    repo,
    title: issue.title,
    body: issue.body,
    labels: issue.labels ? [...issue.labels] : undefined,
    assignees: issue.assignees ? [...issue.assignees] : undefined,
    milestone,
    // The filer retries, visibly and with its own backoff; a silent retry here could also
    // file twice when GitHub created the issue but the answer was lost.
    request: { retries: 0 },
  });
  return { number: data.number, url: data.html_url };
}
