import { describe, expect, test } from "bun:test";
import type { DispatchEvent } from "../../src/core/events.ts";
import { type DispatchState, initialState } from "../../src/core/job.ts";
import { type CheckedServer, type LabRules, defaultLabRules, initialLab } from "../../src/core/lab.ts";
import { labSettled } from "../../src/core/power.ts";
import { reduce } from "../../src/core/reducer.ts";
import { heldBy, isDone } from "../../src/core/selectors.ts";
import type { Workload } from "../../src/core/workload.ts";

// Issue 18: the reducer decides what to do with the lab's servers; these tests play the power
// edge by answering each decision with `power-done`.

const workload = (name: string): Workload => ({ name, size: 1000, bootType: "application/efi", source: `https://api.example/${name}` });
const timeouts = { downloadMs: 10_000, runMs: 20_000 };
const rules: LabRules = { ...defaultLabRules, powerOnSpacingMs: 50, bootTimeoutMs: 500, poweroffGraceMs: 200 };
const servers: CheckedServer[] = [
  { name: "s1", ip: "10.0.0.1", power: "off", once: false },
  { name: "s2", ip: "10.0.0.2", power: "on", once: false },
];
const labRun = (names = ["a.efi", "b.efi"], lab: CheckedServer[] = servers, r: LabRules = rules) =>
  initialState(names.map(workload), timeouts, initialLab(lab, r));
const run = (state: DispatchState, ...events: DispatchEvent[]) => events.reduce(reduce, state);
const server = (s: DispatchState, name: string) => s.lab!.servers.find((x) => x.name === name)!;
const pending = (s: DispatchState) => Object.fromEntries(s.lab!.servers.map((x) => [x.name, x.pending?.action ?? null]));
const phaseOf = (s: DispatchState, name: string) => s.jobs.find((j) => j.workload.name === name)!.phase;
const jobOf = (s: DispatchState, name: string) => s.jobs.find((j) => j.workload.name === name)!;
const tick = (at: number): DispatchEvent => ({ type: "tick", at });
/** The power edge's answer to the server's pending decision. */
const done = (s: DispatchState, name: string, at: number, ok = true, error?: string): DispatchEvent => ({
  type: "power-done",
  at,
  server: name,
  id: server(s, name).pending!.id,
  ok,
  ...(error && { error }),
});
/** Answers every pending decision, in server order, successfully. */
const doAll = (s: DispatchState, at: number) => s.lab!.servers.filter((x) => x.pending).reduce((state, x) => run(state, done(state, x.name, at)), s);
const get = (ip: string, at: number): DispatchEvent => ({ type: "boot-requested", ip, at, download: true });
const whole = (ip: string, name: string, at: number): DispatchEvent => ({ type: "download-ended", ip, name, start: 0, sent: 1000, at });
const booted = (ip: string, at: number): DispatchEvent => ({ type: "booted", ip, at });
const reported = (ip: string, at: number): DispatchEvent => ({ type: "reported", ip, at, report: { title: `from ${ip}` } });
const filed = (name: string, at: number): DispatchEvent => ({ type: "issue-filed", name, at, issue: { number: 1, url: "u" } });

/** Both servers pointed and powered on (s1 at 1, s2 at 60), nothing asked yet. */
function started(): DispatchState {
  let s = run(labRun(), tick(0));
  s = doAll(s, 1);
  s = doAll(s, 1);
  s = doAll(run(s, tick(60)), 60);
  return s;
}

describe("start: point, then power on spaced out", () => {
  test("every server is pointed first; power-ons follow one spacing apart; one already on is cycled", () => {
    let s = run(labRun(), tick(0));
    expect(pending(s)).toEqual({ s1: "point", s2: "point" });
    s = run(s, done(s, "s1", 1), done(s, "s2", 1));
    expect(pending(s)).toEqual({ s1: "on", s2: null }); // s2 waits for the spacing
    expect(server(s, "s1").pending!.reason).toBe("the run starts");
    s = run(s, done(s, "s1", 2), tick(30));
    expect(pending(s)).toEqual({ s1: null, s2: null });
    s = run(s, tick(51));
    expect(server(s, "s2").pending).toMatchObject({ action: "cycle", reason: "the run starts; it was already on" });
    s = run(s, done(s, "s2", 52));
    // The boot timeout counts from the decision: a server may ask before its BMC answers.
    expect(server(s, "s2")).toMatchObject({ stage: "running", power: "on", awaitingBootSince: 51 });
  });
});

