import { describe, expect, test } from "bun:test";
import type { DispatchEvent } from "../../src/core/events.ts";
import { type DispatchState, initialState } from "../../src/core/job.ts";
import { reduce, step } from "../../src/core/reducer.ts";
import { heldBy, isSettled, isSettledOrRefused, pendingExtras, refusedExtras } from "../../src/core/selectors.ts";
import type { Workload } from "../../src/core/workload.ts";

// Issue 17: a report is proof the workload ran; no report is refused while its workload runs.

const workload = (name: string): Workload => ({ name, size: 1000, bootType: "application/efi", source: `https://api.example/${name}` });
const timeouts = { downloadMs: 100, runMs: 1000 };
const fresh = () => initialState([workload("a.efi"), workload("b.efi")], timeouts);
const run = (state: DispatchState, ...events: DispatchEvent[]) => events.reduce(reduce, state);
const phaseOf = (s: DispatchState, name: string) => s.jobs.find((j) => j.workload.name === name)!.phase;
const jobOf = (s: DispatchState, name: string) => s.jobs.find((j) => j.workload.name === name)!;
const head = (ip: string, at: number): DispatchEvent => ({ type: "boot-requested", ip, at, download: false });
const get = (ip: string, at: number): DispatchEvent => ({ type: "boot-requested", ip, at, download: true });
const whole = (ip: string, name: string, at: number): DispatchEvent => ({ type: "download-ended", ip, name, start: 0, sent: 1000, at });
const part = (ip: string, name: string, at: number): DispatchEvent => ({ type: "download-ended", ip, name, start: 0, sent: 10, at });
const booted = (ip: string, at: number): DispatchEvent => ({ type: "booted", ip, at });
const reported = (ip: string, at: number, title = `from ${ip}`): DispatchEvent => ({ type: "reported", ip, at, report: { title } });
const tick = (at: number): DispatchEvent => ({ type: "tick", at });

describe("reports taken while the workload runs", () => {
  test("a server that downloaded its workload and reports without `beacon boot`", () => {
    const s = run(fresh(), get("1", 1), whole("1", "a.efi", 2), reported("1", 3));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "reported", ip: "1", report: { title: "from 1" } });
    expect(phaseOf(s, "a.efi")).not.toHaveProperty("late");
  });

  test("a report after the download timeout failed a whole download: taken, remembering why it had failed", () => {
    const s = run(fresh(), get("1", 1), whole("1", "a.efi", 2), tick(200));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed" });
    const after = run(s, reported("1", 201));
    expect(phaseOf(after, "a.efi")).toMatchObject({ state: "reported", late: { failedAt: 200, reason: "downloaded but no `beacon boot` within 100ms" } });
  });

  test("a boot after the download timeout failed the job boots it again; its report is then on time", () => {
    const s = run(fresh(), get("1", 1), whole("1", "a.efi", 2), tick(200), booted("1", 201));
    expect(phaseOf(s, "a.efi")).toEqual({ state: "booting", ip: "1" });
    expect(jobOf(s, "a.efi").attempts).toEqual([{ n: 1, ip: "1", at: 1, downloadedAt: 2, bootedAt: 201 }]);
    expect(phaseOf(run(s, reported("1", 202)), "a.efi")).toEqual({ state: "reported", ip: "1", report: { title: "from 1" } });
  });

  test("a boot after the download timeout freed the job takes it back for that server", () => {
    const s = run(fresh(), get("1", 1), part("1", "a.efi", 2), tick(200));
    expect(phaseOf(s, "a.efi")).toEqual({ state: "unassigned" });
    const after = run(s, booted("1", 201));
    expect(phaseOf(after, "a.efi")).toEqual({ state: "booting", ip: "1" });
    expect(heldBy(after, "1")?.workload.name).toBe("a.efi");
  });

  test("freed and taken by another server: the first server's boot is refused with the reason, its report is taken", () => {
    const s = run(fresh(), get("1", 1), part("1", "a.efi", 2), tick(200), get("2", 201));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "downloading", ip: "2" });
    expect(step(s, booted("1", 202)).outcome).toEqual({ kind: "not-mine", reason: "a.efi went to 2 after 1 went quiet" });
    const after = run(s, reported("1", 203));
    expect(phaseOf(after, "a.efi")).toMatchObject({ state: "reported", ip: "1" });
    expect(heldBy(after, "2")).toBeUndefined(); // one job is never held by two servers
    expect(jobOf(after, "a.efi").attempts.map((a) => [a.ip, a.reason])).toEqual([
      ["1", undefined],
      ["2", "1 reported it"],
    ]);
    // Server 2, asking again, gets the next job.
    expect(heldBy(run(after, head("2", 204)), "2")?.workload.name).toBe("b.efi");
  });

  test("a boot after the server asked the boot URL again mid-run: the run goes on, the next job goes back to the queue", () => {
    const s = run(fresh(), get("1", 1), whole("1", "a.efi", 2), booted("1", 3), head("1", 4));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed" });
    expect(phaseOf(s, "b.efi")).toEqual({ state: "assigned", ip: "1" });
    const after = run(s, booted("1", 5));
    expect(phaseOf(after, "a.efi")).toEqual({ state: "booting", ip: "1" });
    expect(phaseOf(after, "b.efi")).toEqual({ state: "unassigned" });
  });

  test("once the server's next job has booted, a report is that job's", () => {
    const s = run(fresh(), get("1", 1), whole("1", "a.efi", 2), booted("1", 3), get("1", 4), whole("1", "b.efi", 5), booted("1", 6), reported("1", 7));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed" });
    expect(phaseOf(s, "b.efi")).toMatchObject({ state: "reported" });
  });

  test("a job's attempts record each server's go and why it ended", () => {
    const s = run(fresh(), get("1", 1), part("1", "a.efi", 2), tick(200), get("2", 201), whole("2", "a.efi", 202), booted("2", 203));
    expect(jobOf(s, "a.efi").attempts).toEqual([
      { n: 1, ip: "1", at: 1, endedAt: 200, reason: "quiet for 100ms mid-download" },
      { n: 2, ip: "2", at: 201, downloadedAt: 202, bootedAt: 203 },
    ]);
  });
});

