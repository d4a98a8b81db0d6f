import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { actionsOutputLines } from "../../src/app/sinks/summary-actions.ts";
import { runDispatch, startDispatchProcess } from "../support/dispatch-process.ts";
import { http } from "../support/http-client.ts";
import { run } from "../support/processes.ts";
import { until } from "../support/until.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { pattern } from "../support/workloads.ts";
import { readActionsOutputs } from "./actions-outputs.ts";

// The real CLI (`bun src/main.ts`) with --junit, --reports and --fail-label, its JUnit file read
// by a real consumer (Debian's python3-junitparser) and checked against the schema Jenkins' xUnit
// plugin validates with (xmllint, Debian's libxml2-utils); SUMMARY.md and GitHub Actions' files too.

const cleanup: (() => Promise<unknown> | unknown)[] = [];
const temp = tempDirs();
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  temp.removeAll();
});

const tempDir = (prefix: string) => temp.make(prefix);

const root = new URL("../..", import.meta.url).pathname;
const schema = join(import.meta.dir, "junit-10.xsd");
const launch = (env: Record<string, string> = {}) => ({
  command: [process.execPath, "src/main.ts"],
  cwd: root,
  env: { PATH: "/usr/bin:/bin", HOME: tempDir("dispatch-home-"), ...env },
});
const local = ["--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain"];

type Read = {
  name: string;
  tests: number;
  failures: number;
  errors: number;
  suites: {
    name: string;
    tests: number;
    failures: number;
    errors: number;
    skipped: number;
    properties: Record<string, string>;
    cases: { name: string; classname: string; time: number; passed: boolean; results: { kind: string; message: string; type: string; text: string | null }[]; system_out: string | null }[];
  }[];
};

/** What junitparser reads from the file. */
function junitparser(path: string): Read {
  const { stdout } = run(["/usr/bin/python3", join(import.meta.dir, "read-junit.py"), path]);
  return JSON.parse(stdout) as Read;
}

/** xmllint's verdict against Jenkins' schema: "" when valid, else its complaints. */
function schemaProblems(path: string): string {
  const result = run(["xmllint", "--noout", "--schema", schema, path], { allowFailure: true });
  return result.code === 0 ? "" : result.stderr;
}

const put = (url: string, from: string, report: unknown) =>
  http(url, { method: "PUT", from, body: JSON.stringify(report), headers: { "content-type": "application/json" } });

async function bootFrom(url: string, from: string) {
  expect((await http(url, { method: "HEAD", from })).status).toBe(200);
  expect((await http(url, { from })).status).toBe(200);
  expect((await http(url, { method: "POST", from })).status).toBe(200);
}

