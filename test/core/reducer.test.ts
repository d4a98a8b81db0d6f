import { describe, expect, test } from "bun:test";
import type { DispatchEvent } from "../../src/core/events.ts";
import { type DispatchState, initialState } from "../../src/core/job.ts";
import { reduce, step } from "../../src/core/reducer.ts";
import { countByState, heldBy, isDone, isSettled, isSettledOrRefused } from "../../src/core/selectors.ts";
import type { Workload } from "../../src/core/workload.ts";

const workload = (name: string, size = 1000): Workload => ({ name, size, bootType: "application/efi", source: `https://api.example/${name}` });
const timeouts = { downloadMs: 300_000, runMs: 3_600_000 };
const fresh = () => initialState([workload("a.efi"), workload("b.efi"), workload("c.efi")], timeouts);

function run(state: DispatchState, ...events: DispatchEvent[]): DispatchState {
  return events.reduce(reduce, state);
}
const phaseOf = (s: DispatchState, name: string) => s.jobs.find((j) => j.workload.name === name)!.phase;
const head = (ip: string, at = 1): DispatchEvent => ({ type: "boot-requested", ip, at, download: false });
const get = (ip: string, at = 2): DispatchEvent => ({ type: "boot-requested", ip, at, download: true });
/** A response for the whole asset (1000 bytes) that arrived complete, or was cut after 10 bytes. */
const ended = (ip: string, name: string, complete: boolean, at = 3): DispatchEvent => ({ type: "download-ended", ip, name, start: 0, sent: complete ? 1000 : 10, at });
const booted = (ip: string, at = 4): DispatchEvent => ({ type: "booted", ip, at });
const reported = (ip: string, at = 5): DispatchEvent => ({ type: "reported", ip, at, report: { title: `from ${ip}` } });

describe("the happy path", () => {
  test("a job walks unassigned → assigned → downloading → booting → reported → finished", () => {
    let s = fresh();
    expect(phaseOf(s, "a.efi").state).toBe("unassigned");
    s = run(s, head("10.0.0.1", 10));
    expect(phaseOf(s, "a.efi")).toEqual({ state: "assigned", ip: "10.0.0.1" });
    s = run(s, get("10.0.0.1", 11));
    expect(phaseOf(s, "a.efi")).toEqual({ state: "downloading", ip: "10.0.0.1", bytes: 0, received: [] });
    s = run(s, { type: "download-progressed", ip: "10.0.0.1", name: "a.efi", bytes: 600, at: 12 }, { type: "download-progressed", ip: "10.0.0.1", name: "a.efi", bytes: 400, at: 13 });
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "downloading", bytes: 1000 });
    s = run(s, ended("10.0.0.1", "a.efi", true, 14));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "downloading", received: [[0, 1000]] });
    s = run(s, booted("10.0.0.1", 15));
    expect(phaseOf(s, "a.efi")).toEqual({ state: "booting", ip: "10.0.0.1" });
    s = run(s, reported("10.0.0.1", 16));
    expect(phaseOf(s, "a.efi")).toEqual({ state: "reported", ip: "10.0.0.1", report: { title: "from 10.0.0.1" } });
    s = run(s, { type: "issue-filed", name: "a.efi", issue: { number: 7, url: "https://github.com/o/r/issues/7" }, at: 17 });
    expect(phaseOf(s, "a.efi")).toEqual({ state: "finished", ip: "10.0.0.1", report: { title: "from 10.0.0.1" }, issue: { number: 7, url: "https://github.com/o/r/issues/7" } });
    const job = s.jobs[0]!;
    expect(job.entered).toEqual({ assigned: 10, downloading: 11, booting: 15, reported: 16, finished: 17 });
  });

  test("GET without a HEAD first assigns straight into downloading", () => {
    const s = run(fresh(), get("10.0.0.1"));
    expect(phaseOf(s, "a.efi").state).toBe("downloading");
  });

  test("jobs go out in queue order, one per server", () => {
    const s = run(fresh(), head("10.0.0.1"), head("10.0.0.2"), head("10.0.0.3"));
    expect(s.jobs.map((j) => ("ip" in j.phase ? j.phase.ip : null))).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
  });

  test("an empty queue assigns nothing, and heldBy says so (the edge then serves poweroff.efi)", () => {
    const s = run(fresh(), head("10.0.0.1"), head("10.0.0.2"), head("10.0.0.3"), head("10.0.0.4"));
    expect(heldBy(s, "10.0.0.4")).toBeUndefined();
    expect(s.jobs.every((j) => j.phase.state === "assigned")).toBe(true);
  });

  test("a server that reported gets the next job on its next boot", () => {
    const s = run(fresh(), head("10.0.0.1"), get("10.0.0.1"), ended("10.0.0.1", "a.efi", true), booted("10.0.0.1"), reported("10.0.0.1"), head("10.0.0.1", 9));
    expect(phaseOf(s, "a.efi").state).toBe("reported");
    expect(phaseOf(s, "b.efi")).toEqual({ state: "assigned", ip: "10.0.0.1" });
  });
});

