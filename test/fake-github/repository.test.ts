// The fake's newer cases, checked against GitHub's OpenAPI description and recorded fixtures:
// prereleases and drafts, the repository and API root, issues turned off, a read-only token,
// issue length limits, an API under /api/v3 and storage on another host.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Octokit } from "octokit";
import { type FakeGitHub, type FakeGitHubOptions, startFakeGitHub } from "./index.ts";
import { loadSpec, requiredKeys, responseSchema, type Spec, validate } from "./openapi.ts";

const TOKEN = "ghp_faketoken123";
const READ_ONLY = "github_pat_readonly456";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const REPO = "/repos/AMDEPYC/dispatch";
const efi = (name: string) => ({ name, contentType: "application/vnd.dispatch+efi", data: new Uint8Array(64).fill(7) });

const running: FakeGitHub[] = [];
async function start(options: Partial<FakeGitHubOptions> = {}): Promise<FakeGitHub> {
  const fake = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a.efi")] }], ...options });
  running.push(fake);
  return fake;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.stop()));
});

let spec: Spec;
beforeAll(async () => {
  spec = await loadSpec();
});
const expectSchema = (path: string, method: string, status: number, value: unknown) =>
  expect(validate(spec, responseSchema(spec, path, method, status), value)).toEqual([]);

async function get(fake: FakeGitHub, path: string, headers: Record<string, string> = AUTH) {
  const res = await fetch(`${fake.apiUrl}${path}`, { headers });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { res, body };
}

async function postIssue(fake: FakeGitHub, payload: unknown, headers: Record<string, string> = AUTH) {
  const res = await fetch(`${fake.apiUrl}${REPO}/issues`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(payload) });
  return { res, body: (await res.json()) as any };
}

describe("prereleases and drafts", () => {
  const releases = [
    { tag: "v1", assets: [efi("a.efi")] },
    { tag: "v2-rc1", assets: [efi("b.efi")], prerelease: true },
    { tag: "v3-draft", assets: [efi("c.efi")], draft: true },
  ];

  test("/releases/latest skips prereleases and drafts, as GitHub's does", async () => {
    const fake = await start({ releases });
    const { body } = await get(fake, `${REPO}/releases/latest`);
    expect(body.tag_name).toBe("v1");
    expectSchema("/repos/{owner}/{repo}/releases/latest", "get", 200, body);
    const only = await start({ releases: [{ tag: "rc", assets: [], prerelease: true }] });
    expect((await get(only, `${REPO}/releases/latest`)).res.status).toBe(404);
  });

  test("a prerelease says so; a draft is listed (push access) with no published_at, but not found by its tag", async () => {
    const fake = await start({ releases });
    const rc = await get(fake, `${REPO}/releases/tags/v2-rc1`);
    expect(rc.body.prerelease).toBe(true);
    expect(rc.body.published_at).toBe(rc.body.created_at);
    expect((await get(fake, `${REPO}/releases/tags/v3-draft`)).res.status).toBe(404);
    const list = await get(fake, `${REPO}/releases`);
    expectSchema("/repos/{owner}/{repo}/releases", "get", 200, list.body);
    const draft = list.body.find((r: any) => r.tag_name === "v3-draft");
    expect(draft.draft).toBe(true);
    expect(draft.published_at).toBeNull();
  });

  test("the list is newest first by created_at, whatever the order given", async () => {
    const fake = await start({
      releases: [
        { tag: "new", assets: [], createdAt: "2025-03-01T00:00:00Z" },
        { tag: "old", assets: [], createdAt: "2025-01-01T00:00:00Z" },
        { tag: "mid", assets: [], createdAt: "2025-02-01T00:00:00Z" },
      ],
    });
    expect((await get(fake, `${REPO}/releases`)).body.map((r: any) => r.tag_name)).toEqual(["new", "mid", "old"]);
    expect((await get(fake, `${REPO}/releases/latest`)).body.tag_name).toBe("new");
  });
});

describe("repository and API root", () => {
  test("GET /repos/{owner}/{repo}: a full-repository like the get-repository fixture", async () => {
    const fake = await start();
    const { res, body } = await get(fake, REPO);
    expect(res.status).toBe(200);
    expect(requiredKeys(spec, "full-repository").filter((k) => !(k in body))).toEqual([]);
    expectSchema("/repos/{owner}/{repo}", "get", 200, body);
    expect(body).toMatchObject({ full_name: "AMDEPYC/dispatch", has_issues: true, archived: false, url: `${fake.apiUrl}${REPO}` });
    expect((await get(fake, "/repos/AMDEPYC/elsewhere")).res.status).toBe(404);
  });

  test("GET /: the API root, like the get-root fixture", async () => {
    const fake = await start();
    const { res, body } = await get(fake, "/");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-github-media-type")).toBe("github.v3; format=json");
    expectSchema("/", "get", 200, body);
    expect(body.repository_url).toBe(`${fake.apiUrl}/repos/{owner}/{repo}`);
  });
});

describe("issues turned off", () => {
  test("has_issues is false and every issue route is 410 Issues are disabled; settings are live", async () => {
    const fake = await start({ hasIssues: false });
    expect((await get(fake, REPO)).body.has_issues).toBe(false);
    const created = await postIssue(fake, { title: "x" });
    expect(created.res.status).toBe(410);
    expect(created.body.message).toBe("Issues are disabled for this repo");
    expectSchema("/repos/{owner}/{repo}/issues", "post", 410, created.body);
    expect((await get(fake, `${REPO}/issues`)).res.status).toBe(410);
    expect(fake.issues).toEqual([]);
    fake.settings.hasIssues = true;
    expect((await postIssue(fake, { title: "x" })).res.status).toBe(201);
  });

  test("an archived repository refuses writes with 403", async () => {
    const fake = await start({ archived: true });
    expect((await get(fake, REPO)).body.archived).toBe(true);
    const created = await postIssue(fake, { title: "x" });
    expect(created.res.status).toBe(403);
    expect(created.body.message).toContain("archived");
  });
});