describe("watch and recover", () => {
  test("no boot request within the boot timeout: cycled; twice in a row: taken out and switched off", () => {
    let s = run(started(), get("10.0.0.2", 100)); // s2 came up; s1 never asks
    s = run(s, tick(501));
    expect(pending(s)).toEqual({ s1: "cycle", s2: null });
    expect(server(s, "s1")).toMatchObject({ strikes: 1 });
    s = run(s, done(s, "s1", 502), tick(1000));
    expect(pending(s)).toEqual({ s1: null, s2: null });
    s = run(s, tick(1001));
    expect(server(s, "s1").health).toMatchObject({ state: "quarantined", reason: expect.stringContaining("failed to come up 2 times in a row") });
    expect(server(s, "s1").pending).toMatchObject({ action: "off" });
    // Taken out: it gets poweroff.efi whatever it asks, and never a job.
    s = run(s, done(s, "s1", 1003), get("10.0.0.1", 1004));
    expect(heldBy(s, "10.0.0.1")).toBeUndefined();
  });

  test("a boot request resets the count: failures must come in a row", () => {
    let s = run(started(), tick(501));
    s = run(s, done(s, "s1", 502), get("10.0.0.1", 600));
    expect(server(s, "s1").strikes).toBe(0);
    expect(server(s, "s1").awaitingBootSince).toBeUndefined();
  });

  test("a job that times out on a server: the server is cycled and the job runs on the other server", () => {
    let s = run(started(), get("10.0.0.1", 100), whole("10.0.0.1", "a.efi", 101), booted("10.0.0.1", 102));
    s = run(s, get("10.0.0.2", 15_000), whole("10.0.0.2", "b.efi", 15_001), booted("10.0.0.2", 15_002)); // b.efi on s2
    s = run(s, tick(20_102)); // a.efi: no report within the run timeout
    expect(phaseOf(s, "a.efi")).toEqual({ state: "unassigned" });
    expect(pending(s)).toEqual({ s1: "cycle", s2: null });
    s = run(s, done(s, "s1", 20_103), get("10.0.0.1", 20_200));
    // s1 may not take a.efi again while s2 is up: it gets poweroff.efi.
    expect(heldBy(s, "10.0.0.1")).toBeUndefined();
    expect(server(s, "s1").poweroffAt).toBe(20_200);
    s = run(s, reported("10.0.0.2", 20_203), get("10.0.0.2", 20_204));
    expect(heldBy(s, "10.0.0.2")?.workload.name).toBe("a.efi");
    expect(jobOf(s, "a.efi").attempts.map((a) => [a.ip, a.reason])).toEqual([
      ["10.0.0.1", "booted but no report within 20s"],
      ["10.0.0.2", undefined],
    ]);
  });

  test("with one server, a retried job runs on it again after its cycle; once the retries are used, it fails listing both", () => {
    const one = [{ name: "s1", ip: "10.0.0.1", power: "off" as const, once: false }];
    let s = run(labRun(["a.efi"], one), tick(0));
    s = doAll(doAll(s, 1), 1);
    s = run(s, get("10.0.0.1", 10), whole("10.0.0.1", "a.efi", 11), booted("10.0.0.1", 12), tick(20_012));
    expect(phaseOf(s, "a.efi")).toEqual({ state: "unassigned" });
    s = run(s, done(s, "s1", 20_013), get("10.0.0.1", 20_014));
    expect(heldBy(s, "10.0.0.1")?.workload.name).toBe("a.efi");
    s = run(s, whole("10.0.0.1", "a.efi", 20_015), booted("10.0.0.1", 20_016), tick(40_016));
    expect(phaseOf(s, "a.efi")).toMatchObject({ state: "failed", reason: "booted but no report within 20s (attempt 2 of 2)", runTimeout: true });
    expect(jobOf(s, "a.efi").attempts).toHaveLength(2);
  });

  test("poweroff.efi handed out: off by the BMC's word ends the server's run; still on after the grace: forced off", () => {
    let s = run(labRun(["a.efi"]), tick(0));
    s = doAll(doAll(s, 1), 1);
    s = doAll(run(s, tick(60)), 60);
    s = run(s, get("10.0.0.1", 100), get("10.0.0.2", 101)); // s2 gets poweroff.efi
    expect(server(s, "s2").poweroffAt).toBe(101);
    s = run(s, { type: "power-observed", at: 150, server: "s2", power: "off" });
    expect(server(s, "s2")).toMatchObject({ stage: "off", power: "off" });
    const stubborn = run(labRun(["a.efi"]), tick(0));
    let t = doAll(doAll(stubborn, 1), 1);
    t = doAll(run(t, tick(60)), 60);
    t = run(t, get("10.0.0.1", 100), get("10.0.0.2", 101), tick(301));
    expect(server(t, "s2").pending).toMatchObject({ action: "off", reason: "still on 200ms after poweroff.efi: forced off" });
  });

  test("once every job is done, every server is switched off, then its boot settings restored", () => {
    let s = run(started(), get("10.0.0.1", 100), whole("10.0.0.1", "a.efi", 101), booted("10.0.0.1", 102), reported("10.0.0.1", 103));
    s = run(s, get("10.0.0.2", 104), whole("10.0.0.2", "b.efi", 105), booted("10.0.0.2", 106), reported("10.0.0.2", 107));
    expect(pending(s)).toEqual({ s1: null, s2: null }); // reported is not done: filing may still fail
    s = run(s, filed("a.efi", 108), filed("b.efi", 109));
    expect(isDone(s)).toBe(true);
    expect(pending(s)).toEqual({ s1: "off", s2: "off" });
    s = doAll(s, 110);
    expect(pending(s)).toEqual({ s1: "restore", s2: "restore" });
    expect(labSettled(s)).toBe(false);
    s = doAll(s, 111);
    expect(labSettled(s)).toBe(true);
    expect(pending(run(s, tick(5000)))).toEqual({ s1: null, s2: null });
  });
});

