// Fields GitHub refuses, through the real CLIs: dispatch as a process against the fake GitHub
// (which names one refused value per 422, as GitHub does), the report sent by `dispatch beacon`.
import { afterEach, describe, expect, test } from "bun:test";
import { type FakeGitHub, type FakeGitHubOptions, startFakeGitHub } from "../fake-github/index.ts";
import { runBeacon } from "../beacon/support/beacon-cli.ts";
import { bootOnce } from "../support/cycle.ts";
import { type DispatchProcess, fakeGitHubFlags, startDispatchProcess } from "../support/dispatch-process.ts";
import { until } from "../support/until.ts";
import { efi } from "../support/workloads.ts";

const root = new URL("../..", import.meta.url).pathname;
const fakes: FakeGitHub[] = [];
const processes: DispatchProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((d) => d.stop()));
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

async function serve(options: Partial<FakeGitHubOptions>) {
  const gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("memtest.efi", 4096)] }], ...options });
  fakes.push(gh);
  const d = await startDispatchProcess(
    { command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", GITHUB_TOKEN: gh.token } },
    [...fakeGitHubFlags(gh), "--log-format", "plain", "--exit-when-done"],
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