describe("retries get the same job", () => {
  test("HEAD, HEAD again, GET, GET again (mid-download): always a.efi, never b.efi", () => {
    const s = run(fresh(), head("10.0.0.1"), head("10.0.0.1"), get("10.0.0.1"), ended("10.0.0.1", "a.efi", false), get("10.0.0.1"));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "downloading", ip: "10.0.0.1", received: [[0, 10]] });
    expect(phaseOf(s, "b.efi").state).toBe("unassigned");
  });

  test("a download cut on the server's side leaves the job with the server, so its retry resumes it", () => {
    // (GitHub's own failures, `upstream: true`, free the job instead: test/core/durable-rules.test.ts.)
    const s = run(fresh(), get("10.0.0.1"), { type: "download-ended", ip: "10.0.0.1", name: "a.efi", start: 0, sent: 600, error: "cut", upstream: false, at: 3 }, head("10.0.0.1", 4));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "downloading", ip: "10.0.0.1" });
    expect(phaseOf(s, "b.efi").state).toBe("unassigned");
  });

  test("a download is complete when its Range requests together cover every byte, in any order", () => {
    const part = (start: number, sent: number): DispatchEvent => ({ type: "download-ended", ip: "10.0.0.1", name: "a.efi", start, sent, at: 3 });
    let s = run(fresh(), get("10.0.0.1"), part(900, 100), part(0, 300));
    expect(phaseOf(s, "a.efi")).toMatchObject({ received: [[0, 300], [900, 1000]] });
    s = run(s, head("10.0.0.1")); // the tail alone is not the whole workload: still a retry
    expect(phaseOf(s, "a.efi").state).toBe("downloading");
    s = run(s, part(250, 700), head("10.0.0.1", 9));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed" }); // whole, never booted, asked again
  });

  test("a later partial download does not undo an earlier complete one", () => {
    const s = run(fresh(), get("10.0.0.1"), ended("10.0.0.1", "a.efi", true), ended("10.0.0.1", "a.efi", false));
    expect(phaseOf(s, "a.efi")).toMatchObject({ received: [[0, 1000]] });
  });
});

describe("a server that starts over fails its previous job", () => {
  test("downloaded but never booted: failed with a reason, next job assigned", () => {
    const s = run(fresh(), get("10.0.0.1"), ended("10.0.0.1", "a.efi", true), head("10.0.0.1", 20));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed", ip: "10.0.0.1" });
    expect((phaseOf(s, "a.efi") as { reason: string }).reason).toContain("never sent `beacon boot`");
    expect(phaseOf(s, "b.efi")).toEqual({ state: "assigned", ip: "10.0.0.1" });
  });

  test("booted but never reported: failed with a reason, next job assigned", () => {
    const s = run(fresh(), get("10.0.0.1"), ended("10.0.0.1", "a.efi", true), booted("10.0.0.1"), get("10.0.0.1", 20));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed", reason: expect.stringContaining("never reported") });
    expect(phaseOf(s, "b.efi")).toMatchObject({ state: "downloading", ip: "10.0.0.1" });
  });
});

