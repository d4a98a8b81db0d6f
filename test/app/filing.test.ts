import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { bootOnce, report, status } from "../support/cycle.ts";
import { type TestDispatch, dispatchPerTest, until } from "../support/dispatch.ts";
import { holds } from "../support/until.ts";
import { http, text } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";

// Real servers and retries with waits of a second or more: more room than the 5 s default on a busy machine.
setDefaultTimeout(20_000);

const lab = dispatchPerTest();

/** A fake GitHub with `n` workloads and a dispatch that files quickly (tests only: write spacing and retry waits shortened). */
async function setup(n = 1, options: { assignable?: string[]; milestones?: { title: string }[]; fileFailures?: boolean } = {}) {
  const assets = Array.from({ length: n }, (_, i) => efi(`w${i}.efi`, 2000 + i));
  return lab.start({ releases: [{ tag: "v1", assets }], assignable: options.assignable, milestones: options.milestones }, { github: { writeSpacingMs: 5 }, retryDelayMs: () => 100, fileFailures: options.fileFailures });
}

const jobState = async (d: TestDispatch, name = "w0.efi") => (await status(d.port)).find((j) => j.name === name)!;

describe("a report is answered once it is in the journal, then filed", () => {
  test("the 200 comes after the report's line is in the journal file", async () => {
    const { d, gh } = await setup();
    await bootOnce(d.url, "127.0.0.2");
    const reply = await report(d.url, "127.0.0.2", { title: "passed" });
    expect(reply.status).toBe(200);
    const journal = readFileSync(join(d.stateDir, "journal.jsonl"), "utf8");
    expect(journal).toContain('"type":"reported"');
    expect(journal).toContain('"title":"passed"');
    await until(() => gh.issues.length === 1, "the issue");
  });

  test("the same report sent again (its answer lost) is 200 again and files nothing more", async () => {
    const { d, gh } = await setup();
    await bootOnce(d.url, "127.0.0.2");
    expect((await report(d.url, "127.0.0.2", { title: "passed" })).status).toBe(200);
    const again = await report(d.url, "127.0.0.2", { title: "passed" });
    expect(again.status).toBe(200);
    expect(text(again)).toContain("w0.efi");
    await until(() => gh.issues.length === 1, "the issue");
    await until(() => d.lines.some((l) => l.includes("🏁 w0.efi finished")), "finished");
    expect((await report(d.url, "127.0.0.2", { title: "passed" })).status).toBe(200);
    // The filer acts on the store's change, and writes go 5 ms apart here: a second issue
    // would be filed within a few ms. 300 ms is the window this watches.
    await holds(() => gh.issues.length === 1 && gh.comments.length === 0, "one issue, no comment", 300);
    expect(gh.issues).toHaveLength(1);
  });

  test("a second, different report is kept: a comment on the job's issue, once, and the run settles after it", async () => {
    const { d, gh } = await setup();
    await bootOnce(d.url, "127.0.0.2");
    expect((await report(d.url, "127.0.0.2", { title: "passed" })).status).toBe(200);
    const second = await report(d.url, "127.0.0.2", { title: "rerun: failed", body: "DIMM 3 errors", labels: ["fail"] });
    expect(second.status).toBe(200);
    expect(text(second)).toContain("second report");
    await until(() => gh.comments.length === 1, "the comment");
    expect(gh.issues).toHaveLength(1);
    const comment = gh.comments[0]!;
    expect(comment.issue).toBe(gh.issues[0]!.number);
    expect(comment.body).toContain("**Another report from 127.0.0.2**");
    expect(comment.body).toContain("rerun: failed");
    expect(comment.body).toContain("DIMM 3 errors");
    expect(comment.body).toContain("labels `fail`");
    await until(() => d.lines.some((l) => l.includes("w0.efi: second report added: ")), "the log line");
    // Sent again (its answer lost): recognised, nothing more added.
    expect((await report(d.url, "127.0.0.2", { title: "rerun: failed", body: "DIMM 3 errors", labels: ["fail"] })).status).toBe(200);
    await holds(() => gh.comments.length === 1, "one comment", 300);
  });
});

