import { describe, expect, test } from "bun:test";
import type { DispatchEvent } from "../../src/core/events.ts";
import { failureIssue, filingMarker, issueBodyLimit, reportIssue } from "../../src/core/issue.ts";
import { type DispatchState, initialState } from "../../src/core/job.ts";
import { reduce } from "../../src/core/reducer.ts";
import { isSettled, lastRunBy, needsIssue } from "../../src/core/selectors.ts";
import type { Workload } from "../../src/core/workload.ts";

const workload = (name: string, size = 1000): Workload => ({ name, size, bootType: "application/efi", source: `https://api.example/${name}` });
const timeouts = { downloadMs: 300_000, runMs: 3_600_000 };
const fresh = () => initialState([workload("a.efi"), workload("b.efi"), workload("c.efi")], timeouts);
const run = (state: DispatchState, ...events: DispatchEvent[]) => events.reduce(reduce, state);
const phaseOf = (s: DispatchState, name: string) => s.jobs.find((j) => j.workload.name === name)!.phase;
const get = (ip: string, at = 2): DispatchEvent => ({ type: "boot-requested", ip, at, download: true });
const whole = (ip: string, name: string, at = 3): DispatchEvent => ({ type: "download-ended", ip, name, start: 0, sent: 1000, at });
const booted = (ip: string, at = 4): DispatchEvent => ({ type: "booted", ip, at });
const reported = (ip: string, at = 5): DispatchEvent => ({ type: "reported", ip, at, report: { title: `from ${ip}` } });
const context = { repository: "o/r", release: "v1" };

describe("restarted", () => {
  test("frees in-flight downloads, keeps whole downloads and runs, applies the new timeouts", () => {
    const s = run(
      fresh(),
      { type: "boot-requested", ip: "1", at: 1, download: false }, // a.efi assigned
      get("2"), // b.efi downloading, incomplete
      get("3"), whole("3", "c.efi"), // c.efi downloaded whole
    );
    const after = run(s, { type: "restarted", at: 100, timeouts: { downloadMs: 1, runMs: 2 } });
    expect(phaseOf(after, "a.efi").state).toBe("unassigned");
    expect(phaseOf(after, "b.efi").state).toBe("unassigned");
    expect(phaseOf(after, "c.efi")).toMatchObject({ state: "downloading", ip: "3" });
    expect(after.jobs[2]!.seen).toBe(100); // its quiet time starts over
    expect(after.timeouts).toEqual({ downloadMs: 1, runMs: 2 });
  });

  test("finished, failed and reported jobs stay so; booting keeps its server and boot time", () => {
    let s = run(fresh(), get("1"), whole("1", "a.efi"), booted("1"), reported("1"));
    s = run(s, { type: "issue-filed", name: "a.efi", issue: { number: 1, url: "u" }, at: 6 });
    s = run(s, get("2", 7), whole("2", "b.efi", 7), booted("2", 8), get("3", 9), whole("3", "c.efi", 9), booted("3", 10), reported("3", 11));
    s = run(s, get("2", 12)); // b.efi: booted, never reported, asked again → failed
    const after = run(s, { type: "restarted", at: 50, timeouts });
    expect(after.jobs.map((j) => j.phase.state)).toEqual(["finished", "failed", "reported"]);
    const back = run(fresh(), get("1"), whole("1", "a.efi"), booted("1", 4), { type: "restarted", at: 50, timeouts });
    expect(phaseOf(back, "a.efi")).toEqual({ state: "booting", ip: "1" });
    expect(back.jobs[0]!.entered.booting).toBe(4);
  });
});

