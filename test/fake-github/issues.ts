// Issues: create and edit (with GitHub's validation), get, list.

import { type IssueRecord, isoSeconds, labelFor, type LabelRecord, type MilestoneRecord, VIEWER_LOGIN } from "./model.ts";
import { type Ctx, json, notFound, paged } from "./respond.ts";
import { apiFaultBody, DOCS, type FieldError, issueJson, validationFailed } from "./shapes.ts";

const TITLE_LIMIT = 256;
const BODY_LIMIT = 65_536;
/** GitHub's longest label name, in characters. */
const LABEL_LIMIT = 50;

const refuse = (ctx: Ctx, error: FieldError): Response => json(ctx, 422, validationFailed([error], DOCS.createIssue));

function invalidRequest(ctx: Ctx, detail: string, docs: string = DOCS.createIssue): Response {
  // GitHub's JSON-schema rejection: 422 with a message only, no `errors` array.
  return json(ctx, 422, { message: `Invalid request.\n\n${detail}`, documentation_url: docs, status: "422" });
}

export async function handleCreateIssue(ctx: Ctx): Promise<Response> {
  const { state } = ctx;
  let input: unknown;
  try {
    input = JSON.parse(await ctx.req.text());
  } catch {
    return json(ctx, 400, { message: "Problems parsing JSON", documentation_url: DOCS.createIssue, status: "400" });
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return invalidRequest(ctx, `For 'links/0/schema', ${JSON.stringify(input)} is not an object.`);
  }
  const body = input as Record<string, unknown>;

  // title: required, string or integer (OpenAPI: oneOf string/integer).
  if (!("title" in body) || body.title === null) return invalidRequest(ctx, `"title" wasn't supplied.`);
  if (typeof body.title !== "string" && !Number.isInteger(body.title)) {
    return invalidRequest(ctx, `For 'properties/title', ${JSON.stringify(body.title)} is not a string or integer.`);
  }
  const title = String(body.title);
  if (title.trim() === "") {
    return json(ctx, 422, validationFailed([{ resource: "Issue", code: "missing_field", field: "title" }], DOCS.createIssue));
  }
  if (body.body !== undefined && body.body !== null && typeof body.body !== "string") {
    return invalidRequest(ctx, `For 'properties/body', ${JSON.stringify(body.body)} is not a string.`);
  }
  // GitHub's length limits, counted in characters (code points), as its Rails models count them.
  const tooLong: FieldError[] = [];
  if ([...title].length > TITLE_LIMIT) tooLong.push({ resource: "Issue", code: "custom", field: "title", message: `title is too long (maximum is ${TITLE_LIMIT} characters)` });
  if (typeof body.body === "string" && [...body.body].length > BODY_LIMIT) {
    tooLong.push({ resource: "Issue", code: "custom", field: "body", message: `body is too long (maximum is ${BODY_LIMIT} characters)` });
  }
  if (tooLong.length) return json(ctx, 422, validationFailed(tooLong, DOCS.createIssue));

  // labels: strings or {name} objects; unknown names are created, as GitHub does.
  let labelNames: string[] = [];
  if (body.labels !== undefined && body.labels !== null) {
    if (!Array.isArray(body.labels)) {
      return invalidRequest(ctx, `For 'properties/labels', ${JSON.stringify(body.labels)} is not an array.`);
    }
    for (const l of body.labels) {
      const name = typeof l === "string" ? l : typeof l === "object" && l && typeof l.name === "string" ? l.name : undefined;
      if (name === undefined) return invalidRequest(ctx, `For 'items', ${JSON.stringify(l)} is not a string or object.`);
      labelNames.push(name);
    }
  }
  labelNames = labelNames.filter((n, i) => labelNames.findIndex((m) => m.toLowerCase() === n.toLowerCase()) === i);

  let assignees: string[] = [];
  if (body.assignees !== undefined && body.assignees !== null) {
    if (!Array.isArray(body.assignees) || body.assignees.some((a) => typeof a !== "string")) {
      return invalidRequest(ctx, `For 'properties/assignees', ${JSON.stringify(body.assignees)} is not an array of strings.`);
    }
    assignees = body.assignees as string[];
  }
  if (typeof body.assignee === "string" && body.assignee !== "") assignees = [body.assignee, ...assignees];
  assignees = assignees.filter((a, i) => assignees.findIndex((b) => b.toLowerCase() === a.toLowerCase()) === i);

  // GitHub stops at the first field it refuses and names only that one (one value, as public
  // threads record: `{"value":"notauser","resource":"Issue","field":"assignees","code":"invalid"}`,
  // a long label as `{"value":"…","resource":"Label","field":"name","code":"invalid"}` with its
  // name trimmed). A client must drop it and try again to learn of the next.
  let milestone: MilestoneRecord | null = null;
  if (body.milestone !== undefined && body.milestone !== null) {
    const n = typeof body.milestone === "number" ? body.milestone : typeof body.milestone === "string" && /^\d+$/.test(body.milestone) ? Number(body.milestone) : Number.NaN;
    milestone = state.milestones.find((m) => m.number === n) ?? null;
    if (!milestone) return refuse(ctx, { value: body.milestone, resource: "Issue", field: "milestone", code: "invalid" });
  }
  const stranger = assignees.find((login) => state.assignable && !state.assignable.has(login.toLowerCase()));
  if (stranger !== undefined) return refuse(ctx, { value: stranger, resource: "Issue", field: "assignees", code: "invalid" });
  for (const name of labelNames) {
    const trimmed = name.trim();
    if (trimmed === "") return refuse(ctx, { resource: "Label", field: "name", code: "missing_field" });
    if ([...trimmed].length > LABEL_LIMIT) return refuse(ctx, { value: trimmed, resource: "Label", field: "name", code: "invalid" });
  }

  const number = state.issueRecords.length + 1;
  const record: IssueRecord = {
    id: state.nextIssueId++,
    number,
    title,
    body: (body.body as string | null | undefined) ?? null,
    labels: labelNames.map((n): LabelRecord => labelFor(state, n)),
    assignees,
    milestone,
    createdAt: isoSeconds(new Date()),
  };
  state.issueRecords.push(record);
  if (milestone) milestone.openIssues += 1;
  const out = issueJson(state, record);
  state.issues.push({
    id: record.id,
    number,
    title,
    body: record.body,
    labels: record.labels.map((l) => l.name),
    assignees,
    milestone: milestone?.number ?? null,
    html_url: out.html_url,
    created_at: record.createdAt,
  });
  const after = state.faults.failAfterCreate;
  if (after && after.times > 0) {
    after.times -= 1;
    if (after.times <= 0) delete state.faults.failAfterCreate;
    return json(ctx, after.status, apiFaultBody(after.status, {}));
  }
  if (state.faults.issueResponseDelayMs) await Bun.sleep(state.faults.issueResponseDelayMs);
  return json(ctx, 201, out, { location: out.url });
}

