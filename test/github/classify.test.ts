import { afterAll, beforeAll, expect, test } from "bun:test";
import { refusedBackoff } from "../../src/app/sinks/filer.ts";
import { createFilingOctokit } from "../../src/github/client.ts";
import { classifyFilingError } from "../../src/github/filing.ts";
import { type FakeGitHub, type FailRule, startFakeGitHub } from "../fake-github/index.ts";

let gh: FakeGitHub;
beforeAll(async () => {
  gh = await startFakeGitHub({ releases: [] });
});
afterAll(() => gh.stop());

/** How the filer sees one answer of GitHub to an issue creation. */
async function classified(rule: Omit<FailRule, "route" | "times">) {
  gh.faults.failNext.push({ route: "issue", times: 1, ...rule });
  const octokit = createFilingOctokit({ apiUrl: gh.apiUrl, token: gh.token, owner: gh.owner, repo: gh.repo, userAgent: "test" }, { info: () => {}, warn: () => {} }, { writeSpacingMs: 1 });
  const error = await octokit.rest.issues.create({ owner: gh.owner, repo: gh.repo, title: "t" }).catch((e) => e);
  return classifyFilingError(error, Date.now());
}

test("401, 403 without rate-limit headers, 404 and 410 are refusals for good, and say the report is kept", async () => {
  for (const status of [401, 403, 404, 410]) {
    const failure = await classified({ status });
    expect(failure).toMatchObject({ permanent: true, uncertain: false });
    expect(failure.retryAt).toBeUndefined();
    expect(failure.message).toContain("the report is kept");
    expect(failure.message).toContain("10 minutes");
  }
  expect((await classified({ status: 410 })).message).toContain("issues are turned off");
});

test("rate limits, outages and other refusals are not", async () => {
  const primary = await classified({ status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 60) } });
  expect(primary.permanent).toBe(false);
  expect(primary.retryAt).toBeGreaterThan(Date.now());
  expect((await classified({ status: 403, headers: { "retry-after": "5" } })).permanent).toBe(false);
  expect((await classified({ status: 429 })).permanent).toBe(false);
  expect(await classified({ status: 502 })).toMatchObject({ permanent: false, uncertain: true });
  expect((await classified({ status: 422 })).permanent).toBe(false);
  expect(gh.issues).toEqual([]);
});

test("after a refusal for good the filer asks again less and less often, at most every 10 minutes", () => {
  const waits = Array.from({ length: 12 }, (_, i) => refusedBackoff(i + 1));
  expect(waits.slice(0, 4)).toEqual([60_000, 120_000, 240_000, 480_000]);
  expect(waits.slice(4).every((w) => w === 600_000)).toBe(true);
});