describe("beacon calls from the wrong place are ignored", () => {
  test("boot from a server that has nothing downloading changes nothing", () => {
    const s0 = run(fresh(), head("10.0.0.1"));
    expect(run(s0, booted("10.0.0.1"))).toBe(s0); // assigned, not downloading
    expect(run(s0, booted("10.0.0.9"))).toBe(s0); // unknown server
  });

  test("a repeated boot is only activity", () => {
    const s = run(fresh(), get("10.0.0.1"), booted("10.0.0.1", 4), booted("10.0.0.1", 8));
    expect(phaseOf(s, "a.efi").state).toBe("booting");
    expect(s.jobs[0]!.entered.booting).toBe(4);
    expect(s.jobs[0]!.seen).toBe(8);
  });

  test("a report or boot from a server that was never handed a workload is refused, with the reason", () => {
    const s0 = run(fresh(), get("10.0.0.1"));
    expect(step(s0, reported("10.0.0.9")).outcome).toEqual({ kind: "not-mine", reason: "10.0.0.9 was never handed a workload by this dispatch" });
    expect(step(s0, booted("10.0.0.9")).outcome).toEqual({ kind: "not-mine", reason: "10.0.0.9 was never handed a workload by this dispatch" });
  });

  test("stale download events for another server or job change nothing", () => {
    const s0 = run(fresh(), get("10.0.0.1"));
    expect(run(s0, { type: "download-progressed", ip: "10.0.0.2", name: "a.efi", bytes: 5, at: 3 })).toBe(s0);
    expect(run(s0, ended("10.0.0.1", "b.efi", true))).toBe(s0);
  });

  test("issue-filed and filing-failed only apply to reported jobs", () => {
    const s0 = run(fresh(), get("10.0.0.1"));
    expect(run(s0, { type: "issue-filed", name: "a.efi", issue: { number: 1, url: "u" }, at: 3 })).toBe(s0);
    expect(run(s0, { type: "filing-failed", name: "a.efi", error: "x", at: 3 })).toBe(s0);
  });

  test("filing-failed keeps the report and records the error", () => {
    const s = run(fresh(), get("10.0.0.1"), booted("10.0.0.1"), reported("10.0.0.1"), { type: "filing-failed", name: "a.efi", error: "GitHub 502", at: 6 });
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "reported", report: { title: "from 10.0.0.1" }, lastError: "GitHub 502" });
  });
});

describe("late reports", () => {
  const short = { downloadMs: 300_000, runMs: 100 };
  const start = () => run(initialState([workload("a.efi"), workload("b.efi")], short), get("10.0.0.1"), ended("10.0.0.1", "a.efi", true), booted("10.0.0.1"));

  test("a report after the run timeout failed the job is taken: reported, remembering the failure", () => {
    const failed = run(start(), { type: "tick", at: 200 });
    expect(phaseOf(failed, "a.efi")).toMatchObject({ state: "failed", runTimeout: true });
    const s = run(failed, reported("10.0.0.1", 300));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "reported", late: { failedAt: 200, reason: "booted but no report within 100ms" } });
    const done = run(s, { type: "issue-filed", name: "a.efi", issue: { number: 2, url: "u" }, at: 301, for: "report" });
    expect(phaseOf(done, "a.efi")).toMatchObject({ state: "finished", late: { failedAt: 200 } });
    expect(countByState(done)).toMatchObject({ finished: 1, failed: 0, unassigned: 1 }); // the views add up
  });

  test("the failure's issue filed while the late report waits does not finish the job; the report's issue does", () => {
    const s = run(start(), { type: "tick", at: 200 }, reported("10.0.0.1", 300), { type: "issue-filed", name: "a.efi", issue: { number: 1, url: "u1" }, at: 301, for: "failure" });
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "reported", late: { failureIssue: { number: 1 } } });
    const f = run(s, { type: "filing-failed", name: "a.efi", error: "502", at: 302, for: "failure" });
    expect(f).toBe(s);
  });

  test("a job failed because its server asked the boot URL again mid-run takes the report that follows", () => {
    const s = run(start(), head("10.0.0.1", 10)); // a.efi failed, b.efi assigned
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed" });
    const after = run(s, reported("10.0.0.1", 11));
    expect(phaseOf(after, "a.efi")).toMatchObject({ state: "reported", late: { reason: "booted but never reported: the server asked for a new workload" } });
    expect(phaseOf(after, "b.efi")).toEqual({ state: "assigned", ip: "10.0.0.1" }); // the server's next job stays its own
  });

  test("a report belongs to the job its server booted last", () => {
    // a.efi failed by the run timeout; the server then booted b.efi: its report is b.efi's.
    const s = run(start(), { type: "tick", at: 200 }, get("10.0.0.1", 210), ended("10.0.0.1", "b.efi", true, 211), booted("10.0.0.1", 212), reported("10.0.0.1", 213));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed" });
    expect(phaseOf(s, "b.efi")).toMatchObject({ state: "reported" });
  });

  test("a long report sent again is recognised by its digest, though its copy went to another file", () => {
    const kept = (file: string) => ({ file, bytes: 9, chars: 9, sha256: "abc" });
    const s = run(start(), { type: "reported", ip: "10.0.0.1", at: 5, report: { title: "t", body: "head", kept: kept("reports/1.txt") } });
    const again = run(s, { type: "reported", ip: "10.0.0.1", at: 6, report: { title: "t", body: "head", kept: kept("reports/2.txt") } });
    expect(again).toBe(s);
    const other = step(s, { type: "reported", ip: "10.0.0.1", at: 6, report: { title: "t", body: "head", kept: { ...kept("reports/2.txt"), sha256: "def" } } });
    expect(other.outcome).toMatchObject({ kind: "report-accepted", repeat: false, extra: true });
    expect(step(s, { type: "reported", ip: "10.0.0.1", at: 6, report: { title: "t", body: "head", kept: kept("reports/2.txt") } }).outcome).toMatchObject({ kind: "report-accepted", repeat: true });
  });
});