describe("GitHub errors are retried until the issue is filed, once", () => {
  test("5xx several times: the job shows `reported` with the last error, then one issue", async () => {
    const { d, gh } = await setup();
    gh.faults.failNext.push({ route: "issue", status: 502, times: 3 });
    await bootOnce(d.url, "127.0.0.2");
    expect((await report(d.url, "127.0.0.2", { title: "t" })).status).toBe(200);
    await until(() => d.lines.some((l) => l.includes("filing the issue failed")), "a failure");
    const failing = await jobState(d);
    expect(failing.state).toBe("reported");
    expect(failing.error).toContain("502");
    await until(() => gh.issues.length === 1, "the issue", 15_000);
    await until(() => d.lines.some((l) => l.includes("🏁 w0.efi finished")), "finished");
    expect(gh.issues).toHaveLength(1);
    expect((await jobState(d)).error).toBeNull();
  });

  test("GitHub creates the issue but answers 502: the retry finds it instead of filing a second", async () => {
    const { d, gh } = await setup();
    gh.faults.failAfterCreate = { status: 502, times: 1 };
    await bootOnce(d.url, "127.0.0.2");
    await report(d.url, "127.0.0.2", { title: "t" });
    await until(() => d.lines.some((l) => l.includes("🏁 w0.efi finished")), "finished", 15_000);
    expect(gh.issues).toHaveLength(1);
    expect((await jobState(d)).issue?.number).toBe(1);
    expect(gh.requests.some((r) => r.method === "GET" && r.path.startsWith(`/repos/${gh.owner}/${gh.repo}/issues?`))).toBe(true);
  });

  test("a timeout counts as an unknown outcome too: looked up before filing again", async () => {
    const { gh, d } = await lab.start({ releases: [{ tag: "v1", assets: [efi("w0.efi", 2000)] }] }, { github: { writeSpacingMs: 5, timeoutMs: 300 }, retryDelayMs: () => 100 });
    gh.faults.issueResponseDelayMs = 1500;
    await bootOnce(d.url, "127.0.0.2");
    await report(d.url, "127.0.0.2", { title: "t" });
    await until(() => d.lines.some((l) => l.includes("outcome unknown")), "the timeout");
    delete gh.faults.issueResponseDelayMs;
    await until(() => d.lines.some((l) => l.includes("🏁 w0.efi finished")), "finished", 15_000);
    expect(gh.issues).toHaveLength(1);
  });

  test("a rate limit waits for the reset time GitHub names, and the job says until when", async () => {
    const { d, gh } = await setup();
    const reset = Math.ceil(Date.now() / 1000) + 2;
    gh.faults.failNext.push({ route: "issue", status: 403, times: 1, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) } });
    await bootOnce(d.url, "127.0.0.2");
    await report(d.url, "127.0.0.2", { title: "t" });
    await until(() => d.lines.some((l) => l.includes("rate limit: waiting until")), "the rate limit");
    expect((await jobState(d)).error).toContain(new Date(reset * 1000 + 1000).toISOString());
    await until(() => gh.issues.length === 1, "the issue", 15_000);
    // Not before the reset: a lower bound, so it cannot flake on a slow machine.
    expect(Date.now()).toBeGreaterThanOrEqual(reset * 1000);
    expect(gh.issues).toHaveLength(1);
  });

  test("a secondary rate limit waits for retry-after", async () => {
    const { d, gh } = await setup();
    gh.faults.failNext.push({ route: "issue", status: 403, times: 1, headers: { "retry-after": "1" } });
    const t0 = Date.now();
    await bootOnce(d.url, "127.0.0.2");
    await report(d.url, "127.0.0.2", { title: "t" });
    await until(() => gh.issues.length === 1, "the issue", 15_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(d.lines.some((l) => l.includes("secondary rate limit"))).toBe(true);
  });

  test("GitHub down for a while (503 to everything): the report waits and is filed once it is back", async () => {
    const { d, gh } = await setup();
    await bootOnce(d.url, "127.0.0.2");
    gh.faults.down = true;
    await report(d.url, "127.0.0.2", { title: "t" });
    await until(() => d.lines.filter((l) => l.includes("filing the issue failed")).length >= 3, "three failures");
    expect((await jobState(d)).state).toBe("reported");
    gh.faults.down = false;
    await until(() => gh.issues.length === 1, "the issue", 15_000);
  });
});

