import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runDispatch, startDispatchProcess } from "../support/dispatch-process.ts";
import { http } from "../support/http-client.ts";
import { pattern } from "../support/workloads.ts";
import { tempDirs } from "../support/temp-dirs.ts";

// The real CLI (`bun src/main.ts`) as a workload author runs it: --dir and --reports, no token
// anywhere, and a `gh` on the PATH that records it was asked (it must not be).

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  temp.removeAll();
});

const temp = tempDirs();
const tempDir = (prefix: string) => temp.make(prefix);

const root = new URL("../..", import.meta.url).pathname;

/** `bun src/main.ts` with no token in its environment and a `gh` that leaves a mark when run. */
function noToken() {
  const bin = tempDir("dispatch-bin-");
  const mark = join(bin, "gh-was-run");
  writeFileSync(join(bin, "gh"), `#!/bin/sh\ntouch ${mark}\nexit 1\n`);
  chmodSync(join(bin, "gh"), 0o755);
  return {
    launch: { command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: `${bin}:/usr/bin:/bin`, HOME: tempDir("dispatch-home-") } },
    ghWasRun: () => existsSync(mark),
  };
}

const local = ["--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain"];

describe("dispatch --dir … --reports …", () => {
  test("serves a build from a folder and writes its report into a folder, with no token and without asking gh", async () => {
    const out = tempDir("dispatch-out-");
    const results = join(tempDir("dispatch-results-"), "results"); // made by dispatch
    writeFileSync(join(out, "hello.efi"), pattern(20_000, 5));
    const { launch, ghWasRun } = noToken();
    const d = await startDispatchProcess(launch, ["--dir", out, "--reports", results, ...local]);
    cleanup.push(() => d.stop());
    await d.waitFor("no GitHub token needed");
    await d.waitFor(`reports go to report files in ${results}`);

    const head = await http(d.url, { method: "HEAD", from: "127.0.0.2" });
    expect([head.status, head.headers["content-length"], head.headers["content-type"]]).toEqual([200, "20000", "application/efi"]);
    expect((await http(d.url, { from: "127.0.0.2" })).body).toEqual(pattern(20_000, 5));
    expect((await http(d.url, { method: "POST", from: "127.0.0.2" })).status).toBe(200);
    const report = JSON.stringify({ title: "hello passed", body: "all 3 checks passed" });
    expect((await http(d.url, { method: "PUT", from: "127.0.0.2", body: report, headers: { "content-type": "application/json" } })).status).toBe(200);
    const finished = await d.waitFor("🏁 hello.efi finished: ");
    const [name] = readdirSync(results).filter((n) => n.endsWith(".efi.md"));
    expect(finished).toContain(join(results, name!));
    expect(readFileSync(join(results, name!), "utf8")).toContain('title: "hello passed"');
    expect(await d.stop()).toBe(0);
    expect(ghWasRun()).toBe(false);
  });

  test("a folder run that files issues still needs a token, and says how to get one", async () => {
    const { launch } = noToken();
    const r = await runDispatch(launch, ["--dir", tempDir("dispatch-out-"), "--owner", "o", "--repo", "r", ...local]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no GitHub token found");
  });

  test.each([
    [[], "say where the workloads come from: --owner OWNER --repo REPO"],
    [["--owner", "o"], "a release needs both --owner and --repo"],
    [["--dir", "out", "--tag", "v1", "--reports", "r"], "--tag picks a release, but --dir serves a folder"],
    [["--dir", "out"], "with --dir, reports are filed as issues of --owner/--repo: give both, or --reports DIR"],
    [["--dir", "out", "--reports", "r", "--owner", "o", "--repo", "r"], "with --dir and --reports nothing goes to GitHub"],
  ])("flags that do not fit together: %p", async (args, message) => {
    const { launch, ghWasRun } = noToken();
    const r = await runDispatch(launch, [...args, ...local]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(ghWasRun()).toBe(false);
  });
});