describe("filings GitHub refuses for good", () => {
  const one = () => initialState([workload("a.efi")], timeouts);
  const refused: DispatchEvent = { type: "filing-failed", name: "a.efi", error: "410 issues off", permanent: true, at: 6 };
  const reportedRun = () => run(one(), get("10.0.0.1"), ended("10.0.0.1", "a.efi", true), booted("10.0.0.1"), reported("10.0.0.1"));

  test("mark the job refused; a later passing failure (a 502) or the issue clears it", () => {
    const s = run(reportedRun(), refused);
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "reported", lastError: "410 issues off", refused: true });
    expect(phaseOf(run(s, { type: "filing-failed", name: "a.efi", error: "502", at: 7 }), "a.efi")).not.toHaveProperty("refused");
    expect(phaseOf(run(s, { type: "issue-filed", name: "a.efi", issue: { number: 1, url: "u" }, at: 7 }), "a.efi").state).toBe("finished");
  });

  test("a run with nothing but refused filings left can end; one with a filing still to try cannot", () => {
    expect(isSettledOrRefused(reportedRun(), false)).toBe(false);
    expect(isSettledOrRefused(run(reportedRun(), { type: "filing-failed", name: "a.efi", error: "502", at: 6 }), false)).toBe(false);
    expect(isSettledOrRefused(run(reportedRun(), refused), false)).toBe(true);
    expect(isSettled(run(reportedRun(), refused), false)).toBe(false);
    // A job still to run keeps it going, refusals or not.
    const two = run(initialState([workload("a.efi"), workload("b.efi")], timeouts), get("10.0.0.1"), ended("10.0.0.1", "a.efi", true), booted("10.0.0.1"), reported("10.0.0.1"), refused);
    expect(isSettledOrRefused(two, false)).toBe(false);
  });

  test("a restart forgets the refusal: the new process tries afresh (it may have another token)", () => {
    const s = run(reportedRun(), refused, { type: "restarted", at: 100, timeouts });
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "reported", lastError: "410 issues off" });
    expect(phaseOf(s, "a.efi")).not.toHaveProperty("refused");
    expect(isSettledOrRefused(s, false)).toBe(false);
  });
});

