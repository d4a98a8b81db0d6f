import type { Octokit } from "octokit";
import type { FilingFailure } from "../core/filing.ts";
import type { FiledIssue } from "../core/job.ts";
import { explainGitHubError } from "./errors.ts";
import { milestoneNumber } from "./issues.ts";

type ErrorLike = { status?: number; message?: string; response?: { headers?: Record<string, string | undefined>; data?: unknown } };

/** GitHub's advice for a secondary rate limit that names no time: wait at least a minute. */
const secondaryWaitMs = 60_000;

/**
 * Sorts a GitHub failure: rate limits (primary: wait for `x-ratelimit-reset`; secondary: for
 * `retry-after`, else a minute) are refusals that name a time; 5xx, timeouts and lost
 * connections leave the outcome unknown; every other answer is a plain refusal.
 */
export function classifyFilingError(error: unknown, now: number): FilingFailure {
  const e = error as ErrorLike;
  const headers = e.response?.headers ?? {};
  const status = e.response ? e.status : undefined;
  const explain = (why?: string) => explainGitHubError(error, `filing the issue${why ? ` (${why})` : ""}`);
  if (status === 403 || status === 429) {
    const retryAfter = Number(headers["retry-after"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    if (headers["x-ratelimit-remaining"] === "0" && Number.isFinite(reset)) {
      // One second past the reset, as GitHub's documentation says.
      return rateLimited(Math.max(now, reset * 1000 + 1000), "rate limit", explain);
    }
    if (Number.isFinite(retryAfter) && headers["retry-after"] !== undefined) return rateLimited(now + retryAfter * 1000, "secondary rate limit", explain);
    if (status === 429 || /secondary rate limit/i.test(e.message ?? "")) return rateLimited(now + secondaryWaitMs, "secondary rate limit", explain);
  }
  if (status === undefined || status >= 500) return { uncertain: true, permanent: false, message: explain("outcome unknown: will look for the issue before filing again") };
  if (status === 401 || status === 403 || status === 404 || status === 410) {
    return { uncertain: false, permanent: true, message: refusedForGood(error, status) };
  }
  return { uncertain: false, permanent: false, message: explain() };
}

function rateLimited(at: number, what: string, explain: (why?: string) => string): FilingFailure {
  return { uncertain: false, permanent: false, retryAt: at, message: explain(`${what}: waiting until ${new Date(at).toISOString()}`) };
}

/** What GitHub's lasting refusal means for the run, in words for every view. */
function refusedForGood(error: unknown, status: number): string {
  const why =
    status === 410
      ? "filing the issue: issues are turned off for the repository (410). Turn them on (Settings → General → Features → Issues)."
      : explainGitHubError(error, "filing the issue");
  return `${why} GitHub will refuse this until the token or the repository's settings change: the report is kept, dispatch tries again every 10 minutes, and the next start files it.`;
}

/** How far GitHub's clock may be behind ours when looking for an issue filed around `since`. */
const clockSkewMs = 60 * 60 * 1000;

/**
 * The issue carrying `marker`, filed at or after `since`, if there is one. Lists the
 * repository's issues newest first (the list is read from GitHub's database: an issue is
 * there the moment it is created, unlike search, whose index can lag by minutes).
 */
export async function findFiledIssue(octokit: Octokit, owner: string, repo: string, marker: string, since: number): Promise<FiledIssue | undefined> {
  const from = since - clockSkewMs;
  const pages = octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
    owner,
    repo,
    state: "all",
    sort: "created",
    direction: "desc",
    since: new Date(from).toISOString(),
    per_page: 100,
  });
  for await (const { data } of pages) {
    for (const issue of data) {
      if (issue.body?.includes(marker)) return { number: issue.number, url: issue.html_url };
      if (Date.parse(issue.created_at) < from) return undefined;
    }
  }
  return undefined;
}

export type IssueRequest = {
  /** The title and body, given the notes dispatch adds about fields GitHub refused. */
  readonly compose: (notes: readonly string[]) => { readonly title: string; readonly body: string };
  readonly labels?: readonly string[];
  readonly assignees?: readonly string[];
  readonly milestone?: string;
};

type Field = "labels" | "assignees" | "milestone";
const droppable: readonly Field[] = ["labels", "assignees", "milestone"];

/**
 * Creates the issue. A field GitHub refuses with 422 (an assignee who cannot be assigned, a
 * label or milestone the token may not set) cannot be fixed by retrying, so the issue is filed
 * once more without it, and the body says what was left out and why. Any other failure is
 * thrown for the filer to retry.
 */
export async function createIssueKeepingReport(octokit: Octokit, owner: string, repo: string, request: IssueRequest): Promise<FiledIssue> {
  const notes: string[] = [];
  let milestone: number | undefined;
  if (request.milestone !== undefined) {
    milestone = await milestoneNumber(octokit, owner, repo, request.milestone);
    if (milestone === undefined) notes.push(`dispatch filed this without the milestone "${request.milestone}": the repository has no milestone of that title.`);
  }
  const fields: { labels?: string[]; assignees?: string[]; milestone?: number } = {
    ...(request.labels?.length && { labels: [...request.labels] }),
    ...(request.assignees?.length && { assignees: [...request.assignees] }),
    ...(milestone !== undefined && { milestone }),
  };
  const create = () => {
    const { title, body } = request.compose(notes);
    return octokit.rest.issues.create({ owner, repo, title, body, ...fields });
  };
  try {
    const { data } = await create();
    return { number: data.number, url: data.html_url };
  } catch (error) {
    const e = error as ErrorLike;
    if (e.status !== 422 || !e.response) throw error;
    const refused = refusedFields(e.response.data).filter((f) => f in fields);
    // A 422 that names none of the optional fields: leave them all out rather than the report.
    const drop = refused.length > 0 ? refused : droppable.filter((f) => f in fields);
    if (drop.length === 0) throw error;
    for (const field of drop) {
      notes.push(`dispatch filed this without \`${field}: ${JSON.stringify(field === "milestone" ? request.milestone : fields[field])}\`: GitHub refused it (${e.message}).`);
      delete fields[field];
    }
    const { data } = await create();
    return { number: data.number, url: data.html_url };
  }
}

/** The optional fields a 422 "Validation Failed" names in its `errors`. */
function refusedFields(data: unknown): Field[] {
  const errors = (data as { errors?: unknown })?.errors;
  if (!Array.isArray(errors)) return [];
  const fields = errors.map((error) => (typeof error === "object" && error ? (error as { field?: unknown }).field : undefined));
  return droppable.filter((field) => fields.includes(field) || (field === "assignees" && fields.includes("assignee")));
}
