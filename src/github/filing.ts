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
export function classifyFilingError(error: unknown, now: number, doing = "filing the issue"): FilingFailure {
  const e = error as ErrorLike;
  const headers = e.response?.headers ?? {};
  const status = e.response ? e.status : undefined;
  const explain = (why?: string) => explainGitHubError(error, `${doing}${why ? ` (${why})` : ""}`);
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
  if (status === undefined || status >= 500) return { uncertain: true, permanent: false, message: explain("outcome unknown: will look whether it went through before trying again") };
  if (status === 401 || status === 403 || status === 404 || status === 410) {
    return { uncertain: false, permanent: true, message: refusedForGood(error, status, doing) };
  }
  return { uncertain: false, permanent: false, message: explain() };
}

function rateLimited(at: number, what: string, explain: (why?: string) => string): FilingFailure {
  return { uncertain: false, permanent: false, retryAt: at, message: explain(`${what}: waiting until ${new Date(at).toISOString()}`) };
}

/** What GitHub's lasting refusal means for the run, in words for every view. */
function refusedForGood(error: unknown, status: number, doing: string): string {
  const why =
    status === 410
      ? `${doing}: issues are turned off for the repository (410). Turn them on (Settings → General → Features → Issues).`
      : explainGitHubError(error, doing);
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
  /** What GitHub refused in earlier attempts at this issue; grows with each 422. */
  readonly refusals?: Refusals;
};

/**
 * The values GitHub refused for one issue, and a note for each saying why. Kept between
 * attempts, so that a retry (after a 5xx or a rate limit) never starts again with every field.
 */
export type Refusals = { readonly labels: string[]; readonly assignees: string[]; milestone: boolean; readonly notes: string[] };

export const noRefusals = (): Refusals => ({ labels: [], assignees: [], milestone: false, notes: [] });

type Fields = { labels?: string[]; assignees?: string[]; milestone?: number };

/** GitHub's names are matched as it matches them: labels trimmed, both without regard to case. */
const sameName = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Creates the issue. GitHub answers a field it refuses (an assignee who cannot be assigned, a
 * label over 50 characters, a milestone gone) with 422 naming one value; retrying cannot fix
 * it, so the issue is filed again without that value, the body saying what was left out and
 * why, until GitHub takes it: at worst with its title and body alone. Any other failure is
 * thrown for the filer to retry, and `refusals` keeps what is already known to be refused.
 */
export async function createIssueKeepingReport(octokit: Octokit, owner: string, repo: string, request: IssueRequest): Promise<FiledIssue> {
  const refusals = request.refusals ?? noRefusals();
  const lookups: string[] = [];
  let milestone: number | undefined;
  if (request.milestone !== undefined && !refusals.milestone) {
    milestone = await milestoneNumber(octokit, owner, repo, request.milestone);
    if (milestone === undefined) lookups.push(`dispatch filed this without the milestone "${request.milestone}": the repository has no milestone of that title.`);
  }
  // Each 422 takes at least one value away (see `refuse`), so this ends.
  for (;;) {
    const fields = remaining(request, milestone, refusals);
    const { title, body } = request.compose([...lookups, ...refusals.notes]);
    try {
      const { data } = await octokit.rest.issues.create({ owner, repo, title, body, ...fields });
      return { number: data.number, url: data.html_url };
    } catch (error) {
      const e = error as ErrorLike;
      if (e.status !== 422 || !e.response || !refuse(e.response.data, fields, request.milestone, refusals)) throw error;
    }
  }
}

function remaining(request: IssueRequest, milestone: number | undefined, refusals: Refusals): Fields {
  const labels = (request.labels ?? []).filter((l) => !refusals.labels.some((r) => r === l));
  const assignees = (request.assignees ?? []).filter((a) => !refusals.assignees.some((r) => r === a));
  return {
    ...(labels.length > 0 && { labels }),
    ...(assignees.length > 0 && { assignees }),
    ...(milestone !== undefined && !refusals.milestone && { milestone }),
  };
}

