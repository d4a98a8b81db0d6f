// The API host (Bun.serve): routing, auth, rate-limit headers, faults.

import { COMMENT_DOCS, handleCreateComment, handleListComments } from "./comments.ts";
import { takeFault } from "./faults.ts";
import { handleCreateIssue, handleGetIssue, handleListIssues, handleUpdateIssue } from "./issues.ts";
import { headerRecord, type ReleaseRecord, type State } from "./model.ts";
import { baseHeaders, type Ctx, headersFor, json, notFound, paged } from "./respond.ts";
import { apiFaultBody, assetJson, DOCS, errorBody, milestoneJson, releaseJson, repositoryJson, rootJson } from "./shapes.ts";
import { signedAssetUrl } from "./signing.ts";
import type { FaultRoute } from "./types.ts";

type Handler = (ctx: Ctx, params: string[]) => Response | Promise<Response>;

type Route = {
  method: string;
  /** Matched against the path after /repos/{owner}/{repo} or /repositories/{id}; or, if `global`, the whole path. */
  pattern: RegExp;
  global?: boolean;
  fault?: FaultRoute;
  needsAuth?: boolean;
  /** Creates or changes something: refused to a read-only token and in an archived repository. */
  writes?: boolean;
  /** Part of the Issues feature: 410 when the repository has issues turned off. */
  issues?: boolean;
  /** Documentation URL used in 404 bodies for this operation. */
  docs: string;
  handler: Handler;
};

const ROUTES: Route[] = [
  { method: "GET", pattern: /^\/$/, global: true, docs: DOCS.root, handler: root },
  { method: "GET", pattern: /^$/, fault: "repository", docs: DOCS.repository, handler: repository },
  { method: "GET", pattern: /^\/releases$/, fault: "release", docs: DOCS.listReleases, handler: listReleases },
  { method: "GET", pattern: /^\/releases\/latest$/, fault: "release", docs: DOCS.latestRelease, handler: latestRelease },
  { method: "GET", pattern: /^\/releases\/tags\/(.+)$/, fault: "release", docs: DOCS.releaseByTag, handler: releaseByTag },
  { method: "GET", pattern: /^\/releases\/assets\/(\d+)$/, fault: "asset", docs: DOCS.releaseAsset, handler: getAsset },
  { method: "GET", pattern: /^\/releases\/(\d+)$/, fault: "release", docs: DOCS.release, handler: releaseById },
  { method: "GET", pattern: /^\/releases\/(\d+)\/assets$/, fault: "release", docs: DOCS.listAssets, handler: listAssets },
  { method: "GET", pattern: /^\/milestones$/, fault: "milestones", docs: DOCS.listMilestones, handler: listMilestones },
  { method: "GET", pattern: /^\/milestones\/(\d+)$/, fault: "milestones", docs: DOCS.milestone, handler: getMilestone },
  { method: "POST", pattern: /^\/issues$/, fault: "issue", needsAuth: true, writes: true, issues: true, docs: DOCS.createIssue, handler: handleCreateIssue },
  { method: "GET", pattern: /^\/issues\/(\d+)$/, fault: "issue", issues: true, docs: DOCS.issue, handler: handleGetIssue },
  { method: "POST", pattern: /^\/issues\/(\d+)\/comments$/, fault: "issue", needsAuth: true, writes: true, issues: true, docs: COMMENT_DOCS.create, handler: handleCreateComment },
  { method: "GET", pattern: /^\/issues\/(\d+)\/comments$/, issues: true, docs: COMMENT_DOCS.list, handler: handleListComments },
  { method: "PATCH", pattern: /^\/issues\/(\d+)$/, fault: "update-issue", needsAuth: true, writes: true, issues: true, docs: DOCS.updateIssue, handler: handleUpdateIssue },
  { method: "GET", pattern: /^\/issues$/, fault: "list-issues", issues: true, docs: DOCS.listIssues, handler: handleListIssues },
];

// ---- auth ------------------------------------------------------------------------------------