describe("upstream failures", () => {
  test("GitHub failing a download sends the job back to the queue; the server's own cut does not", () => {
    const s = run(fresh(), get("1"));
    const upstream = run(s, { type: "download-ended", ip: "1", name: "a.efi", start: 0, sent: 10, error: "404 Not Found", upstream: true, at: 3 });
    expect(phaseOf(upstream, "a.efi").state).toBe("unassigned");
    const client = run(s, { type: "download-ended", ip: "1", name: "a.efi", start: 0, sent: 10, error: "client went away", upstream: false, at: 3 });
    expect(phaseOf(client, "a.efi")).toMatchObject({ state: "downloading", ip: "1" });
  });

  test("an upstream failure on one Range request after the server has every byte keeps the job with it", () => {
    const s = run(fresh(), get("1"), whole("1", "a.efi"), { type: "download-ended", ip: "1", name: "a.efi", start: 500, sent: 3, error: "cut", upstream: true, at: 4 });
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "downloading", ip: "1", received: [[0, 1000]] });
  });

  test("a freed job goes to the next server that asks, never to two", () => {
    const s = run(fresh(), get("1"), { type: "download-ended", ip: "1", name: "a.efi", start: 0, sent: 0, error: "cut", upstream: true, at: 3 }, get("2", 4));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "downloading", ip: "2" });
    expect(phaseOf(s, "b.efi").state).toBe("unassigned");
  });
});

describe("failure issues", () => {
  const failed = () => run(fresh(), get("1"), whole("1", "a.efi"), get("1", 9)); // a.efi failed: never booted
  test("a failed job takes its issue once, and filing errors while it has none", () => {
    let s = failed();
    expect(needsIssue(s.jobs[0]!, true)).toBe(true);
    expect(needsIssue(s.jobs[0]!, false)).toBe(false);
    s = run(s, { type: "filing-failed", name: "a.efi", error: "502", at: 10 });
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed", lastError: "502" });
    s = run(s, { type: "issue-filed", name: "a.efi", issue: { number: 4, url: "u4" }, at: 11 });
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed", issue: { number: 4, url: "u4" } });
    expect(phaseOf(s, "a.efi")).not.toHaveProperty("lastError");
    expect(run(s, { type: "issue-filed", name: "a.efi", issue: { number: 5, url: "u5" }, at: 12 })).toBe(s);
    expect(needsIssue(s.jobs[0]!, true)).toBe(false);
  });

  test("settled: all finished or failed, and with --file-failures every failure filed", () => {
    let s = failed(); // a failed, b assigned to 1
    s = run(s, get("2", 10), whole("2", "c.efi", 10), get("2", 11)); // c failed
    s = run(s, { type: "tick", at: 10_000_000 }); // b (assigned to 1) freed
    expect(isSettled(s, false)).toBe(false);
    s = run(s, get("3", 10_000_001), whole("3", "b.efi", 10_000_001), booted("3", 10_000_002), reported("3", 10_000_003));
    expect(isSettled(s, false)).toBe(false); // a report is still to file
    s = run(s, { type: "issue-filed", name: "b.efi", issue: { number: 1, url: "u" }, at: 10_000_004 });
    expect(isSettled(s, false)).toBe(true);
    expect(isSettled(s, true)).toBe(false);
    s = run(s, { type: "issue-filed", name: "a.efi", issue: { number: 2, url: "u" }, at: 1 }, { type: "issue-filed", name: "c.efi", issue: { number: 3, url: "u" }, at: 1 });
    expect(isSettled(s, true)).toBe(true);
  });
});

test("lastRunBy finds the job the server last ran, not the next one it only asked for", () => {
  let s = run(fresh(), get("1"), whole("1", "a.efi"), booted("1"), reported("1", 5));
  expect(lastRunBy(s, "1")?.workload.name).toBe("a.efi");
  expect(lastRunBy(s, "2")).toBeUndefined();
  s = run(s, get("1", 6)); // b.efi handed out, not yet whole: a.efi is still what ran last
  expect(lastRunBy(s, "1")?.workload.name).toBe("a.efi");
  s = run(s, whole("1", "b.efi", 6));
  expect(lastRunBy(s, "1")?.workload.name).toBe("b.efi");
});