describe("fields GitHub refuses", () => {
  test("an assignee who cannot be assigned: filed without, and the body says so", async () => {
    const { d, gh } = await setup(1, { assignable: ["octocat"] });
    await bootOnce(d.url, "127.0.0.2");
    await report(d.url, "127.0.0.2", { title: "t", body: "results", assignees: ["nobody"], labels: ["lab"] });
    await until(() => gh.issues.length === 1, "the issue");
    const issue = gh.issues[0]!;
    expect(issue.assignees).toEqual([]);
    expect(issue.labels).toEqual(["lab"]);
    expect(issue.body).toContain('without the assignee `"nobody"`: GitHub refused it (422: Issue assignees invalid).');
    expect(issue.body).toStartWith("results");
  });

  test("what GitHub refused is remembered across a failed attempt: a 502 between two 422s never starts again with every field", async () => {
    const { d, gh } = await setup(1, { assignable: ["octocat"] });
    const long = "l".repeat(51);
    // The start-up check has made its request; of the issue creations from here, the second is a 502.
    gh.faults.failNext.push({ route: "issue", status: 502, times: 1, after: 1 });
    const creates = () => gh.requests.filter((r) => r.method === "POST" && r.path.endsWith("/issues")).length;
    const before = creates();
    await bootOnce(d.url, "127.0.0.2");
    await report(d.url, "127.0.0.2", { title: "t", assignees: ["nobody", "octocat"], labels: ["lab", long] });
    await until(() => gh.issues.length === 1, "the issue");
    // 422 (nobody), 502, 422 (the long label), 201: the retry after the 502 did not send nobody again.
    expect(creates() - before).toBe(4);
    const issue = gh.issues[0]!;
    expect(issue.assignees).toEqual(["octocat"]);
    expect(issue.labels).toEqual(["lab"]);
    expect(issue.body?.match(/without the assignee `"nobody"`/g)).toHaveLength(1);
    expect(issue.body).toContain(`without the label \`"${long}"\``);
  });

  test("a 422 that names none of the optional fields: filed with title and body alone, saying so", async () => {
    const { d, gh } = await setup();
    gh.faults.failNext.push({ route: "issue", status: 422, times: 1, body: { message: "Validation Failed", errors: [{ resource: "Issue", code: "custom", field: "body", message: "body is spam" }], documentation_url: "x" } });
    await bootOnce(d.url, "127.0.0.2");
    await report(d.url, "127.0.0.2", { title: "t", body: "results", assignees: ["octocat"], labels: ["lab"] });
    await until(() => gh.issues.length === 1, "the issue");
    const issue = gh.issues[0]!;
    expect([issue.assignees, issue.labels]).toEqual([[], []]);
    expect(issue.body).toContain('without the label `"lab"`: GitHub refused the issue with it (422: Issue body custom: body is spam).');
    expect(issue.body).toContain('without the assignee `"octocat"`');
  });

  test("a milestone the repository does not have: filed without, and the body says so", async () => {
    const { d, gh } = await setup(1, { milestones: [{ title: "Sprint 1" }] });
    await bootOnce(d.url, "127.0.0.2");
    await report(d.url, "127.0.0.2", { title: "t", milestone: "Sprint 9" });
    await until(() => gh.issues.length === 1, "the issue");
    expect(gh.issues[0]!.milestone).toBeNull();
    expect(gh.issues[0]!.body).toContain('without the milestone "Sprint 9"');
  });

  test("a known milestone is set by number", async () => {
    const { d, gh } = await setup(1, { milestones: [{ title: "Sprint 0" }, { title: "Sprint 1" }] });
    await bootOnce(d.url, "127.0.0.2");
    await report(d.url, "127.0.0.2", { title: "t", milestone: "Sprint 1" });
    await until(() => gh.issues.length === 1, "the issue");
    expect(gh.issues[0]!.milestone).toBe(2);
  });
});