describe("timeouts", () => {
  const t0 = 1_000_000;
  test("an assigned job whose server went quiet is freed after the download timeout, not before", () => {
    const s = run(fresh(), head("10.0.0.1", t0));
    expect(run(s, { type: "tick", at: t0 + timeouts.downloadMs - 1 })).toBe(s);
    const freed = run(s, { type: "tick", at: t0 + timeouts.downloadMs });
    expect(phaseOf(freed, "a.efi").state).toBe("unassigned");
    // …and goes to the next server that asks.
    expect(phaseOf(run(freed, head("10.0.0.2", t0 + timeouts.downloadMs + 1)), "a.efi")).toEqual({ state: "assigned", ip: "10.0.0.2" });
  });

  test("progress counts as activity", () => {
    const s = run(fresh(), get("10.0.0.1", t0), { type: "download-progressed", ip: "10.0.0.1", name: "a.efi", bytes: 1, at: t0 + 200_000 });
    expect(phaseOf(run(s, { type: "tick", at: t0 + timeouts.downloadMs + 1 }), "a.efi").state).toBe("downloading");
  });

  test("a complete download never booted fails after the download timeout", () => {
    const s = run(fresh(), get("10.0.0.1", t0), ended("10.0.0.1", "a.efi", true, t0));
    const after = run(s, { type: "tick", at: t0 + timeouts.downloadMs });
    expect(phaseOf(after, "a.efi")).toMatchObject({ state: "failed", reason: "downloaded but no `beacon boot` within 5m" });
  });

  test("a booted job fails after the run timeout, counted from boot", () => {
    const s = run(fresh(), get("10.0.0.1", t0), booted("10.0.0.1", t0 + 10), booted("10.0.0.1", t0 + timeouts.runMs - 5));
    expect(phaseOf(run(s, { type: "tick", at: t0 + timeouts.runMs + 9 }), "a.efi").state).toBe("booting");
    expect(phaseOf(run(s, { type: "tick", at: t0 + timeouts.runMs + 10 }), "a.efi")).toMatchObject({ state: "failed", reason: "booted but no report within 1h" });
  });

  test("reported jobs never time out (filing goes on until GitHub takes it)", () => {
    const s = run(fresh(), get("10.0.0.1", t0), booted("10.0.0.1", t0), reported("10.0.0.1", t0));
    expect(run(s, { type: "tick", at: t0 + 100 * timeouts.runMs })).toBe(s);
  });
});

describe("invariants under random event sequences", () => {
  test("no job is ever held by two servers, no server holds two jobs, finished jobs stay finished", () => {
    const ips = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];
    const names = ["a.efi", "b.efi", "c.efi"];
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 200; round++) {
      let s = fresh();
      const finished = new Set<string>();
      for (let step = 0; step < 60; step++) {
        const ip = ips[rand(ips.length)]!;
        const name = names[rand(names.length)]!;
        const at = step * 60_000;
        const events: DispatchEvent[] = [
          head(ip, at), get(ip, at), ended(ip, name, rand(2) === 0, at), booted(ip, at), reported(ip, at),
          { type: "issue-filed", name, issue: { number: step, url: "u" }, at }, { type: "tick", at },
        ];
        s = reduce(s, events[rand(events.length)]!);
        const holders = s.jobs.filter((j) => ["assigned", "downloading", "booting"].includes(j.phase.state)).map((j) => (j.phase as { ip: string }).ip);
        expect(new Set(holders).size).toBe(holders.length);
        for (const n of finished) expect(phaseOf(s, n).state).toBe("finished");
        for (const j of s.jobs) if (j.phase.state === "finished") finished.add(j.workload.name);
      }
    }
  });

  test("isDone only when every job finished or failed", () => {
    const filed = (name: string): DispatchEvent => ({ type: "issue-filed", name, issue: { number: 1, url: "u" }, at: 9 });
    let s = run(fresh(), get("1"), ended("1", "a.efi", true), head("1"));
    s = run(s, get("2"), booted("2"), reported("2"), filed("c.efi"));
    expect(s.jobs.map((j) => j.phase.state)).toEqual(["failed", "assigned", "finished"]);
    expect(isDone(s)).toBe(false);
    s = run(s, get("1"), ended("1", "b.efi", true), booted("1"), reported("1"));
    expect(isDone(s)).toBe(false); // reported but not yet filed
    expect(isDone(run(s, filed("b.efi")))).toBe(true);
  });
});
