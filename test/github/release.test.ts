import { afterEach, describe, expect, test } from "bun:test";
import { Octokit } from "octokit";
import { selectWorkloads } from "../../src/core/workload.ts";
import { ReleaseNotFoundError, describeRelease, fetchRelease } from "../../src/github/release.ts";
import { type FakeGitHub, type FakeRelease, startFakeGitHub } from "../fake-github/index.ts";
import { efi, other } from "../support/workloads.ts";

const running: FakeGitHub[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.stop()));
});

async function against(releases: FakeRelease[]) {
  const gh = await startFakeGitHub({ releases });
  running.push(gh);
  const octokit = new Octokit({ auth: gh.token, baseUrl: gh.apiUrl, throttle: { enabled: false }, retry: { enabled: false } });
  const fetch = (tag: string, filters: string[] = [], owner = gh.owner, repo = gh.repo) =>
    fetchRelease(octokit, owner, repo, tag, { hasWork: (assets) => selectWorkloads(assets, filters).length > 0 });
  return { gh, fetch };
}

const at = (day: number) => `2025-05-${String(day).padStart(2, "0")}T10:00:00Z`;

describe("a tag", () => {
  test("is the release of that tag, prerelease or not, with its assets", async () => {
    const { fetch } = await against([
      { tag: "v1", assets: [efi("a.efi", 10)] },
      { tag: "v2-rc", assets: [efi("b.efi", 20)], prerelease: true },
    ]);
    const v1 = await fetch("v1");
    expect(v1).toMatchObject({ tag: "v1", prerelease: false, picked: "by-tag" });
    expect(v1.assets.map((a) => [a.name, a.size])).toEqual([["a.efi", 10]]);
    const rc = await fetch("v2-rc");
    expect(rc).toMatchObject({ tag: "v2-rc", prerelease: true, picked: "by-tag" });
    expect(describeRelease(rc)).toBe("v2-rc (prerelease)");
  });

  test("not found: says the tag is missing and names the newest tags; a missing repository is said to be one", async () => {
    const { fetch } = await against([
      { tag: "v1", assets: [], createdAt: at(1) },
      { tag: "v2", assets: [], createdAt: at(2) },
    ]);
    const tag = await fetch("v9").catch((e) => e);
    expect(tag).toBeInstanceOf(ReleaseNotFoundError);
    expect(tag.message).toContain('has no published release tagged "v9"');
    expect(tag.message).toContain("its newest: v2, v1");
    expect(tag.message).toContain("--tag");
    const repo = await fetch("v1", [], "AMDEPYC", "nothing-here").catch((e) => e);
    expect(repo).toBeInstanceOf(ReleaseNotFoundError);
    expect(repo.message).toContain("there is no repository AMDEPYC/nothing-here");
    expect(repo.message).toContain("--owner and --repo");
    expect(repo.message).not.toContain("tagged");
  });

  test("a draft is not found by its tag", async () => {
    const { fetch } = await against([{ tag: "v1", assets: [efi("a.efi", 1)], draft: true }]);
    expect((await fetch("v1").catch((e) => e)).message).toContain('no published release tagged "v1"');
  });
});

describe("--tag latest", () => {
  test("a release tagged literally `latest` wins over newer ones", async () => {
    const { fetch } = await against([
      { tag: "latest", assets: [efi("a.efi", 1)], createdAt: at(1) },
      { tag: "v9", assets: [efi("b.efi", 1)], createdAt: at(9) },
    ]);
    expect(await fetch("latest")).toMatchObject({ tag: "latest", picked: "by-tag" });
  });

  test("otherwise the newest published release with a workload: prereleases included, drafts and releases without work skipped", async () => {
    const { gh, fetch } = await against([
      { tag: "v1", assets: [efi("memtest.efi", 1), efi("old-bios.efi", 1)], createdAt: at(1) },
      { tag: "v2-rc", assets: [efi("memtest.efi", 2), efi("stress.efi", 2)], prerelease: true, createdAt: at(2) },
      { tag: "docs", assets: [other("README.txt", 3)], createdAt: at(3) },
      { tag: "v3-draft", assets: [efi("memtest.efi", 4)], draft: true, createdAt: at(4) },
    ]);
    // GitHub's own latest would be "docs": a full release, but with nothing to run.
    const picked = await fetch("latest");
    expect(picked).toMatchObject({ tag: "v2-rc", prerelease: true, picked: "newest" });
    expect(describeRelease(picked)).toBe("v2-rc (prerelease; newest with a matching workload, for --tag latest)");
    // The filters count: only v1 has an old-bios workload.
    expect((await fetch("latest", ["stress"])).tag).toBe("v2-rc");
    expect((await fetch("latest", ["old-bios"])).tag).toBe("v1");
    expect(gh.requests.some((r) => r.path.includes("/releases/latest"))).toBe(false);
  });

  test("ordered by created_at as GitHub orders them, not by list position; every page is read", async () => {
    // 130 releases: two pages of 100. The newest with work is on the second page of the given order.
    const releases: FakeRelease[] = Array.from({ length: 130 }, (_, i) => ({ tag: `empty-${i}`, assets: [], createdAt: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString() }));
    releases.push({ tag: "old-work", assets: [efi("w.efi", 1)], createdAt: "2024-01-01T00:00:00Z" });
    releases.push({ tag: "new-work", assets: [efi("w.efi", 1)], createdAt: "2024-06-01T00:00:00Z" });
    const { gh, fetch } = await against(releases);
    expect((await fetch("latest")).tag).toBe("new-work");
    expect(gh.requests.filter((r) => r.path.includes("/releases?") || r.path.includes("/releases&")).length).toBeGreaterThanOrEqual(2);
  });

  test("no release with a workload: says so, and what to do", async () => {
    const { fetch } = await against([
      { tag: "docs", assets: [other("README.txt", 3)] },
      { tag: "wip", assets: [efi("a.efi", 1)], draft: true },
    ]);
    const error = await fetch("latest").catch((e) => e);
    expect(error).toBeInstanceOf(ReleaseNotFoundError);
    expect(error.message).toContain("none of its 1 published releases");
    expect(error.message).toContain("--tag");
    const none = await (await against([])).fetch("latest").catch((e) => e);
    expect(none.message).toContain("has no published release");
  });

  test("a missing repository is said to be one", async () => {
    const { fetch } = await against([{ tag: "v1", assets: [efi("a.efi", 1)] }]);
    expect((await fetch("latest", [], "nobody", "nothing").catch((e) => e)).message).toContain("there is no repository nobody/nothing");
  });
});