test("a body over 65,536 characters is cut with a marker, and the full text is kept in the state folder", async () => {
  const { d, gh } = await setup();
  const body = `BEGIN ${"0123456789".repeat(80_000)} END`;
  await bootOnce(d.url, "127.0.0.2");
  expect((await report(d.url, "127.0.0.2", { title: "big", body })).status).toBe(200);
  await until(() => gh.issues.length === 1, "the issue");
  const filed = gh.issues[0]!.body!;
  expect(filed.length).toBeLessThanOrEqual(65_536);
  expect(filed).toStartWith("BEGIN 0123");
  expect(filed).toContain("Cut by dispatch");
  const kept = readdirSync(join(d.stateDir, "reports"));
  expect(kept).toHaveLength(1);
  expect(filed).toContain(`\`reports/${kept[0]!}\``);
  expect(filed).not.toContain(d.stateDir);
  expect(readFileSync(join(d.stateDir, "reports", kept[0]!), "utf8")).toBe(body);
});

describe("--file-failures", () => {
  test("a failed job gets an issue with reason, server and times", async () => {
    const { d, gh } = await setup(2, { fileFailures: true });
    await bootOnce(d.url, "127.0.0.2");
    // Booted, never reported, asks for a new workload: w0 fails.
    expect((await http(d.url, { method: "HEAD", from: "127.0.0.2" })).status).toBe(200);
    await until(() => gh.issues.length === 1, "the failure issue");
    const issue = gh.issues[0]!;
    expect(issue.title).toContain("w0.efi failed");
    expect(issue.body).toContain("booted but never reported");
    expect(issue.body).toContain("Server: 127.0.0.2");
    expect(issue.body).toMatch(/- booting: \d{4}-/);
    await until(() => d.lines.some((l) => l.includes("failure filed")), "the log line");
    expect((await jobState(d)).issue?.number).toBe(1);
  });

  test("without it, failures are not filed", async () => {
    const { d, gh } = await setup(2);
    await bootOnce(d.url, "127.0.0.2");
    await http(d.url, { method: "HEAD", from: "127.0.0.2" });
    await until(async () => (await jobState(d)).state === "failed", "w0 to fail");
    // A failure is filed as soon as it happens (writes 5 ms apart here): 300 ms is the window.
    await holds(() => gh.issues.length === 0, "no issue", 300);
    expect(gh.issues).toHaveLength(0);
    expect(existsSync(join(d.stateDir, "journal.jsonl"))).toBe(true);
  });
});

describe("GitHub refuses for good", () => {
  test("issues turned off mid-run: the job shows why and that it is kept, is retried slowly, and is filed once they are back", async () => {
    const { gh, d } = await lab.start({ releases: [{ tag: "v1", assets: [efi("w0.efi", 2000)] }] }, { github: { writeSpacingMs: 5 }, retryDelayMs: () => 100, refusedDelayMs: () => 1500 });
    gh.settings.hasIssues = false;
    await bootOnce(d.url, "127.0.0.2");
    expect((await report(d.url, "127.0.0.2", { title: "t" })).status).toBe(200);
    await until(async () => (await jobState(d)).error !== null, "the refusal in the status");
    const refused = await jobState(d);
    expect(refused.state).toBe("reported");
    expect(refused.error).toContain("issues are turned off");
    expect(refused.error).toContain("the report is kept");
    // The slow wait, not the 100 ms one: within a second nothing more is asked.
    const attempts = () => gh.requests.filter((r) => r.method === "POST" && r.path.endsWith("/issues")).length;
    const before = attempts();
    await Bun.sleep(1000);
    expect(attempts()).toBe(before);
    gh.settings.hasIssues = true;
    await until(() => gh.issues.length === 1, "the issue once issues are back", 10_000);
    await until(async () => (await jobState(d)).state === "finished", "finished");
    expect((await jobState(d)).error).toBeNull();
  });
});
