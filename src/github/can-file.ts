import type { Octokit } from "octokit";

/** Whether this token may file issues in the repository, found out without filing one. */
export type CanFile =
  | { readonly kind: "ok" }
  /** A definite no: what GitHub said, and what to change. */
  | { readonly kind: "refused"; readonly reason: string }
  /** The check itself could not run (network, 5xx, rate limit): the run goes on, warned. */
  | { readonly kind: "unknown"; readonly reason: string };

/** A run that could never file its reports: stopped before serving, exit status 2. */
export class CannotFileError extends Error {
  override name = "CannotFileError";
  readonly exitCode = 2;
}

type ErrorLike = { status?: number; message?: string; response?: { headers?: Record<string, string | undefined> } };

const isRateLimit = (e: ErrorLike) =>
  e.status === 429 || e.response?.headers?.["x-ratelimit-remaining"] === "0" || e.response?.headers?.["retry-after"] !== undefined || /rate limit/i.test(e.message ?? "");

/**
 * Looks before the first server boots whether issues can be filed at all:
 *  1. the repository (`has_issues`, `archived`);
 *  2. a create request GitHub must refuse as invalid: an empty title. GitHub checks the
 *     token's right to create issues before it looks at the fields, so the answer tells the
 *     two apart for every kind of token (classic, fine-grained, app, Actions): 422 (the title
 *     is missing) means writing is allowed; 403, 404 or 410 mean it is not. No issue is made.
 */
export async function checkCanFile(octokit: Octokit, owner: string, repo: string): Promise<CanFile> {
  const where = `${owner}/${repo}`;
  try {
    const { data } = await octokit.rest.repos.get({ owner, repo });
    if (data.archived) return refused(`${where} is archived, so no issue can be filed there. Unarchive it (Settings → General → Danger Zone), or serve a release of another repository.`);
    if (data.has_issues === false) return refused(issuesOff(where));
  } catch (error) {
    // A repository that cannot be read just now does not decide: the create request below may.
    const answer = fromError(error as ErrorLike, where, "reading the repository");
    if (answer?.kind === "refused") return answer;
  }

  try {
    const { status } = await octokit.request("POST /repos/{owner}/{repo}/issues", { owner, repo, title: "", request: { retries: 0 } });
    // GitHub never takes an empty title; a server that did has filed an empty issue.
    return status >= 200 && status < 300 ? { kind: "ok" } : { kind: "unknown", reason: `checking whether issues can be filed in ${where}: GitHub answered ${status}` };
  } catch (error) {
    const e = error as ErrorLike;
    if (e.status === 422) return { kind: "ok" };
    return fromError(e, where, "checking whether the token may file issues") ?? { kind: "unknown", reason: `checking whether issues can be filed in ${where}: GitHub answered ${e.status} (${e.message})` };
  }
}

function fromError(e: ErrorLike, where: string, doing: string): CanFile | undefined {
  const headers = e.response?.headers ?? {};
  if (e.response === undefined || e.status === undefined || e.status >= 500) {
    return { kind: "unknown", reason: `${doing} in ${where}: ${e.response ? `GitHub answered ${e.status}` : `cannot reach GitHub (${e.message})`}` };
  }
  if (isRateLimit(e)) return { kind: "unknown", reason: `${doing} in ${where}: rate limited by GitHub (${e.message})` };
  switch (e.status) {
    case 401:
      return refused(`GitHub rejected the token (401) for ${where}. Check that it has not expired or been revoked; run with another --token or \`gh auth login\`.`);
    case 410:
      return refused(issuesOff(where));
    case 403:
    case 404: {
      // GitHub names what a fine-grained or app token lacks; classic tokens get the scopes they need.
      const needs = headers["x-accepted-github-permissions"] ?? (headers["x-accepted-oauth-scopes"] ? `scope ${headers["x-accepted-oauth-scopes"]}` : undefined);
      return refused(
        `the token may not file issues in ${where} (GitHub answered ${e.status}${e.message ? `: ${withoutDocs(e.message)}` : ""}${needs ? `; it needs ${needs}` : ""}). ` +
          "Give it Issues: read and write on the repository (fine-grained token or GitHub App) or the `repo` scope (classic token), " +
          "and make sure its owner may open issues there.",
      );
    }
    default:
      return undefined;
  }
}

const issuesOff = (where: string) =>
  `issues are turned off for ${where}. Turn them on (Settings → General → Features → Issues), or serve a release of a repository that has them.`;

/** Octokit's message ends with the documentation link; the reason reads better without it. */
const withoutDocs = (message: string | undefined) => message?.replace(/\s+-\s+https:\/\/\S+$/, "");

const refused = (reason: string): CanFile => ({ kind: "refused", reason });
