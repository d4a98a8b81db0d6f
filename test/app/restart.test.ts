import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseJournal } from "../../src/journal/parse.ts";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { type DispatchProcess, runDispatch, startDispatchProcess } from "../support/dispatch-process.ts";
import { bootOnce, report, status } from "../support/cycle.ts";
import { until } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";
import { tempDirs } from "../support/temp-dirs.ts";

// The real command line, killed with SIGKILL mid-run and started again on the same state folder.

let gh: FakeGitHub | undefined;
const clis: DispatchProcess[] = [];
const temp = tempDirs();
afterEach(async () => {
  for (const cli of clis.splice(0)) await cli.kill("SIGKILL");
  await gh?.stop();
  gh = undefined;
  temp.removeAll();
});

/** The real CLI keeps GitHub's spacing of issue creations (3 s apart), so these tests take seconds. */
const slow = 30_000;

const tempDir = () => temp.make("dispatch-restart-");

async function fakeGitHub(n: number) {
  gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: Array.from({ length: n }, (_, i) => efi(`w${i}.efi`, 3000 + i)) }] });
  return gh;
}

/** `bun src/main.ts` with this environment on top of the test's own. */
const bunCli = (env: Record<string, string> = {}) => ({
  command: ["bun", new URL("../../src/main.ts", import.meta.url).pathname],
  env: { ...process.env, NO_COLOR: "1", ...env } as Record<string, string>,
});

async function dispatch(gh: FakeGitHub, state: string | undefined, extra: string[] = [], env: Record<string, string> = {}) {
  const args = ["-o", gh.owner, "-r", gh.repo, "-t", "v1", "--api-url", gh.apiUrl, "--token", gh.token, "--bind", "127.0.0.1:0", "--no-mdns"];
  const cli = await startDispatchProcess(bunCli(env), [...args, ...(state ? ["--state", state] : []), ...extra]);
  clis.push(cli);
  return cli;
}

/** The events of the journal in `state` as they are in the file now (a line being written is left out). */
const journalEvents = (state: string) => {
  const parsed = parseJournal(readFileSync(join(state, "journal.jsonl"), "utf8"));
  return parsed.kind === "journal" ? parsed.events : [];
};

const stateOf = async (cli: DispatchProcess) => Object.fromEntries((await status(cli.port)).map((j) => [j.name, j]));

describe("SIGKILL mid-run, then start again on the same state", () => {
  test("finished stay finished, pending reports are filed, runs go on, in-flight downloads are free again", async () => {
    const gh = await fakeGitHub(4);
    const state = tempDir();
    const first = await dispatch(gh, state);

    await bootOnce(first.url, "127.0.0.2"); // w0
    expect((await report(first.url, "127.0.0.2", { title: "w0 passed" })).status).toBe(200);
    await first.waitFor("🏁 w0.efi finished");

    gh.faults.failNext.push({ route: "issue", status: 502, times: 1_000 });
    await bootOnce(first.url, "127.0.0.3"); // w1: reported, GitHub failing
    expect((await report(first.url, "127.0.0.3", { title: "w1 passed" })).status).toBe(200);
    await first.waitFor("w1.efi: filing the issue failed");

    await bootOnce(first.url, "127.0.0.4"); // w2: running
    expect((await http(first.url, { method: "HEAD", from: "127.0.0.5" })).status).toBe(200); // w3: assigned only
    // A HEAD is answered before its journal line is written (by design: a restart frees in-flight
    // downloads anyway). The test is about freeing an assignment the journal knows of, so it
    // kills once the line is in the file (the page cache is enough: SIGKILL is no power loss).
    await until(() => journalEvents(state).some((e) => e.type === "boot-requested" && e.ip === "127.0.0.5"), "the HEAD from 127.0.0.5 in the journal");

    expect(await first.kill("SIGKILL")).not.toBe(0);
    gh.faults.failNext.length = 0;

    const second = await dispatch(gh, state);
    await second.waitFor("resumed");
    await second.waitFor("🏁 w1.efi finished");
    const jobs = await stateOf(second);
    expect(jobs["w0.efi"]).toMatchObject({ state: "finished", issue: { number: 1 } });
    expect(jobs["w1.efi"]).toMatchObject({ state: "finished", issue: { number: 2 } });
    expect(jobs["w2.efi"]).toMatchObject({ state: "booting", ip: "127.0.0.4" });
    expect(jobs["w3.efi"]).toMatchObject({ state: "unassigned" });
    expect(second.lines.some((l) => l.includes("w3.efi freed from 127.0.0.5 (its download was cut when dispatch stopped)"))).toBe(true);

    // The run that was going on reports to the new process; the freed job goes to the next server.
    expect((await report(second.url, "127.0.0.4", { title: "w2 passed" })).status).toBe(200);
    await bootOnce(second.url, "127.0.0.6");
    expect((await stateOf(second))["w3.efi"]).toMatchObject({ state: "booting", ip: "127.0.0.6" });
    await second.waitFor("🏁 w2.efi finished");
    expect(gh.issues.map((i) => i.title)).toEqual(["w0 passed", "w1 passed", "w2 passed"]);
  }, slow);

  test("killed after GitHub created the issue but before dispatch recorded it: no second issue", async () => {
    const gh = await fakeGitHub(1);
    const state = tempDir();
    const first = await dispatch(gh, state);
    gh.faults.issueResponseDelayMs = 10_000;
    await bootOnce(first.url, "127.0.0.2");
    expect((await report(first.url, "127.0.0.2", { title: "once" })).status).toBe(200);
    await until(() => gh.issues.length === 1, "GitHub to create the issue");
    await first.kill("SIGKILL");
    delete gh.faults.issueResponseDelayMs;

    const second = await dispatch(gh, state);
    await second.waitFor("🏁 w0.efi finished");
    expect(gh.issues).toHaveLength(1);
    expect((await stateOf(second))["w0.efi"]).toMatchObject({ state: "finished", issue: { number: 1 } });
  }, slow);

  test("a last line cut by a power loss is dropped with a message, and the run resumes", async () => {
    const gh = await fakeGitHub(2);
    const state = tempDir();
    const first = await dispatch(gh, state);
    await bootOnce(first.url, "127.0.0.2");
    await first.kill("SIGKILL");
    appendFileSync(join(state, "journal.jsonl"), '{"type":"reported","at":17,"ip":"127.0.0.2","rep');

    const second = await dispatch(gh, state);
    await second.waitFor("was cut while being written");
    expect((await stateOf(second))["w0.efi"]).toMatchObject({ state: "booting", ip: "127.0.0.2" });
    expect((await report(second.url, "127.0.0.2", { title: "after the cut" })).status).toBe(200);
    await second.waitFor("🏁 w0.efi finished");
  }, slow);
});

