import type { Octokit } from "octokit";
import type { FiledIssue } from "../core/job.ts";
import { findFiledIssue } from "./filing.ts";

/**
 * A hidden line that names one run: its repository, its source and when its journal began. A
 * restarted dispatch (same journal) finds its summary issue by it; a new run has a new one.
 */
export function summaryMarker(repository: string, release: string, runStarted: string): string {
  const id = JSON.stringify([repository, release, runStarted]);
  return `<!-- dispatch:summary ${id.replaceAll("--", "-\\u002d")} -->`;
}

export type SummaryIssueApi = {
  /** The issue carrying `marker`, created at or after `since`, if there is one. */
  find(marker: string, since: number): Promise<FiledIssue | undefined>;
  create(title: string, body: string): Promise<FiledIssue>;
  /** Replaces the body; `state` opens or closes it (closed as completed). */
  edit(number: number, body: string, state?: "open" | "closed"): Promise<void>;
};

export function summaryIssueApi(octokit: Octokit, owner: string, repo: string): SummaryIssueApi {
  return {
    find: (marker, since) => findFiledIssue(octokit, owner, repo, marker, since),
    async create(title, body) {
      const { data } = await octokit.rest.issues.create({ owner, repo, title, body });
      return { number: data.number, url: data.html_url };
    },
    async edit(number, body, state) {
      await octokit.rest.issues.update({
        owner,
        repo,
        issue_number: number,
        body,
        ...(state && { state, ...(state === "closed" && { state_reason: "completed" as const }) }),
      });
    },
  };
}
