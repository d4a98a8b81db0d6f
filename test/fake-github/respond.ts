// Response helpers shared by the API handlers: GitHub's standard headers, JSON, 404, pagination.

import type { State } from "./model.ts";
import { paginate } from "./pagination.ts";
import { errorBody } from "./shapes.ts";

export type Ctx = {
  state: State;
  req: Request;
  url: URL;
  /** Absolute URL prefix for Link headers: `${apiUrl}/repositories/{id}` (as GitHub emits). */
  repoLinkBase: string;
  authenticated: boolean;
};

export function baseHeaders(state: State, authenticated: boolean): Record<string, string> {
  const limit = authenticated ? 5000 : 60;
  const used = ++state.rate.core;
  return {
    "content-type": "application/json; charset=utf-8",
    "x-github-media-type": "github.v3; format=json",
    "x-github-api-version-selected": "2022-11-28",
    "x-github-request-id": `FAKE:${state.requests.length.toString(16).toUpperCase()}`,
    "x-ratelimit-limit": String(limit),
    "x-ratelimit-remaining": String(Math.max(0, limit - used)),
    "x-ratelimit-reset": String(state.rate.resetEpoch),
    "x-ratelimit-used": String(used),
    "x-ratelimit-resource": "core",
    "access-control-expose-headers":
      "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset",
    "access-control-allow-origin": "*",
    "x-content-type-options": "nosniff",
  };
}

// Filled per request in `handleApi` so handlers can build responses without threading headers around.
export const headersFor = new WeakMap<Request, Record<string, string>>();

export function json(ctx: Ctx, status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...headersFor.get(ctx.req), ...extra } });
}

export function notFound(ctx: Ctx, docs: string): Response {
  return json(ctx, 404, errorBody("Not Found", 404, docs));
}

export function paged<T>(ctx: Ctx, items: T[], linkPath: string): Response {
  const page = paginate(items, ctx.url, linkPath);
  return json(ctx, 200, page.items, page.link ? { link: page.link } : {});
}