describe("BMCs that refuse", () => {
  test("a refused call is tried again after a pause; three in a row take the server out", () => {
    let s = run(labRun(), tick(0));
    s = run(s, done(s, "s1", 1, false, "401 Unauthorized"));
    expect(server(s, "s1")).toMatchObject({ refusals: 1, last: { ok: false, error: "401 Unauthorized" } });
    expect(pending(run(s, tick(2)))).toMatchObject({ s1: null });
    s = run(s, tick(5001));
    expect(pending(s)).toMatchObject({ s1: "point" });
    s = run(s, done(s, "s1", 5002, false, "401 Unauthorized"), tick(15_002));
    s = run(s, done(s, "s1", 15_003, false, "401 Unauthorized"));
    expect(server(s, "s1").health).toMatchObject({ state: "quarantined", reason: "its BMC refused 3 times in a row (last: 401 Unauthorized)" });
    expect(server(s, "s1").stage).toBe("restored"); // nothing more can be asked of it
  });

  test("every lab server taken out: what is left fails at once, naming them", () => {
    const one = [{ name: "s1", ip: "10.0.0.1", power: "off" as const, once: false }];
    let s = run(labRun(["a.efi"], one), tick(0));
    for (const at of [1, 5002, 15_003]) {
      s = run(s, tick(at - 1));
      s = run(s, done(s, "s1", at, false, "connection refused"));
    }
    expect(phaseOf(s, "a.efi")).toEqual({ state: "failed", reason: "no server left to run it: every lab server (s1) was taken out" });
    expect(isDone(s)).toBe(true);
  });
});

describe("servers switched off come back for work only they may do", () => {
  test("a job retried after the other server got poweroff.efi and switched off: that server is powered on again for it", () => {
    let s = run(started(), get("10.0.0.1", 100), whole("10.0.0.1", "a.efi", 101), booted("10.0.0.1", 102));
    s = run(s, get("10.0.0.2", 103), whole("10.0.0.2", "b.efi", 104), booted("10.0.0.2", 105), reported("10.0.0.2", 106), get("10.0.0.2", 107));
    s = run(s, { type: "power-observed", at: 150, server: "s2", power: "off" });
    expect(server(s, "s2").stage).toBe("off");
    s = run(s, tick(20_102)); // a.efi times out on s1
    expect(pending(s)).toEqual({ s1: "cycle", s2: "on" });
    expect(server(s, "s2").pending!.reason).toBe("a job waits that no running server may take");
    // s1, cycled, asks before s2's power-on is answered: the job waits for s2 all the same.
    s = run(s, done(s, "s1", 20_103), get("10.0.0.1", 20_104));
    expect(heldBy(s, "10.0.0.1")).toBeUndefined();
    s = run(s, done(s, "s2", 20_105), get("10.0.0.2", 20_106));
    expect(heldBy(s, "10.0.0.2")?.workload.name).toBe("a.efi");
  });

  test("a server that asks before its BMC has answered the power-on is up: no boot timeout for it", () => {
    let s = run(labRun(["a.efi"], [servers[0]!]), tick(0));
    s = doAll(s, 1); // pointed; power-on decided at 1
    s = run(s, get("10.0.0.1", 2));
    s = run(s, done(s, "s1", 3), tick(10_000));
    expect(server(s, "s1").awaitingBootSince).toBeUndefined();
    expect(server(s, "s1").pending).toBeUndefined();
  });
});