describe("a read-only token", () => {
  test("reads releases and issues, but creating an issue is 403 naming the permission, before any validation", async () => {
    const fake = await start({ readOnlyToken: READ_ONLY });
    const headers = { authorization: `Bearer ${READ_ONLY}` };
    expect((await get(fake, `${REPO}/releases/tags/v1`, headers)).res.status).toBe(200);
    expect((await get(fake, `${REPO}/issues`, headers)).res.status).toBe(200);
    for (const payload of [{ title: "real" }, { title: "" }, {}]) {
      const { res, body } = await postIssue(fake, payload, headers);
      expect(res.status).toBe(403);
      expect(body.message).toBe("Resource not accessible by personal access token");
      expect(res.headers.get("x-accepted-github-permissions")).toBe("issues=write");
      expectSchema("/repos/{owner}/{repo}/issues", "post", 403, body);
    }
    expect(fake.issues).toEqual([]);
    // The full token still may.
    expect((await postIssue(fake, { title: "" })).res.status).toBe(422);
  });
});

describe("create-issue validation", () => {
  test("422 for a missing or empty title, a title over 256 or a body over 65,536 characters; at the limits it is filed", async () => {
    const fake = await start();
    const missing = await postIssue(fake, { body: "x" });
    expect(missing.res.status).toBe(422);
    expect(missing.body.message).toContain(`"title" wasn't supplied`);
    const empty = await postIssue(fake, { title: "" });
    expect(empty.body.errors).toEqual([{ resource: "Issue", code: "missing_field", field: "title" }]);

    const title = await postIssue(fake, { title: "t".repeat(257) });
    expect(title.res.status).toBe(422);
    expect(title.body.errors).toEqual([{ resource: "Issue", code: "custom", field: "title", message: "title is too long (maximum is 256 characters)" }]);
    expectSchema("/repos/{owner}/{repo}/issues", "post", 422, title.body);
    const body = await postIssue(fake, { title: "ok", body: "b".repeat(65_537) });
    expect(body.res.status).toBe(422);
    expect(body.body.errors).toEqual([{ resource: "Issue", code: "custom", field: "body", message: "body is too long (maximum is 65536 characters)" }]);
    const both = await postIssue(fake, { title: "t".repeat(300), body: "b".repeat(70_000) });
    expect(both.body.errors.map((e: any) => e.field)).toEqual(["title", "body"]);
    expect(fake.issues).toEqual([]);

    // Characters, not UTF-16 units: 256 emoji are a title GitHub takes.
    expect((await postIssue(fake, { title: "🏁".repeat(256), body: "b".repeat(65_536) })).res.status).toBe(201);
    expect(fake.issues).toHaveLength(1);
  });
});

describe("an API under /api/v3, as on GitHub Enterprise Server", () => {
  test("the API answers under the prefix, with its URLs and Link headers there; every other path is an HTML 404", async () => {
    const fake = await start({ apiPrefix: "/api/v3", milestones: Array.from({ length: 3 }, (_, i) => ({ title: `m${i}` })) });
    expect(fake.apiUrl).toBe(`${fake.webUrl}/api/v3`);
    const release = await get(fake, `${REPO}/releases/tags/v1`);
    expect(release.res.status).toBe(200);
    expect(release.body.assets[0].url).toStartWith(`${fake.webUrl}/api/v3/repos/`);
    const page = await get(fake, `${REPO}/milestones?per_page=1`);
    expect(page.res.headers.get("link")).toContain(`<${fake.webUrl}/api/v3/repositories/`);
    expect((await get(fake, "/")).body.current_user_url).toBe(`${fake.apiUrl}/user`);

    for (const path of ["/", `${REPO}/releases/tags/v1`, "/api/v4/"]) {
      const web = await fetch(`${fake.webUrl}${path}`, { headers: AUTH });
      expect(web.status).toBe(404);
      expect(web.headers.get("content-type")).toStartWith("text/html");
      expect(web.headers.has("x-github-media-type")).toBe(false);
      await web.body?.cancel();
    }
  });

  test("octokit with baseUrl …/api/v3 works, pagination included", async () => {
    const fake = await start({ apiPrefix: "/api/v3", milestones: Array.from({ length: 150 }, (_, i) => ({ title: `m${i}` })) });
    const octokit = new Octokit({ auth: TOKEN, baseUrl: fake.apiUrl, throttle: { enabled: false }, retry: { enabled: false } });
    const all = await octokit.paginate(octokit.rest.issues.listMilestones, { owner: "AMDEPYC", repo: "dispatch", per_page: 100 });
    expect(all).toHaveLength(150);
  });
});

describe("storage on another host", () => {
  test("storageHost puts the signed URLs on another loopback address, which serves the bytes", async () => {
    const fake = await start({ storageHost: "127.0.0.2" });
    expect(new URL(fake.storageUrl).hostname).toBe("127.0.0.2");
    const { body } = await get(fake, `${REPO}/releases/tags/v1`);
    const redirect = await fetch(body.assets[0].url, { headers: { ...AUTH, accept: "application/octet-stream" }, redirect: "manual" });
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.headers.get("location")!);
    expect(location.hostname).toBe("127.0.0.2");
    const bytes = new Uint8Array(await (await fetch(location)).arrayBuffer());
    expect(bytes).toEqual(new Uint8Array(64).fill(7));
  });
});