/**
 * `GET /repos/{o}/{r}/issues`: `state` (open default, closed, all), `sort` (created default,
 * updated), `direction` (desc default), `since` (updated at or after, as GitHub filters),
 * `creator`; paginated.
 */
export function handleListIssues(ctx: Ctx): Response {
  const params = ctx.url.searchParams;
  const wanted = params.get("state") ?? "open";
  const since = params.get("since");
  const creator = params.get("creator");
  const updated = (issue: IssueRecord) => issue.updatedAt ?? issue.createdAt;
  let items = ctx.state.issueRecords.filter((issue) => {
    if (wanted !== "all" && (issue.state ?? "open") !== wanted) return false;
    if (since !== null && Date.parse(updated(issue)) < Date.parse(since)) return false;
    if (creator !== null && creator.toLowerCase() !== VIEWER_LOGIN.toLowerCase()) return false;
    return true;
  });
  // Creation order is number order (ties of the same second keep it); newest first unless asked otherwise.
  if (params.get("sort") === "updated") items = [...items].sort((a, b) => Date.parse(updated(a)) - Date.parse(updated(b)));
  if ((params.get("direction") ?? "desc") === "desc") items = [...items].reverse();
  return paged(ctx, items.map((issue) => issueJson(ctx.state, issue)), `${ctx.repoLinkBase}/issues`);
}

const stateReasons = ["completed", "not_planned", "reopened"] as const;

/**
 * `PATCH /repos/{o}/{r}/issues/{n}`: `title`, `body`, `state` (open, closed) and `state_reason`,
 * with GitHub's checks (the same length limits as creation; an unknown state is a 422). Closing
 * sets `closed_at` (and `state_reason` completed unless given); reopening clears it. Labels,
 * assignees and milestones are not modelled here: the fake answers 501 rather than pretend.
 */