describe("issue text", () => {
  const reportedJob = () => run(fresh(), get("1"), whole("1", "a.efi"), booted("1"), reported("1", Date.UTC(2026, 0, 2))).jobs[0]!;

  test("the marker names repository, release, job and report time, and is hidden in the body", () => {
    const job = reportedJob();
    const marker = filingMarker(job, context, "report");
    expect(marker).toBe('<!-- dispatch:report ["o/r","v1","a.efi","2026-01-02T00:00:00.000Z"] -->');
    expect(reportIssue({ title: "t", body: "hello" }, job, context).body).toContain(marker);
    expect(filingMarker(job, { ...context, release: "v2" }, "report")).not.toBe(marker);
  });

  test("a marker cannot be closed early by a job name", () => {
    const job = { ...reportedJob(), workload: workload("evil-->name--.efi") };
    const marker = filingMarker(job, context, "report");
    expect(marker.slice(4, -3)).not.toContain("--");
  });

  test("a body over GitHub's limit is cut with a marker that says where the full text is", () => {
    const job = reportedJob();
    const kept = { file: "reports/2026-01-02T00-00-00.000Z-10.0.0.9.txt", bytes: 200_000, chars: 200_000, sha256: "ab" };
    const issue = reportIssue({ title: "t", body: "x".repeat(issueBodyLimit), kept }, job, context);
    expect(issue.cut).toBe(true);
    expect(issue.body.length).toBeLessThanOrEqual(issueBodyLimit);
    expect(issue.body).toContain("Cut by dispatch");
    expect(issue.body).toContain("200000 characters");
    expect(issue.body).toContain("`reports/2026-01-02T00-00-00.000Z-10.0.0.9.txt`");
    expect(issue.body).not.toContain("/tmp");
    expect(issue.body).toContain(filingMarker(job, context, "report"));
    expect(reportIssue({ title: "t", body: "short" }, job, context).cut).toBe(false);
  });

  test("cutting never splits a surrogate pair", () => {
    const job = reportedJob();
    const issue = reportIssue({ title: "t", body: "😀".repeat(50_000) }, job, context);
    expect(issue.body.length).toBeLessThanOrEqual(issueBodyLimit);
    expect(issue.body).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  test("a failure issue says the reason, the server and the times", () => {
    const s = run(fresh(), get("1", Date.UTC(2026, 0, 1)), whole("1", "a.efi"), get("1", Date.UTC(2026, 0, 1, 1)));
    const issue = failureIssue(s.jobs[0]!, context);
    expect(issue.title).toContain("a.efi failed");
    expect(issue.body).toContain("never sent `beacon boot`");
    expect(issue.body).toContain("Server: 1");
    expect(issue.body).toContain("- failed: 2026-01-01T01:00:00.000Z");
    expect(issue.body).toContain(filingMarker(s.jobs[0]!, context, "failure"));
  });
});

test("random sequences with restarts and upstream failures never put one job on two servers", () => {
  const ips = ["1", "2", "3", "4"];
  const names = ["a.efi", "b.efi", "c.efi"];
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 200; round++) {
    let s = fresh();
    const ended = new Map<string, "finished" | "failed">();
    for (let step = 0; step < 60; step++) {
      const ip = ips[rand(ips.length)]!;
      const name = names[rand(names.length)]!;
      const at = step * 60_000;
      const events: DispatchEvent[] = [
        get(ip, at), whole(ip, name, at), booted(ip, at), reported(ip, at), { type: "tick", at },
        { type: "download-ended", ip, name, start: 0, sent: rand(1000), error: "cut", upstream: true, at },
        { type: "restarted", at, timeouts },
        { type: "issue-filed", name, issue: { number: step, url: "u" }, at },
      ];
      s = reduce(s, events[rand(events.length)]!);
      const holders = s.jobs.filter((j) => ["assigned", "downloading", "booting"].includes(j.phase.state as string)).map((j) => (j.phase as { ip: string }).ip);
      expect(new Set(holders).size).toBe(holders.length);
      for (const [n, state] of ended) expect(phaseOf(s, n).state).toBe(state);
      for (const j of s.jobs) if (j.phase.state === "finished" || j.phase.state === "failed") ended.set(j.workload.name, j.phase.state);
    }
  }
});