describe("running a release again", () => {
  test("a run that is over runs again: its journal is set aside with one line, servers get the queue again", async () => {
    const gh = await fakeGitHub(1);
    const state = tempDir();
    const first = await dispatch(gh, state, ["--exit-when-done"]);
    await bootOnce(first.url, "127.0.0.2");
    expect((await report(first.url, "127.0.0.2", { title: "first run" })).status).toBe(200);
    expect(await first.exited).toBe(0);

    const second = await dispatch(gh, state);
    const line = await second.waitFor("starting a new run");
    expect(line).toContain("is over (1 finished, 0 failed)");
    const aside = readdirSync(state).filter((f) => /^journal\..+\.jsonl$/.test(f));
    expect(aside).toHaveLength(1);
    expect(line).toContain(aside[0]!);
    expect(second.lines.some((l) => l.includes("resumed"))).toBe(false);
    // The same server gets the workload again, not poweroff.efi.
    const { size } = await bootOnce(second.url, "127.0.0.2");
    expect(size).toBe(3000);
    expect((await report(second.url, "127.0.0.2", { title: "second run" })).status).toBe(200);
    await second.waitFor("🏁 w0.efi finished");
    expect(gh.issues.map((i) => i.title)).toEqual(["first run", "second run"]);
  }, slow);

  test("an unfinished run is resumed, and its start line says how to start over instead", async () => {
    const gh = await fakeGitHub(2);
    const state = tempDir();
    const first = await dispatch(gh, state);
    await bootOnce(first.url, "127.0.0.2");
    await first.stop();
    const second = await dispatch(gh, state);
    expect(await second.waitFor("resumed")).toContain("--fresh");
    expect(readdirSync(state).filter((f) => f.startsWith("journal."))).toEqual(["journal.jsonl"]);
  }, slow);
});

describe("one dispatch per state folder", () => {
  test("a second dispatch on the same folder refuses to start, naming the first; a SIGKILL leaves no stuck lock", async () => {
    const gh = await fakeGitHub(1);
    const state = tempDir();
    const first = await dispatch(gh, state);
    const args = ["-o", gh.owner, "-r", gh.repo, "-t", "v1", "--api-url", gh.apiUrl, "--token", gh.token, "--bind", "127.0.0.1:0", "--no-mdns", "--state", state];
    const second = await runDispatch(bunCli(), args);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`another dispatch is using the state folder ${state}: pid ${first.pid}`);
    expect(second.stderr).toContain("--state DIR");
    expect(second.stdout + second.stderr).not.toContain(gh.token);
    expect(readFileSync(join(state, "lock"), "utf8")).not.toContain(gh.token);
    // The first is still the only one serving, and its journal is whole.
    await bootOnce(first.url, "127.0.0.2");

    expect(await first.kill("SIGKILL")).not.toBe(0);
    const third = await dispatch(gh, state);
    await third.waitFor("resumed");
    await third.stop();
    // A clean stop lets go of the folder.
    expect(readdirSync(state)).not.toContain("lock");
  }, slow);
});