export async function handleUpdateIssue(ctx: Ctx, [number]: string[]): Promise<Response> {
  const record = ctx.state.issueRecords.find((i) => i.number === Number(number));
  if (!record) return notFound(ctx, DOCS.updateIssue);
  let input: unknown;
  try {
    input = JSON.parse(await ctx.req.text());
  } catch {
    return json(ctx, 400, { message: "Problems parsing JSON", documentation_url: DOCS.updateIssue, status: "400" });
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return invalidRequest(ctx, `For 'links/0/schema', ${JSON.stringify(input)} is not an object.`, DOCS.updateIssue);
  }
  const body = input as Record<string, unknown>;
  const unmodelled = ["labels", "assignees", "assignee", "milestone", "type", "issue_field_values", "duplicate_issue_id"].filter((k) => k in body);
  if (unmodelled.length) return json(ctx, 501, { message: `fake-github: PATCH issue does not model ${unmodelled.join(", ")}`, status: "501" });
  if ("title" in body && body.title !== null && typeof body.title !== "string" && !Number.isInteger(body.title)) {
    return invalidRequest(ctx, `For 'properties/title', ${JSON.stringify(body.title)} is not a string or integer or null.`, DOCS.updateIssue);
  }
  if ("body" in body && body.body !== null && typeof body.body !== "string") {
    return invalidRequest(ctx, `For 'properties/body', ${JSON.stringify(body.body)} is not a string or null.`, DOCS.updateIssue);
  }
  if ("state" in body && body.state !== "open" && body.state !== "closed") {
    return invalidRequest(ctx, `For 'properties/state', ${JSON.stringify(body.state)} is not a member of ["open", "closed"].`, DOCS.updateIssue);
  }
  const reason = body.state_reason;
  if (reason !== undefined && reason !== null && !stateReasons.includes(reason as (typeof stateReasons)[number])) {
    return invalidRequest(ctx, `For 'properties/state_reason', ${JSON.stringify(reason)} is not a member of ["completed", "not_planned", "reopened", null].`, DOCS.updateIssue);
  }
  const title = typeof body.title === "string" || typeof body.title === "number" ? String(body.title) : undefined;
  const tooLong: FieldError[] = [];
  if (title !== undefined && title.trim() === "") return json(ctx, 422, validationFailed([{ resource: "Issue", code: "missing_field", field: "title" }], DOCS.updateIssue));
  if (title !== undefined && [...title].length > TITLE_LIMIT) tooLong.push({ resource: "Issue", code: "custom", field: "title", message: `title is too long (maximum is ${TITLE_LIMIT} characters)` });
  if (typeof body.body === "string" && [...body.body].length > BODY_LIMIT) {
    tooLong.push({ resource: "Issue", code: "custom", field: "body", message: `body is too long (maximum is ${BODY_LIMIT} characters)` });
  }
  if (tooLong.length) return json(ctx, 422, validationFailed(tooLong, DOCS.updateIssue));

  const now = isoSeconds(new Date());
  if (title !== undefined) record.title = title;
  if ("body" in body) record.body = (body.body as string | null) ?? null;
  if (body.state === "closed" && record.state !== "closed") {
    record.state = "closed";
    record.closedAt = now;
    record.stateReason = (reason as IssueRecord["stateReason"]) ?? "completed";
  } else if (body.state === "open" && record.state === "closed") {
    record.state = "open";
    record.closedAt = null;
    record.stateReason = "reopened";
  } else if (reason !== undefined && record.state === "closed") {
    record.stateReason = reason as IssueRecord["stateReason"];
  }
  record.updatedAt = now;
  // The public, live view of the issue follows the edit.
  const seen = ctx.state.issues.find((i) => i.number === record.number);
  if (seen) {
    seen.title = record.title;
    seen.body = record.body;
    seen.closed_at = record.state === "closed" ? (record.closedAt ?? null) : null;
    seen.state_reason = record.stateReason ?? null;
  }
  return json(ctx, 200, issueJson(ctx.state, record));
}

export function handleGetIssue(ctx: Ctx, [number]: string[]): Response {
  const issue = ctx.state.issueRecords.find((i) => i.number === Number(number));
  return issue ? json(ctx, 200, issueJson(ctx.state, issue)) : notFound(ctx, DOCS.issue);
}
