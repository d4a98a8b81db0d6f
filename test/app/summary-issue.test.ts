import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { bootOnce, report } from "../support/cycle.ts";
import { dispatchPerTest, until } from "../support/dispatch.ts";
import { type DispatchProcess, startDispatchProcess } from "../support/dispatch-process.ts";
import { efi } from "../support/workloads.ts";

// --summary-issue against the fake GitHub: one issue per run, created at start, edited in
// batches, adopted after a restart, closed with the tally; a re-run opens a new one linking it.

const marker = "<!-- dispatch:summary ";
const summaries = (gh: FakeGitHub) => gh.issues.filter((issue) => issue.body?.includes(marker));
const patches = (gh: FakeGitHub) => gh.requests.filter((r) => r.host === "api" && r.method === "PATCH");
const rowOf = (body: string | null | undefined, workload: string) => body?.split("\n").find((line) => line.startsWith(`| ${workload} |`));

describe("the summary issue through the real CLI", () => {
  let gh: FakeGitHub | undefined;
  const clis: DispatchProcess[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const cli of clis.splice(0)) await cli.kill("SIGKILL");
    await gh?.stop();
    gh = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const bunCli = { command: [process.execPath, new URL("../../src/main.ts", import.meta.url).pathname], env: { ...process.env, NO_COLOR: "1" } as Record<string, string> };
  async function dispatch(gh: FakeGitHub, state: string) {
    const args = ["-o", gh.owner, "-r", gh.repo, "-t", "v1", "--api-url", gh.apiUrl, "--token", gh.token, "--bind", "127.0.0.1:0", "--no-mdns"];
    const cli = await startDispatchProcess(bunCli, [...args, "--state", state, "--summary-issue", "--log-format", "plain"]);
    clis.push(cli);
    return cli;
  }

  test("created at start, adopted after SIGKILL (never a second), closed with the tally; the next run opens a new one linking it", async () => {
    gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("w0.efi", 3000), efi("w1.efi", 3001)] }] });
    const state = mkdtempSync(join(tmpdir(), "dispatch-summary-"));
    dirs.push(state);

    const first = await dispatch(gh, state);
    await first.waitFor("summary issue: https://github.com/AMDEPYC/dispatch/issues/1");
    const [issue] = summaries(gh);
    expect(issue!.title).toMatch(/^dispatch: AMDEPYC\/dispatch release v1, run started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(issue!.body).toContain("**Running**: 2 jobs: 0 passed, 0 failed, 0 never run, 2 pending.");
    expect(rowOf(issue!.body, "w0.efi")).toBe("| w0.efi |  | ⏳ unassigned |  |  |");
    expect(rowOf(issue!.body, "w1.efi")).toBe("| w1.efi |  | ⏳ unassigned |  |  |");

    await bootOnce(first.url, "127.0.0.2");
    expect((await report(first.url, "127.0.0.2", { title: "w0 passed" })).status).toBe(200);
    await first.waitFor("🏁 w0.efi finished");
    expect(await first.kill("SIGKILL")).toBe(137);

    // The restarted process finds its run's issue by the marker and brings it up to date.
    const second = await dispatch(gh, state);
    await second.waitFor("summary issue: https://github.com/AMDEPYC/dispatch/issues/1 (this run's, adopted)");
    await until(() => rowOf(summaries(gh!)[0]!.body, "w0.efi")?.includes("| 127.0.0.2 | 🏁 finished |"), "the adopted issue to show w0 finished");
    expect(rowOf(summaries(gh)[0]!.body, "w0.efi")).toEndWith("| #2 |");

    await bootOnce(second.url, "127.0.0.3");
    expect((await report(second.url, "127.0.0.3", { title: "w1 passed" })).status).toBe(200);
    await until(() => summaries(gh!)[0]!.state_reason === "completed", "the summary issue closed once the run settled");
    const closed = summaries(gh)[0]!;
    expect(closed.body).toContain("**Done**: 2 jobs: 2 passed, 0 failed, 0 never run.");
    expect(rowOf(closed.body, "w1.efi")).toMatch(/^\| w1\.efi \| 127\.0\.0\.3 \| 🏁 finished \| \d+(ms|s) \| #3 \|$/);
    expect(summaries(gh)).toHaveLength(1);
    expect(await second.stop()).toBe(0);

    // The run is over: the next start is a new run, with a summary of its own that links this one.
    const third = await dispatch(gh, state);
    await third.waitFor("summary issue: https://github.com/AMDEPYC/dispatch/issues/4");
    expect(summaries(gh)).toHaveLength(2);
    expect(summaries(gh)[1]!.body).toContain("The run before this one: #1.");
    expect(summaries(gh)[1]!.body).toContain("2 pending");
  }, 60_000);
});

