import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DispatchConfig } from "../../src/app/config.ts";
import { journalFile } from "../../src/journal/open.ts";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { type TestDispatch, startTestDispatch, until } from "../support/dispatch.ts";
import { http, text } from "../support/http-client.ts";
import { holds } from "../support/until.ts";
import { efi, pattern } from "../support/workloads.ts";
import { tempDirs } from "../support/temp-dirs.ts";

// --reports: each report a Markdown file with front matter, written durably and exactly once.

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  temp.removeAll();
});

const temp = tempDirs();
const tempDir = (prefix: string) => temp.make(prefix);

function workloads(names: string[]): string {
  const dir = tempDir("dispatch-dir-");
  names.forEach((name, i) => writeFileSync(join(dir, name), pattern(4000 + i, i + 1)));
  return dir;
}

async function start(gh: FakeGitHub | undefined, overrides: Partial<DispatchConfig>): Promise<TestDispatch> {
  const d = await startTestDispatch(gh, overrides);
  cleanup.push(() => d.stop());
  return d;
}

/** One server's whole cycle: download, `beacon boot`, `beacon report`. */
async function runAndReport(d: TestDispatch, from: string, report: object): Promise<void> {
  expect((await http(d.url, { from })).status).toBe(200);
  expect((await http(d.url, { method: "POST", from })).status).toBe(200);
  const put = await http(d.url, { method: "PUT", from, body: JSON.stringify(report), headers: { "content-type": "application/json" } });
  expect(put.status).toBe(200);
}

/** The report files (SUMMARY.md beside them has tests of its own, in test/junit/). */
const markdown = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".md") && n !== "SUMMARY.md").sort();

/** The front matter, read by a YAML parser as a script would, and the body after it. */
function parse(path: string): { front: Record<string, unknown>; body: string } {
  const text = readFileSync(path, "utf8");
  const match = /^---\n([\s\S]*?)\n---\n\n([\s\S]*)$/.exec(text);
  if (!match) throw new Error(`no front matter in ${path}:\n${text.slice(0, 500)}`);
  return { front: Bun.YAML.parse(match[1]!) as Record<string, unknown>, body: match[2]! };
}

type Job = { name: string; state: string; issue: { url: string; number?: number } | null };
const jobs = async (d: TestDispatch): Promise<Job[]> => JSON.parse(text(await http(d.url.replace(/\/dispatch$/, "/api/status")))).jobs;