describe("what is not the server's fault", () => {
  test("GitHub failing a download or dispatch restarting uses up no retry and keeps the job open to that server", () => {
    const one = [{ name: "s1", ip: "10.0.0.1", power: "off" as const, once: false }];
    let s = run(labRun(["a.efi"], one, { ...rules, retries: 0 }), tick(0));
    s = doAll(doAll(s, 1), 1);
    s = run(s, get("10.0.0.1", 10), { type: "download-ended", ip: "10.0.0.1", name: "a.efi", start: 0, sent: 10, error: "502", upstream: true, at: 11 });
    expect(phaseOf(s, "a.efi")).toEqual({ state: "unassigned" });
    s = run(s, get("10.0.0.1", 12), { type: "restarted", at: 13, timeouts });
    expect(phaseOf(s, "a.efi")).toEqual({ state: "unassigned" });
    s = run(s, get("10.0.0.1", 14));
    expect(heldBy(s, "10.0.0.1")?.workload.name).toBe("a.efi");
    expect(jobOf(s, "a.efi").attempts.map((a) => [a.reason, a.excused])).toEqual([
      ["its source could not deliver it (502)", true],
      ["its download was cut when dispatch stopped", true],
      [undefined, undefined],
    ]);
  });
});

describe("a restart", () => {
  test("a power-on or cycle pending when dispatch stopped is taken as done: never done twice for one decision", () => {
    let s = run(labRun(), tick(0));
    s = doAll(s, 1); // pointed; s1's power-on decided, not yet done
    expect(pending(s)).toMatchObject({ s1: "on" });
    s = run(s, { type: "restarted", at: 50, timeouts });
    expect(server(s, "s1")).toMatchObject({ stage: "running", awaitingBootSince: 50 });
    // Pointed again (its boot URL may have changed with the restart), never powered on again.
    expect(server(s, "s1").pending).toMatchObject({ action: "point", reason: "dispatch started again: its boot URL set again" });
    s = run(s, done(s, "s1", 51));
    expect(server(s, "s1")).toMatchObject({ stage: "running" });
    expect(server(s, "s1").pending).toBeUndefined();
  });

  test("replaying the journal's events reaches the same decisions", () => {
    const events: DispatchEvent[] = [];
    let s = run(labRun(), tick(0));
    const record = (e: DispatchEvent) => {
      events.push(e);
      s = run(s, e);
    };
    events.push(tick(0));
    record(done(s, "s1", 1));
    record(done(s, "s2", 1));
    record(done(s, "s1", 2));
    record(tick(60));
    const replayed = events.reduce(reduce, labRun());
    expect(replayed).toEqual(s);
  });
});

describe("`beacon boot` on a server whose boot override lasts one boot", () => {
  test("arms the override again", () => {
    const once = servers.map((x) => ({ ...x, once: true }));
    let s = run(labRun(["a.efi"], once), tick(0));
    s = doAll(doAll(s, 1), 1);
    s = doAll(run(s, tick(60)), 60);
    s = run(s, get("10.0.0.1", 100), whole("10.0.0.1", "a.efi", 101), booted("10.0.0.1", 102));
    expect(server(s, "s1").pending).toMatchObject({ action: "rearm" });
    // A repeated `beacon boot` decides nothing more.
    s = run(s, done(s, "s1", 103), booted("10.0.0.1", 104));
    expect(server(s, "s1").pending).toBeUndefined();
  });
});