describe("a journal from another run", () => {
  test("is refused with a clear message and no crash; --fresh starts over and keeps it aside", async () => {
    const gh = await fakeGitHub(2);
    const state = tempDir();
    const first = await dispatch(gh, state);
    await bootOnce(first.url, "127.0.0.2");
    await first.kill("SIGKILL");

    const filtered = await startDispatchProcess(
      bunCli(),
      ["-o", gh.owner, "-r", gh.repo, "-t", "v1", "--api-url", gh.apiUrl, "--token", gh.token, "--bind", "127.0.0.1:0", "--no-mdns", "--state", state, "w1"],
      { waitListening: false },
    );
    clis.push(filtered);
    expect(await filtered.exited).toBe(1);
    const output = filtered.lines.join("\n");
    expect(output).toContain("belongs to another run");
    expect(output).toContain('this run with "w1"');
    expect(output).not.toContain("    at "); // no stack trace

    const fresh = await dispatch(gh, state, ["--fresh", "w1"]);
    await fresh.waitFor("--fresh: starting over");
    expect(Object.keys(await stateOf(fresh))).toEqual(["w1.efi"]);
    expect(readdirSync(state).filter((f) => f.startsWith("journal.") && f !== "journal.jsonl")).toHaveLength(1);
  }, slow);
});

describe("signals", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal}: exit 0 with the journal whole`, async () => {
      const gh = await fakeGitHub(2);
      const state = tempDir();
      const cli = await dispatch(gh, state);
      await bootOnce(cli.url, "127.0.0.2");
      expect((await report(cli.url, "127.0.0.2", { title: "t" })).status).toBe(200);
      expect(await cli.kill(signal)).toBe(0);
      expect(cli.lines.some((l) => l.includes("stopping"))).toBe(true);
      const parsed = parseJournal(readFileSync(join(state, "journal.jsonl"), "utf8"));
      expect(parsed).toMatchObject({ kind: "journal", missingNewline: false });
      expect(parsed.kind === "journal" && parsed.damagedTail).toBeFalsy();
    }, slow);
  }

  test("stops taking downloads at once: a server that asks after the signal gets no answer", async () => {
    const gh = await fakeGitHub(1);
    const cli = await dispatch(gh, tempDir());
    await cli.kill("SIGTERM");
    await expect(http(cli.url, { method: "HEAD", from: "127.0.0.2", timeoutMs: 2000 })).rejects.toThrow();
  }, slow);
});

describe("--exit-when-done", () => {
  test("exit 0 once every job finished and its issue is filed", async () => {
    const gh = await fakeGitHub(2);
    const cli = await dispatch(gh, tempDir(), ["--exit-when-done"]);
    for (const ip of ["127.0.0.2", "127.0.0.3"]) {
      await bootOnce(cli.url, ip);
      expect((await report(cli.url, ip, { title: ip })).status).toBe(200);
    }
    expect(await cli.exited).toBe(0);
    expect(gh.issues).toHaveLength(2);
    expect(cli.lines.some((l) => l.includes("done: 2 finished, 0 failed"))).toBe(true);
  }, slow);

  test("exit 1 when any job failed, after its failure is filed with --file-failures", async () => {
    const gh = await fakeGitHub(2);
    const cli = await dispatch(gh, tempDir(), ["--exit-when-done", "--file-failures", "--run-timeout", "1s"]);
    await bootOnce(cli.url, "127.0.0.2"); // w0: booted, never reports → fails after 1 s
    await bootOnce(cli.url, "127.0.0.3");
    expect((await report(cli.url, "127.0.0.3", { title: "w1 ok" })).status).toBe(200);
    expect(await cli.exited).toBe(1);
    expect(gh.issues.map((i) => i.title).sort()).toEqual(["w0.efi failed: booted but no report within 1s", "w1 ok"]);
  }, slow);
});

describe("the state folder", () => {
  test("defaults to ~/.local/state/dispatch/OWNER/REPO/TAG and says so; the token is never in it", async () => {
    const gh = await fakeGitHub(1);
    const home = tempDir();
    const cli = await dispatch(gh, undefined, [], { HOME: home, XDG_STATE_HOME: "" });
    const line = await cli.waitFor("state: ");
    const dir = join(home, ".local", "state", "dispatch", gh.owner, gh.repo, "v1");
    expect(line).toContain(join(dir, "journal.jsonl"));
    await bootOnce(cli.url, "127.0.0.2");
    await report(cli.url, "127.0.0.2", { title: "t", body: "x".repeat(70_000) });
    await cli.waitFor("🏁 w0.efi finished");
    await cli.kill("SIGTERM");
    const files = [join(dir, "journal.jsonl"), ...readdirSync(join(dir, "reports")).map((f) => join(dir, "reports", f))];
    expect(files).toHaveLength(2);
    for (const file of files) expect(readFileSync(file, "utf8")).not.toContain(gh.token);
    expect(cli.lines.join("\n")).not.toContain(gh.token);
  }, slow);
});