describe("a second, different report", () => {
  const reportedRun = () => run(fresh(), get("1", 1), whole("1", "a.efi", 2), booted("1", 3), reported("1", 4, "first"));

  test("is kept as an extra while the job is reported, and after it finished; the same one again changes nothing", () => {
    let s = run(reportedRun(), reported("1", 5, "second"));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "reported", report: { title: "first" }, extras: [{ at: 5, report: { title: "second" } }] });
    expect(step(s, reported("1", 6, "second")).outcome).toMatchObject({ kind: "report-accepted", repeat: true });
    expect(run(s, reported("1", 6, "second"))).toBe(s);
    s = run(s, { type: "issue-filed", name: "a.efi", issue: { number: 1, url: "u1" }, at: 7 }, reported("1", 8, "third"));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "finished", extras: [{ report: { title: "second" } }, { report: { title: "third" } }] });
    expect(pendingExtras(jobOf(s, "a.efi"))).toEqual([0, 1]);
  });

  test("the run is settled only once every extra is filed", () => {
    let s = run(reportedRun(), reported("1", 5, "second"), { type: "issue-filed", name: "a.efi", issue: { number: 1, url: "u1" }, at: 6 });
    s = run(s, get("2", 7), whole("2", "b.efi", 8), booted("2", 9), reported("2", 10), { type: "issue-filed", name: "b.efi", issue: { number: 2, url: "u2" }, at: 11 });
    expect(isSettled(s, false)).toBe(false);
    s = run(s, { type: "extra-filed", name: "a.efi", index: 0, issue: { url: "u1#c1" }, at: 12 });
    expect(isSettled(s, false)).toBe(true);
    expect(pendingExtras(jobOf(s, "a.efi"))).toEqual([]);
  });

  test("one GitHub refuses for good lets a run end (--exit-when-done) but not settle; a restart tries it again", () => {
    let s = run(reportedRun(), reported("1", 5, "second"), { type: "issue-filed", name: "a.efi", issue: { number: 1, url: "u1" }, at: 6 });
    s = run(s, get("2", 7), whole("2", "b.efi", 8), booted("2", 9), reported("2", 10), { type: "issue-filed", name: "b.efi", issue: { number: 2, url: "u2" }, at: 11 });
    s = run(s, { type: "extra-failed", name: "a.efi", index: 0, error: "502", at: 12 });
    expect(phaseOf(s, "a.efi")).toMatchObject({ extras: [{ lastError: "502" }] });
    expect(isSettledOrRefused(s, false)).toBe(false);
    s = run(s, { type: "extra-failed", name: "a.efi", index: 0, error: "issues are turned off", permanent: true, at: 13 });
    expect(refusedExtras(jobOf(s, "a.efi"))).toEqual([0]);
    expect(isSettledOrRefused(s, false)).toBe(true);
    expect(isSettled(s, false)).toBe(false);
    const restarted = run(s, { type: "restarted", at: 14, timeouts });
    expect(refusedExtras(jobOf(restarted, "a.efi"))).toEqual([]);
    expect(isSettledOrRefused(restarted, false)).toBe(false);
    // Filed at last: the error goes with the refusal.
    const filed = run(s, { type: "extra-filed", name: "a.efi", index: 0, issue: { url: "u1#c1" }, at: 15 });
    expect(phaseOf(filed, "a.efi")).toMatchObject({ extras: [{ filed: { url: "u1#c1" } }] });
    const phase = phaseOf(filed, "a.efi");
    expect(phase.state === "finished" && phase.extras?.[0]).not.toHaveProperty("lastError");
    expect(isSettled(filed, false)).toBe(true);
  });
});