describe("--junit, --fail-label, SUMMARY.md and GitHub Actions, through the real CLI", () => {
  test("a run with finished, failed, never-run and failing-label jobs: read by junitparser, valid against junit-10.xsd, exit 1", async () => {
    const out = tempDir("dispatch-out-");
    const results = join(tempDir("dispatch-results-"), "results");
    const ci = tempDir("dispatch-ci-");
    const junit = join(ci, "dispatch.xml");
    const stepSummary = join(ci, "step-summary.md");
    const outputs = join(ci, "outputs");
    writeFileSync(stepSummary, "earlier step\n");
    writeFileSync(outputs, "earlier=1\n");
    for (const [i, name] of ["a-pass.efi", "b-hang.efi", "c-labelled.efi", "d-gone.efi"].entries()) writeFileSync(join(out, name), pattern(4096 + i, i + 1));

    const d = await startDispatchProcess(launch({ GITHUB_STEP_SUMMARY: stepSummary, GITHUB_OUTPUT: outputs }), [
      "--dir", out, "--reports", results, "--junit", junit, "--fail-label", "fail", "--fail-label", "regression", "--exit-when-done", ...local,
    ]);
    cleanup.push(() => d.stop());

    // Written at start: every job still to come (skipped), and already valid.
    const atStart = junitparser(junit);
    expect(atStart.suites[0]!.cases.map((c) => [c.name, c.results[0]?.kind])).toEqual([
      ["a-pass.efi", "skipped"], ["b-hang.efi", "skipped"], ["c-labelled.efi", "skipped"], ["d-gone.efi", "skipped"],
    ]);
    expect(schemaProblems(junit)).toBe("");

    // a: passes, with a body full of what XML 1.0 cannot hold.
    await bootFrom(d.url, "127.0.0.2");
    const body = "memtest: 4 passes\n\u0000\u0007\u001b[31mred\u001b[0m <tag> & \"quotes\" ]]> \ud800 lone surrogate 😀\n";
    expect((await put(d.url, "127.0.0.2", { title: "a passed", body, labels: ["pass"] })).status).toBe(200);
    await d.waitFor("🏁 a-pass.efi finished");
    // b: booted, then its server asks for the next workload without a report: failed, it ran.
    await bootFrom(d.url, "127.0.0.3");
    await d.waitFor("⚡ b-hang.efi");
    // c: its report carries a failing label (any case, as GitHub compares labels).
    expect((await http(d.url, { method: "HEAD", from: "127.0.0.3" })).status).toBe(200);
    await d.waitFor("❌ b-hang.efi failed");
    expect((await http(d.url, { from: "127.0.0.3" })).status).toBe(200);
    expect((await http(d.url, { method: "POST", from: "127.0.0.3" })).status).toBe(200);
    expect((await put(d.url, "127.0.0.3", { title: "c found a regression", body: "3 errors", labels: ["memtest", "Regression"] })).status).toBe(200);
    await d.waitFor("🏁 c-labelled.efi finished");
    // d: its file is removed before any server downloads it: it never runs.
    rmSync(join(out, "d-gone.efi"));
    expect((await http(d.url, { method: "HEAD", from: "127.0.0.4" })).status).toBe(200);
    // The download breaks off (the file is not the queued build any more); how is beside the point here.
    await http(d.url, { from: "127.0.0.4" }).catch(() => undefined);

    expect(await d.exited).toBe(1);
    expect(d.lines.some((l) => l.includes("done: 2 finished, 2 failed, 1 failed by a --fail-label"))).toBe(true);

    expect(schemaProblems(junit)).toBe("");
    const read = junitparser(junit);
    expect([read.name, read.tests, read.failures, read.errors]).toEqual(["dispatch", 4, 2, 1]);
    const [suite] = read.suites;
    expect(suite!.name).toBe(`folder ${out}`);
    expect([suite!.tests, suite!.failures, suite!.errors, suite!.skipped]).toEqual([4, 2, 1, 0]);
    expect(suite!.properties).toMatchObject({ repository: out, release: "folder" });
    const cases = Object.fromEntries(suite!.cases.map((c) => [c.name, c]));
    expect(Object.keys(cases)).toEqual(["a-pass.efi", "b-hang.efi", "c-labelled.efi", "d-gone.efi"]);
    for (const c of suite!.cases) expect(c.classname).toBe(`folder ${out}`);

    const reportFiles = readdirSync(results).filter((f) => f !== "SUMMARY.md" && !f.startsWith("."));
    const fileOf = (workload: string) => join(results, reportFiles.find((f) => f.endsWith(`_${workload}.md`))!);
    expect(cases["a-pass.efi"]!.passed).toBe(true);
    expect(cases["a-pass.efi"]!.results).toEqual([]);
    // The body as system-out, with the characters XML forbids replaced and the rest kept exactly.
    expect(cases["a-pass.efi"]!.system_out).toBe(
      `report: a passed\nissue: ${fileOf("a-pass.efi")}\n\nmemtest: 4 passes\n\ufffd\ufffd\ufffd[31mred\ufffd[0m <tag> & "quotes" ]]> \ufffd lone surrogate 😀\n`,
    );
    expect(suite!.properties["issue: a-pass.efi"]).toBe(fileOf("a-pass.efi"));
    expect(suite!.properties["issue: c-labelled.efi"]).toBe(fileOf("c-labelled.efi"));
    expect(cases["a-pass.efi"]!.time).toBeGreaterThanOrEqual(0);

    expect(cases["b-hang.efi"]!.results).toMatchObject([{ kind: "failure", type: "failed" }]);
    expect(cases["b-hang.efi"]!.results[0]!.message).toBe("booted but never reported: the server asked for a new workload");
    expect(cases["b-hang.efi"]!.results[0]!.text).toContain("server: 127.0.0.3");

    expect(cases["c-labelled.efi"]!.results).toMatchObject([{ kind: "failure", type: "failing-label", message: "the report carries the label Regression" }]);
    expect(cases["c-labelled.efi"]!.system_out).toContain("3 errors");

    expect(cases["d-gone.efi"]!.results).toMatchObject([{ kind: "error", type: "never-run" }]);
    expect(cases["d-gone.efi"]!.results[0]!.message).toContain("d-gone.efi was removed");

    // SUMMARY.md beside the reports: every job, its state, its report file linked by name.
    const summary = readFileSync(join(results, "SUMMARY.md"), "utf8");
    expect(summary).toContain("**Done**: 4 jobs: 1 passed, 2 failed (1 by its label), 1 never run.");
    const row = (name: string) => summary.split("\n").find((line) => line.startsWith(`| ${name} |`));
    expect(row("a-pass.efi")).toContain(`| 127.0.0.2 | 🏁 finished |`);
    expect(row("a-pass.efi")).toContain(`[${reportFiles.find((f) => f.endsWith("_a-pass.efi.md"))}](`);
    expect(row("b-hang.efi")).toContain("❌ failed: ");
    expect(row("c-labelled.efi")).toContain("🏁 finished, ❌ failed: the report carries the label Regression");
    expect(row("d-gone.efi")).toContain("never run: ");
    expect(readdirSync(results).filter((f) => f.startsWith("."))).toEqual([]);

    // GitHub Actions: the table appended after what was there, the outputs as the runner reads them.
    const step = readFileSync(stepSummary, "utf8");
    expect(step.startsWith("earlier step\n### dispatch: folder ")).toBe(true);
    expect(step).toContain("| workload | server | state | time | issue |");
    expect(readActionsOutputs(readFileSync(outputs, "utf8"))).toEqual({ earlier: "1", finished: "1", failed: "3", "summary-url": "", junit });
  }, 60_000);

  test("SIGKILL mid-run leaves a whole, valid JUnit file (each rewrite replaces it atomically)", async () => {
    const out = tempDir("dispatch-out-");
    const junit = join(tempDir("dispatch-ci-"), "dispatch.xml");
    for (const name of ["a.efi", "b.efi", "c.efi"]) writeFileSync(join(out, name), pattern(4096, name.length));
    const d = await startDispatchProcess(launch(), ["--dir", out, "--reports", join(tempDir("dispatch-results-"), "r"), "--junit", junit, ...local]);
    cleanup.push(() => d.stop());

    await bootFrom(d.url, "127.0.0.2");
    expect((await put(d.url, "127.0.0.2", { title: "a passed", body: "x".repeat(100_000) })).status).toBe(200);
    await d.waitFor("🏁 a.efi finished");
    await bootFrom(d.url, "127.0.0.3");
    await d.waitFor("⚡ b.efi");
    await until(() => junitparser(junit).suites[0]!.cases.find((c) => c.name === "a.efi")!.passed, "a.efi passed in the JUnit file");
    expect(await d.kill("SIGKILL")).toBe(137);

    expect(schemaProblems(junit)).toBe("");
    const read = junitparser(junit);
    expect(read.suites[0]!.cases.map((c) => [c.name, c.passed, c.results[0]?.kind ?? "passed"])).toEqual([
      ["a.efi", true, "passed"],
      ["b.efi", false, "skipped"],
      ["c.efi", false, "skipped"],
    ]);
    // A long body is cut for system-out; the whole is in the report.
    expect(read.suites[0]!.cases[0]!.system_out).toContain("[cut by dispatch: 100000 characters in all");
    expect(read.suites[0]!.cases[0]!.system_out!.length).toBeLessThan(17_000);
  }, 60_000);
});