describe("batched edits (dispatch in this process, with its pacing shortened or lengthened)", () => {
  const lab = dispatchPerTest();
  const release = { releases: [{ tag: "v1", assets: [efi("w0.efi", 2000), efi("w1.efi", 2001), efi("w2.efi", 2002)] }] };

  test("with an hour's batch time, jobs settling make no edit until the run settles; then exactly one, which closes it", async () => {
    const { gh, d } = await lab.start(release, { summaryIssue: true, summaryPacing: { batchMs: 3_600_000, spacingMs: 0 }, github: { writeSpacingMs: 0 } });
    await until(() => summaries(gh).length === 1, "the summary issue");
    for (const [i, from] of ["127.0.0.2", "127.0.0.3"].entries()) {
      await bootOnce(d.url, from);
      expect((await report(d.url, from, { title: `w${i} passed` })).status).toBe(200);
      await until(() => gh.issues.length === i + 2, `w${i}'s issue`);
    }
    // Two jobs settled, two issues filed: the summary waits for its batch.
    expect(patches(gh)).toEqual([]);
    await bootOnce(d.url, "127.0.0.4");
    expect((await report(d.url, "127.0.0.4", { title: "w2 passed", labels: ["fail"] })).status).toBe(200);
    await until(() => summaries(gh)[0]!.state_reason === "completed", "the summary issue closed");
    expect(patches(gh)).toHaveLength(1);
    expect(summaries(gh)[0]!.body).toContain("**Done**: 3 jobs: 3 passed, 0 failed, 0 never run.");
    await d.stop();
    // Nothing changed since: stopping edits nothing more.
    expect(patches(gh)).toHaveLength(1);
  }, 30_000);

  test("with a short batch time the issue follows the run while it goes on, and an edit GitHub refuses is tried again", async () => {
    const { gh, d } = await lab.start(release, {
      summaryIssue: true,
      summaryPacing: { batchMs: 200, spacingMs: 0 },
      github: { writeSpacingMs: 0 },
      failLabels: ["fail"],
    });
    await until(() => summaries(gh).length === 1, "the summary issue");
    gh.faults.failNext.push({ route: "update-issue", status: 502, times: 1 });
    await bootOnce(d.url, "127.0.0.2");
    expect((await report(d.url, "127.0.0.2", { title: "w0 found a bug", labels: ["Fail"] })).status).toBe(200);
    await until(() => rowOf(summaries(gh)[0]!.body, "w0.efi")?.includes("❌ failed: the report carries the label Fail"), "w0 shown failed by its label", 15_000);
    expect(summaries(gh)[0]!.state_reason ?? null).toBeNull();
    expect(summaries(gh)[0]!.body).toContain("**Running**: 3 jobs: 0 passed, 1 failed (1 by its label), 0 never run, 2 pending.");
    expect(d.warnings.some((w) => w.startsWith("summary issue: editing failed"))).toBe(true);

    await bootOnce(d.url, "127.0.0.3");
    await until(() => rowOf(summaries(gh)[0]!.body, "w1.efi")?.includes("⚡ booting"), "w1 shown running");
    // Stopped before the run is over: the last edit says so, and the issue stays open for the next start.
    await d.stop();
    expect(summaries(gh)[0]!.body).toContain("**Stopped** before the run was over (the next start resumes it)");
    expect(summaries(gh)[0]!.state_reason ?? null).toBeNull();
  }, 30_000);
});
