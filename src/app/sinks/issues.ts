import type { Octokit } from "octokit";
import { type RunContext, extraComment, extraMarker, failureIssue, filingMarker, reportIssue } from "../../core/issue.ts";
import type { FiledIssue, Job } from "../../core/job.ts";
import type { Log } from "../../core/log.ts";
import { createFilingOctokit, createOctokit } from "../../github/client.ts";
import { CannotFileError, checkCanFile } from "../../github/can-file.ts";
import { addMarkedComment } from "../../github/comments.ts";
import { type Refusals, classifyFilingError, createIssueKeepingReport, findFiledIssue, noRefusals } from "../../github/filing.ts";
import { type DispatchConfig, githubTarget } from "../config.ts";
import type { ReportSink } from "../ports.ts";
import type { ConsoleBook } from "../../console/book.ts";
import { consoleTails } from "./console-tails.ts";

export type IssuesSinkDeps = {
  readonly config: DispatchConfig;
  readonly userAgent: string;
  readonly log: Log;
  readonly context: RunContext;
  /** The lab's consoles, whose last lines end failure issues (and report issues, with `consoleInReports`). */
  readonly consoles?: ConsoleBook;
  readonly consoleInReports?: boolean;
};

/** Reports and failures as GitHub issues, in the repository the release came from. */
export function issuesSink({ config, userAgent, log, context, consoles, consoleInReports }: IssuesSinkDeps): ReportSink {
  const { owner, repo, token } = githubTarget(config, "filing reports as GitHub issues");
  const octokit = createFilingOctokit({ ...config, owner, repo, token, userAgent }, log, config.github);
  return {
    label: `issues of ${owner}/${repo}`,
    async check() {
      // The filing client never waits on a rate limit; the check uses one that does.
      const canFile = await checkCanFile(createOctokit({ ...config, owner, repo, token, userAgent }, log), owner, repo);
      if (canFile.kind === "refused") throw new CannotFileError(`not started, as no report could ever be filed: ${canFile.reason}`);
      if (canFile.kind === "unknown") log.warn(`could not check that issues can be filed (${canFile.reason}); going on`);
    },
    file: fileJob({ octokit, owner, repo, context, ...(consoles && { consoles }), consoleInReports: consoleInReports ?? false }),
    async addExtra(job, index, { lookFirst }) {
      const phase = job.phase;
      const extra = phase.state === "finished" ? phase.extras?.[index] : undefined;
      if (phase.state !== "finished" || !extra || phase.issue.number === undefined) throw new Error(`${job.name} has no issue to add a report to`);
      const body = extraComment(job, extra, context);
      return addMarkedComment(octokit, { owner, repo, issue: phase.issue.number }, body, extraMarker(job, context, extra), lookFirst);
    },
    classify: classifyFilingError,
  };
}

type FileJobDeps = {
  readonly octokit: Octokit;
  readonly owner: string;
  readonly repo: string;
  readonly context: RunContext;
  readonly consoles?: ConsoleBook;
  readonly consoleInReports: boolean;
};

/** Files the issue a job needs: its report, or its failure. */
function fileJob(deps: FileJobDeps) {
  // What GitHub refused of each report not filed yet, by its marker: a retry goes on from there.
  const refused = new Map<string, Refusals>();
  return async (job: Job, { lookFirst }: { readonly lookFirst: boolean }): Promise<FiledIssue> => {
    const phase = job.phase;
    if (phase.state !== "reported" && phase.state !== "failed") throw new Error(`${job.name} has nothing to file (${phase.state})`);
    const kind = phase.state === "reported" ? "report" : "failure";
    if (lookFirst) {
      const since = (kind === "report" ? job.entered.reported : job.entered.failed) ?? 0;
      const found = await findFiledIssue(deps.octokit, deps.owner, deps.repo, filingMarker(job, deps.context, kind), since);
      if (found) return found;
    }
    if (phase.state === "failed") {
      const tails = await consoleTails(deps.consoles, job, true);
      return createIssueKeepingReport(deps.octokit, deps.owner, deps.repo, { compose: () => failureIssue(job, deps.context, tails) });
    }

    const report = phase.report;
    const marker = filingMarker(job, deps.context, "report");
    const tails = await consoleTails(deps.consoles, job, deps.consoleInReports);
    const refusals = refused.get(marker) ?? noRefusals();
    refused.set(marker, refusals);
    const filed = await createIssueKeepingReport(deps.octokit, deps.owner, deps.repo, {
      compose: (notes) => reportIssue(report, job, deps.context, { notes, consoles: tails }),
      ...(report.labels && { labels: report.labels }),
      ...(report.assignees && { assignees: report.assignees }),
      ...(report.milestone !== undefined && { milestone: report.milestone }),
      refusals,
    });
    refused.delete(marker);
    return filed;
  };
}