describe("what cannot be done is said at start (exit 2)", () => {
  test("--junit in a folder that does not exist; --summary-issue with nothing going to GitHub", async () => {
    const out = tempDir("dispatch-out-");
    writeFileSync(join(out, "a.efi"), pattern(100, 1));
    const reports = join(tempDir("dispatch-results-"), "r");
    const missing = join(tempDir("dispatch-ci-"), "no", "such", "dispatch.xml");
    const junit = await runDispatch(launch(), ["--dir", out, "--reports", reports, "--junit", missing, ...local]);
    expect(junit.code).toBe(2);
    expect(junit.stderr).toContain(`--junit ${missing}: cannot write the file there`);
    const issue = await runDispatch(launch(), ["--dir", out, "--reports", reports, "--summary-issue", ...local]);
    expect(issue.code).toBe(2);
    expect(issue.stderr).toContain("--summary-issue files an issue in --owner/--repo, but with --dir and --reports nothing goes to GitHub");
  }, 30_000);
});

describe("GITHUB_OUTPUT lines", () => {
  test("a value with line breaks takes the heredoc form, with a delimiter the value does not hold", () => {
    const delimiters = ["EOF", "EOF", "ghadelimiter_2"];
    const text = actionsOutputLines({ plain: "a=b", lines: "one\nEOF\nthree", empty: "" }, () => delimiters.shift()!);
    expect(text).toBe("plain=a=b\nlines<<ghadelimiter_2\none\nEOF\nthree\nghadelimiter_2\nempty=\n");
    expect(readActionsOutputs(text)).toEqual({ plain: "a=b", lines: "one\nEOF\nthree", empty: "" });
  });
});