describe("reports as files", () => {
  test("one file per report, sorting in the order they came in, front matter a YAML parser reads, the body whole", async () => {
    const reports = tempDir("dispatch-reports-");
    const d = await start(undefined, { dir: workloads(["a.efi", "b.efi"]), reportsDir: reports });
    const long = `${"0123456789".repeat(10_000)}\nend: "quoted" — ✓\n`;
    // The second job reports first: files sort by when the reports came in, not by queue order.
    expect((await http(d.url, { from: "127.0.0.2" })).status).toBe(200);
    await runAndReport(d, "127.0.0.3", { title: "b: passed", body: "short", labels: ["lab", "x86"], assignees: ["someone"], milestone: "m1" });
    expect((await http(d.url, { method: "POST", from: "127.0.0.2" })).status).toBe(200);
    const put = await http(d.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: 'a: "failed": see body', body: long }), headers: { "content-type": "application/json" } });
    expect(put.status).toBe(200);
    await until(async () => (await jobs(d)).every((j) => j.state === "finished"), "both filed");

    const names = markdown(reports);
    expect(names).toHaveLength(2);
    expect(names[0]).toEndWith("_b.efi.md");
    expect(names[1]).toEndWith("_a.efi.md");
    // (SUMMARY.md may be being replaced right now: its file aside is not a report's.)
    expect(readdirSync(reports).filter((n) => n.endsWith(".tmp") && n !== ".SUMMARY.md.tmp")).toEqual([]);

    const b = parse(join(reports, names[0]!));
    expect(b.front).toMatchObject({ kind: "report", workload: "b.efi", title: "b: passed", labels: ["lab", "x86"], assignees: ["someone"], milestone: "m1", server: "127.0.0.3" });
    expect(Date.parse(String(b.front.booted))).toBeLessThanOrEqual(Date.parse(String(b.front.reported)));
    expect(String(b.front.source)).toStartWith("folder ");
    expect(b.body).toBe("short\n");

    const a = parse(join(reports, names[1]!));
    expect(a.front).toMatchObject({ kind: "report", workload: "a.efi", title: 'a: "failed": see body', labels: [], assignees: [], milestone: null, server: "127.0.0.2" });
    expect(a.body).toBe(long); // more than an issue holds, and not cut

    const views = await jobs(d);
    expect(views.find((j) => j.name === "a.efi")!.issue).toEqual({ url: join(reports, names[1]!) });
    expect(d.lines).toContain(`🏁 a.efi finished: ${join(reports, names[1]!)}`);
  });

  test("exactly once: a restart after the file was written but before the journal said so adopts that file", async () => {
    const reports = tempDir("dispatch-reports-");
    const state = tempDir("dispatch-state-");
    const config = { dir: workloads(["a.efi"]), reportsDir: reports, stateDir: state };
    const first = await startTestDispatch(undefined, config);
    await runAndReport(first, "127.0.0.2", { title: "once" });
    await until(() => first.lines.some((l) => l.startsWith("🏁 a.efi finished")), "filed");
    await first.stop();
    const [name] = markdown(reports);
    const written = readFileSync(join(reports, name!), "utf8");
    const inode = statSync(join(reports, name!)).ino;

    // A crash between the rename and the journal line: the journal never heard of the file.
    const journal = join(state, journalFile);
    const lines = readFileSync(journal, "utf8").split("\n").filter((l) => l && !l.includes('"issue-filed"'));
    writeFileSync(journal, `${lines.join("\n")}\n`);

    const second = await start(undefined, config);
    expect(second.lines.some((l) => l.includes("1 reports to file"))).toBe(true);
    await until(() => second.lines.some((l) => l.startsWith("🏁 a.efi finished")), "adopted");
    expect(second.lines).toContain(`🏁 a.efi finished: ${join(reports, name!)}`);
    expect(markdown(reports)).toEqual([name!]);
    // Adopted, not written again (a rewrite would rename a new inode over it).
    expect(statSync(join(reports, name!)).ino).toBe(inode);
    expect(readFileSync(join(reports, name!), "utf8")).toBe(written);
  });

  test("--file-failures writes a failure file the same way", async () => {
    const reports = tempDir("dispatch-reports-");
    const d = await start(undefined, { dir: workloads(["a.efi", "b.efi"]), reportsDir: reports, fileFailures: true });
    // Downloaded whole, never booted, and the server asks again: a.efi fails.
    expect((await http(d.url, { from: "127.0.0.2" })).status).toBe(200);
    expect((await http(d.url, { method: "HEAD", from: "127.0.0.2" })).status).toBe(200);
    await until(() => markdown(reports).length === 1, "the failure file");
    const [name] = markdown(reports);
    expect(name).toEndWith("_a.efi.failed.md");
    const failure = parse(join(reports, name!));
    expect(failure.front).toMatchObject({ kind: "failure", workload: "a.efi", server: "127.0.0.2", reason: "downloaded but never sent `beacon boot`: the server asked for a new workload" });
    expect(String(failure.front.title)).toStartWith("a.efi failed: ");
    expect(failure.body).toContain("downloaded but never sent");
  });

  test("a release as the source, reports to a folder: nothing is filed on GitHub", async () => {
    const gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("r.efi", 3000)] }] });
    cleanup.push(() => gh.stop());
    const reports = tempDir("dispatch-reports-");
    const d = await start(gh, { reportsDir: reports });
    await runAndReport(d, "127.0.0.2", { title: "from a release", labels: ["lab"] });
    await until(() => markdown(reports).length === 1, "the report file");
    const report = parse(join(reports, markdown(reports)[0]!));
    expect(report.front).toMatchObject({ workload: "r.efi", title: "from a release", source: `${gh.owner}/${gh.repo} release v1` });
    expect(gh.issues).toEqual([]);
    expect(gh.requests.filter((r) => r.path.includes("/issues") || r.path.includes("/milestones"))).toEqual([]);
    expect(d.lines).toContain(`reports go to report files in ${reports}`);
  });

  test("a --reports folder that cannot be made is a clear error at start", async () => {
    const file = join(tempDir("dispatch-reports-"), "a-file");
    writeFileSync(file, "");
    await expect(startTestDispatch(undefined, { dir: workloads(["a.efi"]), reportsDir: join(file, "reports") })).rejects.toThrow(
      `--reports ${join(file, "reports")}: cannot create that folder`,
    );
  });
});

describe("a second, different report", () => {
  test("is added to the job's report file as a section, once, and the first report's file keeps its front matter", async () => {
    const reports = tempDir("dispatch-reports-");
    const d = await start(undefined, { dir: workloads(["a.efi"]), reportsDir: reports });
    await runAndReport(d, "127.0.0.2", { title: "first", body: "all good" });
    await until(() => markdown(reports).length === 1, "the report file");
    const second = await http(d.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: "second", body: "DIMM 3 errors" }) });
    expect(second.status).toBe(200);
    const file = join(reports, markdown(reports)[0]!);
    await until(() => readFileSync(file, "utf8").includes("DIMM 3 errors"), "the section");
    const { front, body } = parse(file);
    expect(front.title).toBe("first");
    expect(body).toStartWith("all good\n");
    expect(body).toContain("## Another report from 127.0.0.2 at ");
    expect(body).toContain('title: "second"');
    // Sent again: recognised, not added twice.
    expect((await http(d.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: "second", body: "DIMM 3 errors" }) })).status).toBe(200);
    // The filer acts on the store's change within a few ms: 300 ms is the window this watches.
    await holds(() => readFileSync(file, "utf8").split("DIMM 3 errors").length === 2, "one section", 300);
    expect(markdown(reports)).toHaveLength(1);
  });
});
