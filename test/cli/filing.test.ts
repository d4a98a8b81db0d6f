// Fields GitHub refuses, through the real CLIs: dispatch as a process against the fake GitHub
// (which names one refused value per 422, as GitHub does), the report sent by `dispatch beacon`.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { type FakeGitHub, type FakeGitHubOptions, startFakeGitHub } from "../fake-github/index.ts";
import { runBeacon } from "../beacon/support/beacon-cli.ts";
import { bootOnce, report } from "../support/cycle.ts";
import { type DispatchProcess, fakeGitHubFlags, startDispatchProcess } from "../support/dispatch-process.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { until } from "../support/until.ts";
import { efi } from "../support/workloads.ts";

const root = new URL("../..", import.meta.url).pathname;
const fakes: FakeGitHub[] = [];
const processes: DispatchProcess[] = [];
const temp = tempDirs();
afterEach(async () => {
  await Promise.all(processes.splice(0).map((d) => d.stop()));
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
  temp.removeAll();
});

async function serve(options: Partial<FakeGitHubOptions>, extra: string[] = []) {
  const gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("memtest.efi", 4096)] }], ...options });
  fakes.push(gh);
  const d = await startDispatchProcess(
    { command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", GITHUB_TOKEN: gh.token } },
    [...fakeGitHubFlags(gh), "--log-format", "plain", "--exit-when-done", ...extra],
  );
  processes.push(d);
  return { gh, d };
}

/** The workload's side: boots from loopback (where beacon sends from), then `dispatch beacon report ARGS`. */
async function reportWith(d: DispatchProcess, args: string[]) {
  await bootOnce(d.url, "127.0.0.1");
  const sent = await runBeacon(["report", "-t", "memtest passed", ...args, "--url", d.url, "--no-mdns"], { stdin: "all 16 GiB good\n" });
  expect(sent).toMatchObject({ code: 0, stderr: "" });
}

const exits = (d: DispatchProcess) => until(async () => !d.running() && { code: await d.exited }, "dispatch to exit (--exit-when-done)", { timeoutMs: 30_000, context: () => d.output() });

const longLabel = "memory: 16 GiB DDR5-4800 ECC, all channels populated"; // 53 characters: GitHub takes 50

describe("only the values GitHub refuses are left out, and the report is always filed", () => {
  test("-a nobody -a octocat: filed with octocat, the body says nobody was left out and why", async () => {
    const { gh, d } = await serve({ assignable: ["octocat"] });
    await reportWith(d, ["-a", "nobody", "-a", "octocat", "-l", "lab"]);
    expect(await exits(d)).toEqual({ code: 0 });
    expect(gh.issues).toHaveLength(1);
    const issue = gh.issues[0]!;
    expect(issue.assignees).toEqual(["octocat"]);
    expect(issue.labels).toEqual(["lab"]);
    expect(issue.body).toStartWith("all 16 GiB good\n");
    expect(issue.body).toContain('dispatch filed this without the assignee `"nobody"`: GitHub refused it (422: Issue assignees invalid).');
    expect(issue.body).not.toContain('`"octocat"`');
  }, 40_000);

  test("a non-collaborator and a label over 50 characters, refused one per 422: filed with the rest, and --exit-when-done exits", async () => {
    const { gh, d } = await serve({ assignable: ["octocat"], milestones: [{ title: "Sprint 1" }] });
    await reportWith(d, ["-a", "octocat", "-a", "stranger", "-l", "lab", "-l", longLabel, "-m", "Sprint 1"]);
    expect(await exits(d)).toEqual({ code: 0 });
    expect(gh.issues).toHaveLength(1);
    const issue = gh.issues[0]!;
    expect(issue.title).toBe("memtest passed");
    expect(issue.assignees).toEqual(["octocat"]);
    expect(issue.labels).toEqual(["lab"]);
    expect(issue.milestone).toBe(1);
    expect(issue.body).toContain('without the assignee `"stranger"`: GitHub refused it (422: Issue assignees invalid).');
    expect(issue.body).toContain(`without the label \`${JSON.stringify(longLabel)}\`: GitHub refused it (422: Label name invalid). GitHub takes label names of up to 50 characters.`);
    // Two refusals, two 422s, then the issue: never a start again with every field.
    const creates = gh.requests.filter((r) => r.method === "POST" && r.path.endsWith("/issues"));
    expect(creates).toHaveLength(4); // the start-up check (empty title), two 422s, the issue
  }, 40_000);
});

describe("a second report GitHub refuses for good does not hold the run", () => {
  test("issues turned off after the job's issue: --exit-when-done exits 1, names it and keeps its text", async () => {
    // Two jobs, so the run is not over once the first is filed.
    // A state folder of the test's own: the kept texts are read after dispatch has exited.
    const state = temp.make("dispatch-refused-extra-");
    const { gh, d } = await serve({ releases: [{ tag: "v1", assets: [efi("memtest.efi", 4096), efi("stream.efi", 4097)] }] }, ["--state", state]);
    await bootOnce(d.url, "127.0.0.1");
    const first = await runBeacon(["report", "-t", "memtest passed", "--url", d.url, "--no-mdns"], { stdin: "all good\n" });
    expect(first).toMatchObject({ code: 0, stderr: "" });
    await until(() => gh.issues.length === 1, "the job's issue");
    gh.settings.hasIssues = false;
    // The same server reports again: kept as a second report, then refused by GitHub (410) for good.
    const second = await runBeacon(["report", "-t", "rerun: DIMM 3 errors", "--url", d.url, "--no-mdns"], { stdin: "EDAC: 12 CE on DIMM 3\n" });
    expect(second).toMatchObject({ code: 0, stderr: "" });
    await until(() => d.output().includes("adding the second report to its issue failed, will retry: "), "the refusal logged");
    // The other job runs and is refused too; then nothing waiting could bring is left.
    await bootOnce(d.url, "127.0.0.2");
    expect((await report(d.url, "127.0.0.2", { title: "stream passed" })).status).toBe(200);
    expect(await exits(d)).toEqual({ code: 1 });
    const output = d.output();
    expect(output).toContain("not filed: adding the second report to the job's issue: issues are turned off for the repository (410).");
    expect(output).toContain("not filed: filing the issue: issues are turned off for the repository (410).");
    const kept = /memtest\.efi \(second report 1\): its text is in (\S+)/.exec(output);
    expect(kept).not.toBeNull();
    expect(readFileSync(kept![1]!, "utf8")).toBe("# rerun: DIMM 3 errors\n\nEDAC: 12 CE on DIMM 3\n\n");
    expect(output).toContain("stream.efi: its text is in ");
    expect(gh.issues).toHaveLength(1);
    expect(gh.comments).toHaveLength(0);
  }, 40_000);
});