type FieldError = { resource?: unknown; field?: unknown; code?: unknown; value?: unknown; message?: unknown };

type Drop = { readonly field: "labels" | "assignees"; readonly value: string; readonly reason: string } | { readonly field: "milestone"; readonly reason: string };

/**
 * Adds to `refusals` what a 422 "Validation Failed" refuses of `fields`: the values its
 * `errors` name (`value`: a string, a number or a list), else the whole field it names; when
 * it names nothing that is there (a title or body refused, or no `errors` at all), every field
 * left. False when nothing new was left to drop: GitHub refuses the title or the body.
 */
function refuse(data: unknown, fields: Fields, milestoneTitle: string | undefined, refusals: Refusals): boolean {
  const raw = (data as { errors?: unknown })?.errors;
  const errors: FieldError[] = Array.isArray(raw) ? raw.filter((e): e is FieldError => typeof e === "object" && e !== null) : [];
  const drops: Drop[] = [];
  for (const error of errors) {
    const reason = `GitHub refused it (${describe(error)})`;
    const values = valuesOf(error.value);
    const pick = (field: "labels" | "assignees", blankOnly: boolean) => {
      const present = fields[field] ?? [];
      const named = blankOnly ? present.filter((v) => v.trim() === "") : present.filter((v) => values.some((n) => sameName(v, n)));
      for (const value of named.length > 0 ? named : present) drops.push({ field, value, reason });
    };
    if (error.resource === "Label" || error.field === "labels") pick("labels", values.length === 0 && error.code === "missing_field");
    else if (error.field === "assignees" || error.field === "assignee") pick("assignees", false);
    else if (error.field === "milestone" && fields.milestone !== undefined) drops.push({ field: "milestone", reason });
  }
  if (drops.length === 0) {
    // A refusal that names none of the optional fields: leave them all out rather than the report.
    const reason = `GitHub refused the issue with it (${errors.length > 0 ? errors.map(describe).join("; ") : messageOf(data)})`;
    for (const field of ["labels", "assignees"] as const) for (const value of fields[field] ?? []) drops.push({ field, value, reason });
    if (fields.milestone !== undefined) drops.push({ field: "milestone", reason });
  }
  let added = 0;
  for (const drop of drops) {
    if (drop.field === "milestone") {
      if (refusals.milestone) continue;
      added++;
      refusals.milestone = true;
      refusals.notes.push(`dispatch filed this without the milestone \`${JSON.stringify(milestoneTitle)}\`: ${drop.reason}.`);
      continue;
    }
    if (refusals[drop.field].includes(drop.value)) continue;
    refusals[drop.field].push(drop.value);
    added++;
    const what = drop.field === "labels" ? "label" : "assignee";
    const hint = drop.field === "labels" && [...drop.value.trim()].length > labelLimit ? ` GitHub takes label names of up to ${labelLimit} characters.` : "";
    refusals.notes.push(`dispatch filed this without the ${what} \`${JSON.stringify(drop.value)}\`: ${drop.reason}.${hint}`);
  }
  return added > 0;
}

/** GitHub's longest label name, in characters. */
const labelLimit = 50;

const valuesOf = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).filter((v) => typeof v === "string" || typeof v === "number").map(String);

/** One error of a 422, in GitHub's own terms: `422: Issue assignees invalid`. */
function describe(error: FieldError): string {
  const words = [error.resource, error.field, error.code].filter((w) => typeof w === "string" && w !== "").join(" ");
  const message = typeof error.message === "string" && error.message !== "" ? `: ${error.message}` : "";
  return `422: ${words || "Validation Failed"}${message}`;
}

const messageOf = (data: unknown): string => {
  const message = (data as { message?: unknown })?.message;
  return `422: ${typeof message === "string" ? message.split("\n")[0] : "Unprocessable Entity"}`;
};