type Auth = { kind: "none" } | { kind: "ok" } | { kind: "read-only" } | { kind: "bad" };

function authOf(state: State, header: string | null): Auth {
  if (header === null) return { kind: "none" };
  const m = /^\s*(token|bearer)\s+(\S+)\s*$/i.exec(header);
  if (m && m[2] === state.token) return { kind: "ok" };
  if (m && state.readOnlyToken !== undefined && m[2] === state.readOnlyToken) return { kind: "read-only" };
  return { kind: "bad" };
}

/** What GitHub Enterprise Server's web server answers outside /api/v3: a page, not JSON. */
function webNotFound(): Response {
  return new Response("<!DOCTYPE html>\n<html><head><title>Page not found · GitHub</title></head><body><h1>404</h1></body></html>\n", {
    status: 404,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

// ---- dispatch --------------------------------------------------------------------------------

function matchRoute(state: State, url: URL, method: string): { route: Route; params: string[] } | "repo-missing" | undefined {
  const pathname = url.pathname.replace(/\/+$/, "") || "/";
  let rest: string | undefined;
  let repoMatched = false;
  const byName = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(pathname);
  const byId = /^\/repositories\/(\d+)(\/.*)?$/.exec(pathname);
  if (byName) {
    rest = byName[3] ?? "";
    repoMatched =
      decodeURIComponent(byName[1]!).toLowerCase() === state.owner.toLowerCase() &&
      decodeURIComponent(byName[2]!).toLowerCase() === state.repo.toLowerCase();
  } else if (byId) {
    rest = byId[2] ?? "";
    repoMatched = Number(byId[1]) === state.repoId;
  }
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const target = route.global ? pathname : rest;
    if (target === undefined) continue;
    const m = route.pattern.exec(target);
    if (!m) continue;
    if (!route.global && !repoMatched) return "repo-missing";
    return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return undefined;
}

export async function handleApi(state: State, req: Request): Promise<Response> {
  const url = new URL(req.url);
  state.requests.push({ host: "api", method: req.method, path: url.pathname + url.search, headers: headerRecord(req.headers) });
  if (state.apiPrefix) {
    if (url.pathname !== state.apiPrefix && !url.pathname.startsWith(`${state.apiPrefix}/`)) return webNotFound();
    url.pathname = url.pathname.slice(state.apiPrefix.length) || "/";
  }
  const auth = authOf(state, req.headers.get("authorization"));
  // GitHub answers HEAD wherever it answers GET (Bun.serve then sends the headers only).
  const match = matchRoute(state, url, req.method === "HEAD" ? "GET" : req.method);
  const route = typeof match === "object" ? match.route : undefined;
  const authenticated = auth.kind === "ok" || auth.kind === "read-only";
  headersFor.set(req, baseHeaders(state, authenticated));
  const ctx: Ctx = {
    state,
    req,
    url,
    repoLinkBase: `${state.apiUrl}/repositories/${state.repoId}`,
    authenticated,
  };

  if (state.faults.down) {
    return json(ctx, 503, apiFaultBody(503, {}));
  }
  if (route?.fault) {
    const rule = takeFault(state.faults, route.fault);
    if (rule) {
      const headers = rule.headers ?? {};
      return json(ctx, rule.status, rule.body !== undefined ? rule.body : apiFaultBody(rule.status, headers), headers);
    }
  }
  if (auth.kind === "bad") return json(ctx, 401, errorBody("Bad credentials", 401));
  if (!match) return notFound(ctx, DOCS.rest);
  if (match === "repo-missing") return notFound(ctx, route?.docs ?? DOCS.rest);
  if (match.route.needsAuth && auth.kind === "none") {
    return json(ctx, 401, errorBody("Requires authentication", 401, match.route.docs));
  }
  if (match.route.issues && !state.settings.hasIssues) return json(ctx, 410, errorBody("Issues are disabled for this repo", 410, match.route.docs));
  // GitHub checks the right to write before it looks at the fields: an invalid body gets 403 here, not 422.
  if (match.route.writes && auth.kind === "read-only") {
    return json(ctx, 403, errorBody("Resource not accessible by personal access token", 403, match.route.docs), {
      "x-accepted-github-permissions": "issues=write",
    });
  }
  if (match.route.writes && state.settings.archived) return json(ctx, 403, errorBody("Repository was archived so is read-only.", 403, match.route.docs));
  return match.route.handler(ctx, match.params);
}

// ---- release / asset / milestone handlers ------------------------------------------------------

function releaseResponse(ctx: Ctx, release: ReleaseRecord | undefined, docs: string): Response {
  return release ? json(ctx, 200, releaseJson(ctx.state, release)) : notFound(ctx, docs);
}

function root(ctx: Ctx): Response {
  return json(ctx, 200, rootJson(ctx.state));
}

function repository(ctx: Ctx): Response {
  return json(ctx, 200, repositoryJson(ctx.state));
}

function listReleases(ctx: Ctx): Response {
  // Newest first by created_at, as GitHub lists them; drafts too (the token has push access).
  const newestFirst = [...ctx.state.releases]
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id - a.id)
    .map((r) => releaseJson(ctx.state, r));
  return paged(ctx, newestFirst, `${ctx.repoLinkBase}/releases`);
}

function latestRelease(ctx: Ctx): Response {
  return releaseResponse(ctx, ctx.state.releases.find((r) => r.latest), DOCS.latestRelease);
}

function releaseByTag(ctx: Ctx, [tag]: string[]): Response {
  // Only published releases: a draft has no tag yet.
  return releaseResponse(ctx, ctx.state.releases.find((r) => r.tag === tag && !r.draft), DOCS.releaseByTag);
}

function releaseById(ctx: Ctx, [id]: string[]): Response {
  return releaseResponse(ctx, ctx.state.releases.find((r) => r.id === Number(id)), DOCS.release);
}

function listAssets(ctx: Ctx, [id]: string[]): Response {
  const release = ctx.state.releases.find((r) => r.id === Number(id));
  if (!release) return notFound(ctx, DOCS.listAssets);
  return paged(
    ctx,
    release.assets.map((a) => assetJson(ctx.state, a)),
    `${ctx.repoLinkBase}/releases/${release.id}/assets`,
  );
}

function getAsset(ctx: Ctx, [id]: string[]): Response {
  const asset = ctx.state.assetsById.get(Number(id));
  if (!asset) return notFound(ctx, DOCS.releaseAsset);
  const accept = ctx.req.headers.get("accept") ?? "";
  if (accept.toLowerCase().includes("application/octet-stream")) {
    const location = ctx.state.faults.redirectTo ?? signedAssetUrl(ctx.state, asset);
    return new Response(null, {
      status: 302,
      headers: { ...headersFor.get(ctx.req), "content-type": "text/html;charset=utf-8", location },
    });
  }
  return json(ctx, 200, assetJson(ctx.state, asset));
}

function listMilestones(ctx: Ctx): Response {
  const state = ctx.url.searchParams.get("state") ?? "open";
  const sort = ctx.url.searchParams.get("sort") ?? "due_on";
  const direction = ctx.url.searchParams.get("direction") ?? "asc";
  let items = ctx.state.milestones.filter((m) => state === "all" || m.state === (state === "closed" ? "closed" : "open"));
  // No due dates here, so "due_on" falls back to number order; "completeness" = fewest open issues first.
  if (sort === "completeness") items = [...items].sort((a, b) => a.openIssues - b.openIssues || a.number - b.number);
  if (direction === "desc") items = [...items].reverse();
  return paged(
    ctx,
    items.map((m) => milestoneJson(ctx.state, m)),
    `${ctx.repoLinkBase}/milestones`,
  );
}

function getMilestone(ctx: Ctx, [number]: string[]): Response {
  const m = ctx.state.milestones.find((x) => x.number === Number(number));
  return m ? json(ctx, 200, milestoneJson(ctx.state, m)) : notFound(ctx, DOCS.milestone);
}
