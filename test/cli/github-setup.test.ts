// What users of the earlier dispatch see on the GitHub side, through the real CLI: --tag as they
// know it, a run that could never file stopped before serving, and GitHub Enterprise as set up.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeGitHub, type FakeGitHubOptions, startFakeGitHub } from "../fake-github/index.ts";
import { bootOnce, report } from "../support/cycle.ts";
import { type DispatchProcess, runDispatch, startDispatchProcess } from "../support/dispatch-process.ts";
import { http } from "../support/http-client.ts";
import { efi, other, pattern } from "../support/workloads.ts";
import { tempDirs } from "../support/temp-dirs.ts";

const READ_ONLY = "github_pat_readonly456";
const root = new URL("../..", import.meta.url).pathname;
const bunWith = (extra: Record<string, string> = {}) => ({
  command: [process.execPath, "src/main.ts"],
  cwd: root,
  env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...extra },
});

const fakes: FakeGitHub[] = [];
const processes: DispatchProcess[] = [];
const temp = tempDirs();
const servers: ReturnType<typeof Bun.serve>[] = [];
afterEach(async () => {
  await Promise.all(processes.splice(0).map((d) => d.stop()));
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
  await Promise.all(servers.splice(0).map((s) => s.stop(true)));
  temp.removeAll();
});

async function fake(options: Partial<FakeGitHubOptions> = {}) {
  const gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("memtest.efi", 4096)] }], readOnlyToken: READ_ONLY, ...options });
  fakes.push(gh);
  return gh;
}
const flags = (gh: FakeGitHub, ...more: string[]) => ["--owner", gh.owner, "--repo", gh.repo, "--api-url", gh.apiUrl, "--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain", ...more];
async function run(args: string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await runDispatch(bunWith(env), args);
  return { code, output: stdout + stderr };
}
async function serve(args: string[], env: Record<string, string>) {
  const d = await startDispatchProcess(bunWith(env), args);
  processes.push(d);
  return d;
}
const tempDir = () => temp.make("dispatch-github-");

describe("--tag as users know it", () => {
  test("a forgotten --tag is a usage error (exit 2) that says what to give, and serves nothing", async () => {
    const gh = await fake();
    const { code, output } = await run(flags(gh), { GITHUB_TOKEN: gh.token });
    expect(code).toBe(2);
    expect(output).toContain("Missing required argument: --tag");
    expect(output).toContain("--tag latest");
    expect(output).not.toContain("listening on");
    expect(gh.requests).toEqual([]);
  });

  test("--tag latest serves the newest release with a matching workload, a prerelease too, and the start line says so", async () => {
    const gh = await fake({
      releases: [
        { tag: "v1", assets: [efi("memtest.efi", 4096)], createdAt: "2025-04-01T00:00:00Z" },
        { tag: "v2-rc1", assets: [efi("memtest.efi", 8192)], prerelease: true, createdAt: "2025-05-01T00:00:00Z" },
        { tag: "notes", assets: [other("README.txt", 10)], createdAt: "2025-06-01T00:00:00Z" },
      ],
    });
    const d = await serve(flags(gh, "--tag", "latest", "memtest"), { GITHUB_TOKEN: gh.token });
    const line = await d.waitFor("assets,");
    expect(line).toContain("release v2-rc1 (prerelease; newest with a matching workload, for --tag latest) of AMDEPYC/dispatch");
    expect(line).toContain("1 queued");
    expect(await d.stop()).toBe(0);
  });

  test("a tag that is not there names the newest tags; a repository that is not there is named as such", async () => {
    const gh = await fake();
    const tag = await run(flags(gh, "--tag", "v9"), { GITHUB_TOKEN: gh.token });
    expect(tag.code).toBe(1);
    expect(tag.output).toContain('AMDEPYC/dispatch has no published release tagged "v9"');
    expect(tag.output).toContain("its newest: v1");
    const repo = await run([...flags(gh, "--tag", "v1"), "--repo", "dispach"], { GITHUB_TOKEN: gh.token });
    expect(repo.code).toBe(1);
    expect(repo.output).toContain("there is no repository AMDEPYC/dispach");
    expect(repo.output).not.toContain(gh.token);
  });
});

