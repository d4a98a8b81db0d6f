import type { Octokit } from "octokit";

/**
 * The number of the milestone with this title, open or closed; undefined when there is none
 * (the issue is then filed without one). Asked each time: reports are rare, milestones change.
 */
export async function milestoneNumber(octokit: Octokit, owner: string, repo: string, title: string): Promise<number | undefined> {
  const milestones = await octokit.paginate(octokit.rest.issues.listMilestones, { owner, repo, state: "all", per_page: 100 });
  return milestones.find((m) => m.title === title)?.number;
}
