import { afterEach, expect, test } from "bun:test";
import { Octokit } from "octokit";
import { checkCanFile } from "../../src/github/can-file.ts";
import { type FakeGitHub, type FakeGitHubOptions, startFakeGitHub } from "../fake-github/index.ts";
import { efi } from "../support/workloads.ts";

const READ_ONLY = "github_pat_readonly456";
const running: FakeGitHub[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.stop()));
});

async function check(options: Partial<FakeGitHubOptions> = {}, token?: string, before?: (gh: FakeGitHub) => void) {
  const gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a.efi", 1)] }], readOnlyToken: READ_ONLY, ...options });
  running.push(gh);
  before?.(gh);
  const octokit = new Octokit({ auth: token ?? gh.token, baseUrl: gh.apiUrl, throttle: { enabled: false }, retry: { enabled: false } });
  return { gh, result: await checkCanFile(octokit, gh.owner, gh.repo) };
}

test("a token that may file: ok, and the check files nothing", async () => {
  const { gh, result } = await check();
  expect(result).toEqual({ kind: "ok" });
  expect(gh.issues).toEqual([]);
  // It did ask GitHub to create one (with a title GitHub must refuse), not only read settings.
  expect(gh.requests.some((r) => r.method === "POST" && r.path.endsWith("/issues"))).toBe(true);
});

test("issues turned off: refused, saying where to turn them on", async () => {
  const { gh, result } = await check({ hasIssues: false });
  expect(result.kind).toBe("refused");
  if (result.kind === "refused") {
    expect(result.reason).toContain("issues are turned off for AMDEPYC/dispatch");
    expect(result.reason).toContain("Settings → General → Features → Issues");
  }
  expect(gh.issues).toEqual([]);
});

test("issues turned off but has_issues not said (410 only): refused too", async () => {
  // As if the repository look-up failed for a moment: the create request alone tells.
  const { result } = await check({ hasIssues: false }, undefined, (gh) => gh.faults.failNext.push({ route: "repository", status: 502, times: 1 }));
  expect(result.kind).toBe("refused");
  if (result.kind === "refused") expect(result.reason).toContain("issues are turned off");
});

test("a read-only token: refused, naming the permission GitHub asks for and how to grant it", async () => {
  const { gh, result } = await check({}, READ_ONLY);
  expect(result.kind).toBe("refused");
  if (result.kind === "refused") {
    expect(result.reason).toContain("403");
    expect(result.reason).toContain("issues=write");
    expect(result.reason).toContain("Issues: read and write");
    expect(result.reason).not.toContain(READ_ONLY);
  }
  expect(gh.issues).toEqual([]);
});

test("an archived repository: refused", async () => {
  const { result } = await check({ archived: true });
  expect(result.kind).toBe("refused");
  if (result.kind === "refused") expect(result.reason).toContain("archived");
});

test("a rejected token: refused with 401", async () => {
  const { result } = await check({}, "ghp_wrong");
  expect(result.kind).toBe("refused");
  if (result.kind === "refused") expect(result.reason).toContain("401");
});

test("GitHub down or rate limited: unknown, so the run can go on with a warning", async () => {
  const down = await check({}, undefined, (gh) => (gh.faults.down = true));
  expect(down.result.kind).toBe("unknown");
  if (down.result.kind === "unknown") expect(down.result.reason).toContain("503");
  const limited = await check({}, undefined, (gh) => gh.faults.failNext.push({ route: "issue", status: 403, times: 1, headers: { "x-ratelimit-remaining": "0" } }));
  expect(limited.result.kind).toBe("unknown");
  if (limited.result.kind === "unknown") expect(limited.result.reason).toContain("rate limit");
  const broken = await check({}, undefined, (gh) => gh.faults.failNext.push({ route: "issue", status: 500, times: 1 }));
  expect(broken.result.kind).toBe("unknown");
});

test("GitHub unreachable: unknown", async () => {
  const octokit = new Octokit({ auth: "t", baseUrl: "http://127.0.0.1:9", throttle: { enabled: false }, retry: { enabled: false } });
  const result = await checkCanFile(octokit, "o", "r");
  expect(result.kind).toBe("unknown");
  if (result.kind === "unknown") expect(result.reason).toContain("cannot reach GitHub");
});
