// Issue comments: create and list (dispatch adds a server's second report to its job's issue).

import { type CommentRecord, isoSeconds, VIEWER_LOGIN } from "./model.ts";
import { type Ctx, json, notFound, paged } from "./respond.ts";
import { userJson } from "./shapes.ts";

export const COMMENT_DOCS = {
  create: "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
  list: "https://docs.github.com/rest/issues/comments#list-issue-comments",
};

function commentJson(ctx: Ctx, c: CommentRecord) {
  const api = `${ctx.state.apiUrl}/repos/${ctx.state.owner}/${ctx.state.repo}`;
  return {
    id: c.id,
    node_id: `IC_kw${c.id}`,
    url: `${api}/issues/comments/${c.id}`,
    html_url: `${ctx.state.webUrl}/${ctx.state.owner}/${ctx.state.repo}/issues/${c.issue}#issuecomment-${c.id}`,
    body: c.body,
    user: userJson(ctx.state, VIEWER_LOGIN),
    created_at: c.createdAt,
    updated_at: c.createdAt,
    issue_url: `${api}/issues/${c.issue}`,
    author_association: "MEMBER",
  };
}

/** `POST /repos/{o}/{r}/issues/{n}/comments` */
export async function handleCreateComment(ctx: Ctx, [number]: string[]): Promise<Response> {
  if (!ctx.state.issueRecords.some((i) => i.number === Number(number))) return notFound(ctx, COMMENT_DOCS.create);
  let input: unknown;
  try {
    input = JSON.parse(await ctx.req.text());
  } catch {
    return json(ctx, 400, { message: "Problems parsing JSON", documentation_url: COMMENT_DOCS.create, status: "400" });
  }
  const body = (input as { body?: unknown } | null)?.body;
  if (typeof body !== "string") return json(ctx, 422, { message: `Invalid request.\n\n"body" wasn't supplied.`, documentation_url: COMMENT_DOCS.create, status: "422" });
  if ([...body].length > 65_536) {
    return json(ctx, 422, { message: "Validation Failed", errors: [{ resource: "IssueComment", code: "custom", field: "body", message: "body is too long (maximum is 65536 characters)" }], documentation_url: COMMENT_DOCS.create, status: "422" });
  }
  const list = ctx.state.comments;
  const record: CommentRecord = { id: 1_000_000 + list.length + 1, issue: Number(number), body, createdAt: isoSeconds(new Date()) };
  list.push(record);
  const out = commentJson(ctx, record);
  return json(ctx, 201, out, { location: out.url });
}

/** `GET /repos/{o}/{r}/issues/{n}/comments`, oldest first, paginated. */
export function handleListComments(ctx: Ctx, [number]: string[]): Response {
  if (!ctx.state.issueRecords.some((i) => i.number === Number(number))) return notFound(ctx, COMMENT_DOCS.list);
  const items = ctx.state.comments.filter((c) => c.issue === Number(number));
  return paged(ctx, items.map((c) => commentJson(ctx, c)), `${ctx.repoLinkBase}/issues/${number}/comments`);
}