describe("a run that could never file stops before serving", () => {
  test("issues turned off: exit 2, says where to turn them on; nothing listens, no journal", async () => {
    const gh = await fake({ hasIssues: false });
    const state = tempDir();
    const { code, output } = await run(flags(gh, "--tag", "v1", "--state", state), { GITHUB_TOKEN: gh.token });
    expect(code).toBe(2);
    expect(output).toContain("not started, as no report could ever be filed: issues are turned off for AMDEPYC/dispatch");
    expect(output).toContain("Settings → General → Features → Issues");
    expect(output).not.toContain("listening on");
    expect(existsSync(join(state, "journal.jsonl"))).toBe(false);
    expect(gh.issues).toEqual([]);
  });

  test("a token that may read the release but not write issues: exit 2, names the permission", async () => {
    const gh = await fake();
    const { code, output } = await run(flags(gh, "--tag", "v1"), { GITHUB_TOKEN: READ_ONLY });
    expect(code).toBe(2);
    expect(output).toContain("the token may not file issues in AMDEPYC/dispatch");
    expect(output).toContain("issues=write");
    expect(output).toContain("Issues: read and write");
    expect(output).not.toContain("listening on");
    expect(output).not.toContain(READ_ONLY);
    expect(gh.issues).toEqual([]);
  });

  test("the check cannot run (GitHub answers 5xx to it): a warning, and the run goes on", async () => {
    const gh = await fake();
    gh.faults.failNext.push({ route: "repository", status: 502, times: 1 }, { route: "issue", status: 502, times: 1 });
    const d = await serve(flags(gh, "--tag", "v1"), { GITHUB_TOKEN: gh.token });
    expect(d.lines.join("\n")).toContain("could not check that issues can be filed");
    expect(await d.stop()).toBe(0);
  });

  test("refused during the run (issues turned off mid-run): --exit-when-done ends with 1 and names the kept report; the next start files it", async () => {
    const gh = await fake();
    const state = tempDir();
    const args = flags(gh, "--tag", "v1", "--state", state, "--exit-when-done");
    const first = await serve(args, { GITHUB_TOKEN: gh.token });
    gh.settings.hasIssues = false;
    await bootOnce(first.url, "127.0.0.2");
    expect((await report(first.url, "127.0.0.2", { title: "memtest passed", body: "all 16 GiB good" })).status).toBe(200);
    expect(await first.exited).toBe(1);
    const output = first.lines.join("\n");
    expect(output).toContain("issues are turned off");
    expect(output).toContain("1 not filed");
    expect(output).toContain("not filed: filing the issue: issues are turned off");
    const kept = /memtest\.efi: its text is in (\S+\.md)/.exec(output)?.[1];
    expect(kept).toBeDefined();
    expect(kept!.startsWith(join(state, "reports"))).toBe(true);
    expect(readFileSync(kept!, "utf8")).toContain("all 16 GiB good");
    expect(output).toContain(`the reports are kept in ${state}`);
    expect(gh.issues).toEqual([]);

    gh.settings.hasIssues = true;
    const second = await serve(args, { GITHUB_TOKEN: gh.token });
    expect(await second.exited).toBe(0);
    expect(gh.issues.map((i) => i.title)).toEqual(["memtest passed"]);
  }, 40_000);
});

describe("GitHub Enterprise Server as its users set it up", () => {
  test("the web address finds /api/v3, gh gives the token of that host, and assets come from storage on another host", async () => {
    const data = pattern(300_000, 5);
    const gh = await fake({ apiPrefix: "/api/v3", storageHost: "127.0.0.2", releases: [{ tag: "v1", assets: [{ name: "memtest.efi", contentType: "application/vnd.dispatch+efi", data }] }] });
    // A gh that knows only the Enterprise host's login, as after `gh auth login --hostname`.
    const bin = tempDir();
    writeFileSync(join(bin, "gh"), `#!/bin/sh\n[ "$*" = "auth token --hostname 127.0.0.1" ] && echo ${gh.token} && exit 0\nexit 1\n`);
    chmodSync(join(bin, "gh"), 0o755);
    const d = await serve([...flags(gh, "--tag", "v1"), "--api-url", gh.webUrl], { PATH: `${bin}:/usr/bin:/bin` });
    expect(d.lines.join("\n")).toContain(`using ${gh.apiUrl}`);
    const reply = await http(d.url, { from: "127.0.0.3" });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual(data);
    expect(gh.requests.some((r) => r.host === "storage")).toBe(true);
    expect(gh.storageSawAuthorization).toBe(false);
    expect(await d.stop()).toBe(0);
  });

  test("an --api-url that is not GitHub at all: exit 2, naming /api/v3", async () => {
    const web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<html>wiki</html>", { status: 404, headers: { "content-type": "text/html" } }) });
    servers.push(web);
    const { code, output } = await run(["-o", "lab", "-r", "workloads", "-t", "v1", "--api-url", `http://127.0.0.1:${web.port}`, "--bind", "127.0.0.1:0", "--no-mdns"], { GITHUB_TOKEN: "ghp_x" });
    expect(code).toBe(2);
    expect(output).toContain("/api/v3");
    expect(output).not.toContain("ghp_x");
  });
});
