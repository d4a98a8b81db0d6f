import { describe, expect, test } from "bun:test";
import type { DispatchEvent } from "../../src/core/events.ts";
import { type DispatchState, initialState } from "../../src/core/job.ts";
import { type CheckedServer, type LabRules, defaultLabRules, initialLab } from "../../src/core/lab.ts";
import { type PlacementServer, type Rule, globMatches, planJobs } from "../../src/core/placement.ts";
import { reduce, step } from "../../src/core/reducer.ts";
import { heldBy } from "../../src/core/selectors.ts";
import { summaryRows } from "../../src/core/summary.ts";
import type { RuleTerms } from "../../src/core/rule-terms.ts";
import type { Workload } from "../../src/core/workload.ts";

// Issue 20: which server runs what. The plan is worked out from the rules, the workloads and
// the lab file's servers; the reducer hands a server only what it may run.

const workload = (name: string, labelTerms?: RuleTerms): Workload => ({
  name,
  size: 1000,
  bootType: "application/efi",
  source: `https://api.example/${name}`,
  ...(labelTerms && { labelTerms }),
});
const labFile: PlacementServer[] = [
  { name: "genoa-1", ip: "10.0.0.1", tags: ["genoa", "2p"] },
  { name: "genoa-2", ip: "10.0.0.2", tags: ["genoa", "1p"] },
  { name: "turin-1", ip: "10.0.0.3", tags: ["turin", "2p"] },
];
const rule = (workloads: string | string[], terms: RuleTerms, line = 1): Rule => ({ workloads: [workloads].flat(), origin: `lab.toml:${line}`, ...terms });
const plan = (names: (string | Workload)[], rules: Rule[], servers = labFile) =>
  planJobs(names.map((n) => (typeof n === "string" ? workload(n) : n)), rules, servers).map(({ name, servers, limits, impossible }) => ({
    name,
    ...(servers && { servers }),
    ...(limits && { limits }),
    ...(impossible && { impossible }),
  }));

describe("the plan", () => {
  test("a workload no rule matches runs anywhere; tags pick the servers carrying all of them", () => {
    expect(plan(["a.efi", "memtest-x.efi"], [rule("memtest-*", { tags: ["2p"] })])).toEqual([
      { name: "a.efi" },
      { name: "memtest-x.efi", servers: ["genoa-1", "turin-1"] },
    ]);
    expect(plan(["m.efi"], [rule("*", { tags: ["genoa", "2p"] })])).toEqual([{ name: "m.efi", servers: ["genoa-1"] }]);
  });

  test("servers by name or by address; an address outside the lab file is a server of its own (without tags)", () => {
    expect(plan(["fw.efi"], [rule("fw.efi", { servers: ["genoa-2", "10.0.0.3", "192.0.2.9"] })])).toEqual([{ name: "fw.efi", servers: ["genoa-2", "turin-1", "192.0.2.9"] }]);
    // Without a lab file at all, rules still place workloads on addresses.
    expect(plan(["fw.efi"], [rule("fw.efi", { servers: ["192.0.2.9"] })], [])).toEqual([{ name: "fw.efi", servers: ["192.0.2.9"] }]);
    // Tags and servers together: both must hold, and an address outside the lab file has no tags.
    expect(plan(["fw.efi"], [rule("fw.efi", { servers: ["genoa-1", "genoa-2", "192.0.2.9"], tags: ["2p"] })])).toEqual([{ name: "fw.efi", servers: ["genoa-1"] }]);
  });

  test("each = true: one job per matching server, named WORKLOAD@SERVER, in the lab file's order, beside its workload's place in the queue", () => {
    expect(plan(["a.efi", "qual.efi", "z.efi"], [rule("qual.*", { tags: ["genoa"], each: true })])).toEqual([
      { name: "a.efi" },
      { name: "qual.efi@genoa-1", servers: ["genoa-1"] },
      { name: "qual.efi@genoa-2", servers: ["genoa-2"] },
      { name: "z.efi" },
    ]);
    // Without tags or servers, every server of the lab file.
    expect(plan(["q.efi"], [rule("q.efi", { each: true })]).map((j) => j.name)).toEqual(["q.efi@genoa-1", "q.efi@genoa-2", "q.efi@turin-1"]);
  });

  test("a rule no server matches makes the workload impossible, with the reason", () => {
    expect(plan(["m.efi"], [rule("m.efi", { tags: ["4p"] }, 7)])).toEqual([{ name: "m.efi", servers: [], impossible: "no server matches (tags 4p, lab.toml:7)" }]);
    expect(plan(["m.efi"], [rule("m.efi", { servers: ["nobody"], each: true })])[0]!.impossible).toContain("servers nobody; each");
  });

  test("the first matching rule applies; a label fills in what it leaves out, and the lab file wins on the same key", () => {
    const rules = [rule("burn-*", { runMs: 43_200_000 }, 3), rule("*", { tags: ["1p"] }, 9)];
    expect(plan(["burn-in.efi"], rules)).toEqual([{ name: "burn-in.efi", limits: { runMs: 43_200_000 } }]);
    const labelled = workload("burn-in.efi", { tags: ["2p"], each: true, runMs: 60_000, retries: 3 });
    expect(plan([labelled], rules)).toEqual([
      { name: "burn-in.efi@genoa-1", servers: ["genoa-1"], limits: { runMs: 43_200_000, retries: 3 } },
      { name: "burn-in.efi@turin-1", servers: ["turin-1"], limits: { runMs: 43_200_000, retries: 3 } },
    ]);
    // A label alone, no rule in the lab file.
    expect(plan([workload("smoke.efi", { downloadMs: 5000 })], [])).toEqual([{ name: "smoke.efi", limits: { downloadMs: 5000 } }]);
  });

  test("globs: *, ?, sets, and nothing else is special", () => {
    expect(globMatches("memtest-*", "memtest-86.efi")).toBe(true);
    expect(globMatches("memtest-*", "xmemtest-86.efi")).toBe(false);
    expect(globMatches("?.efi", "a.efi")).toBe(true);
    expect(globMatches("?.efi", "ab.efi")).toBe(false);
    expect(globMatches("[ab].efi", "b.efi")).toBe(true);
    expect(globMatches("[!ab].efi", "b.efi")).toBe(false);
    expect(globMatches("a.efi", "aXefi")).toBe(false);
    expect(globMatches("a+(b).efi", "a+(b).efi")).toBe(true);
  });
});

// The reducer with a plan.
const timeouts = { downloadMs: 10_000, runMs: 20_000 };
const rules: LabRules = { ...defaultLabRules, powerOnSpacingMs: 0, bootTimeoutMs: 100_000, poweroffGraceMs: 100_000, retries: 1 };
const checked: CheckedServer[] = labFile.map((s) => ({ name: s.name, ip: s.ip!, power: "off", once: false }));
const hosts = Object.fromEntries(labFile.map((s) => [s.ip!, s.name]));
const withPlan = (workloads: Workload[], planRules: Rule[], lab = true) =>
  initialState(workloads, timeouts, lab ? initialLab(checked, rules) : undefined, { jobs: planJobs(workloads, planRules, labFile), hosts });
const run = (state: DispatchState, ...events: DispatchEvent[]) => events.reduce(reduce, state);
const tick = (at: number): DispatchEvent => ({ type: "tick", at });
const get = (ip: string, at: number): DispatchEvent => ({ type: "boot-requested", ip, at, download: true });
const whole = (ip: string, name: string, at: number): DispatchEvent => ({ type: "download-ended", ip, name, start: 0, sent: 1000, at });
const booted = (ip: string, at: number): DispatchEvent => ({ type: "booted", ip, at });
const reported = (ip: string, at: number): DispatchEvent => ({ type: "reported", ip, at, report: { title: `from ${ip}` } });
const job = (s: DispatchState, name: string) => s.jobs.find((j) => j.name === name)!;
/** Every lab server pointed and powered on, answered by the power edge at once. */
function powered(state: DispatchState, at = 1): DispatchState {
  for (let i = 0; i < 3; i++) {
    state = run(state, tick(at));
    for (const server of state.lab!.servers.filter((x) => x.pending)) {
      state = run(state, { type: "power-done", at, server: server.name, id: server.pending!.id, ok: true });
    }
  }
  return state;
}

describe("the reducer places jobs", () => {
  test("a server gets the first job in name order that it may run; when none fits, poweroff.efi", () => {
    let s = powered(withPlan([workload("a-2p.efi"), workload("b.efi"), workload("c-2p.efi")], [rule("*-2p.efi", { tags: ["2p"] })]));
    // genoa-2 (1p) skips the two 2p workloads.
    s = run(s, get("10.0.0.2", 10));
    expect(heldBy(s, "10.0.0.2")?.name).toBe("b.efi");
    s = run(s, get("10.0.0.1", 11), get("10.0.0.3", 12));
    expect(heldBy(s, "10.0.0.1")?.name).toBe("a-2p.efi");
    expect(heldBy(s, "10.0.0.3")?.name).toBe("c-2p.efi");
    // genoa-2 finished b.efi; nothing left it may run: poweroff.efi, though nothing is done.
    s = run(s, whole("10.0.0.2", "b.efi", 13), booted("10.0.0.2", 14), reported("10.0.0.2", 15));
    const next = step(s, get("10.0.0.2", 16));
    expect(next.outcome).toEqual({ kind: "poweroff" });
  });

  test("each: every server runs its own job of the workload, and the summary groups them by workload", () => {
    let s = powered(withPlan([workload("qual.efi")], [rule("qual.efi", { tags: ["genoa"], each: true })]));
    expect(s.jobs.map((j) => j.name)).toEqual(["qual.efi@genoa-1", "qual.efi@genoa-2"]);
    s = run(s, get("10.0.0.2", 10), get("10.0.0.3", 11), get("10.0.0.1", 12));
    expect(heldBy(s, "10.0.0.2")?.name).toBe("qual.efi@genoa-2");
    expect(heldBy(s, "10.0.0.1")?.name).toBe("qual.efi@genoa-1");
    expect(heldBy(s, "10.0.0.3")).toBeUndefined();
    // Events name the job: the download of genoa-2's copy ends, genoa-1's is untouched.
    s = run(s, whole("10.0.0.2", "qual.efi@genoa-2", 13));
    expect(job(s, "qual.efi@genoa-2").attempts[0]!.downloadedAt).toBe(13);
    expect(job(s, "qual.efi@genoa-1").attempts[0]!.downloadedAt).toBeUndefined();
    s = run(s, booted("10.0.0.2", 14), reported("10.0.0.2", 15));
    expect(job(s, "qual.efi@genoa-2").phase.state).toBe("reported");
    s = run(s, { type: "issue-filed", at: 16, name: "qual.efi@genoa-2", issue: { number: 4, url: "u4" } });
    expect(job(s, "qual.efi@genoa-2").phase).toMatchObject({ state: "finished", issue: { number: 4 } });
    expect(summaryRows(s, []).map((r) => [r.job, r.workload, r.verdict])).toEqual([
      ["qual.efi@genoa-1", "qual.efi", "pending"],
      ["qual.efi@genoa-2", "qual.efi", "passed"],
    ]);
  });

  test("a workload no server matches fails at the first event, with the reason", () => {
    const s = run(withPlan([workload("a.efi"), workload("m.efi")], [rule("m.efi", { tags: ["4p"] }, 5)], false), tick(3));
    expect(job(s, "m.efi").phase).toEqual({ state: "failed", reason: "no server matches (tags 4p, lab.toml:5)" });
    expect(job(s, "m.efi").entered.failed).toBe(3);
    expect(job(s, "a.efi").phase.state).toBe("unassigned");
  });

  test("every server a job may run on taken out: it fails at once; the others' jobs go on", () => {
    let s = powered(withPlan([workload("a.efi"), workload("t.efi")], [rule("t.efi", { servers: ["turin-1"] })], true));
    // turin-1 never asks: cycled at the boot timeout, taken out at the second.
    s = run(s, get("10.0.0.1", 10), get("10.0.0.2", 10), tick(100_001));
    const cycle = s.lab!.servers.find((x) => x.name === "turin-1")!.pending!;
    expect(cycle.action).toBe("cycle");
    s = run(s, { type: "power-done", at: 100_002, server: "turin-1", id: cycle.id, ok: true });
    expect(job(s, "t.efi").phase.state).toBe("unassigned");
    // Taken out by this tick's decisions: its job fails with the next event (the next tick at the latest).
    s = run(s, tick(200_002), tick(200_003));
    const turin = s.lab!.servers.find((x) => x.name === "turin-1")!;
    if (turin.health.state !== "quarantined") throw new Error(`turin-1 should be out by now: ${JSON.stringify(turin)}`);
    expect(job(s, "t.efi").phase).toMatchObject({ state: "failed", reason: expect.stringContaining("every server it may run on (turin-1) was taken out") });
    expect(job(s, "a.efi").phase.state).not.toBe("failed");
  });

  test("a job that hangs is retried elsewhere within its servers, never on one it may not run on", () => {
    let s = powered(withPlan([workload("m.efi"), workload("other.efi")], [rule("m.efi", { tags: ["2p"] })]));
    s = run(s, get("10.0.0.1", 10), whole("10.0.0.1", "m.efi", 11), booted("10.0.0.1", 12));
    // genoa-2 (1p) asks while m.efi is back in the queue after its run timeout: it gets other.efi.
    s = run(s, tick(12 + 20_000));
    expect(job(s, "m.efi").phase.state).toBe("unassigned");
    s = run(s, get("10.0.0.2", 20_100));
    expect(heldBy(s, "10.0.0.2")?.name).toBe("other.efi");
    // genoa-1, cycled, asks again: m.efi waits for turin-1, the other server that may run it.
    s = run(s, get("10.0.0.1", 20_200));
    expect(heldBy(s, "10.0.0.1")).toBeUndefined();
    s = run(s, get("10.0.0.3", 20_300));
    expect(heldBy(s, "10.0.0.3")?.name).toBe("m.efi");
    expect(job(s, "m.efi").attempts.map((a) => a.ip)).toEqual(["10.0.0.1", "10.0.0.3"]);
  });

  test("its only server: the job is retried there after the cycle", () => {
    let s = powered(withPlan([workload("m.efi")], [rule("m.efi", { servers: ["genoa-2"] })]));
    s = run(s, get("10.0.0.2", 10), whole("10.0.0.2", "m.efi", 11), booted("10.0.0.2", 12), tick(12 + 20_000));
    s = run(s, get("10.0.0.2", 20_100));
    expect(heldBy(s, "10.0.0.2")?.name).toBe("m.efi");
  });

  test("per-job limits override the run's: its own run timeout and retries", () => {
    const planRules = [rule("burn.efi", { runMs: 50_000, retries: 0 }), rule("smoke.efi", { runMs: 1_000, retries: 2 })];
    let s = powered(withPlan([workload("burn.efi"), workload("smoke.efi")], planRules));
    s = run(s, get("10.0.0.1", 10), whole("10.0.0.1", "burn.efi", 11), booted("10.0.0.1", 12));
    s = run(s, get("10.0.0.2", 10), whole("10.0.0.2", "smoke.efi", 11), booted("10.0.0.2", 12));
    // At the run's 20 s, burn.efi (50 s) still runs; smoke.efi (1 s) was ended long before.
    s = run(s, tick(1_012));
    expect(job(s, "smoke.efi").phase.state).toBe("unassigned");
    expect(job(s, "burn.efi").phase.state).toBe("booting");
    s = run(s, tick(20_012));
    expect(job(s, "burn.efi").phase.state).toBe("booting");
    // burn.efi has no retries of its own (the run's is 1): it fails the first time.
    s = run(s, tick(50_012));
    expect(job(s, "burn.efi").phase).toMatchObject({ state: "failed", reason: "booted but no report within 50s" });
    // smoke.efi has 2 retries: a third attempt before it fails.
    for (const [ip, at] of [["10.0.0.3", 60_000], ["10.0.0.1", 70_000]] as const) {
      s = run(s, get(ip, at), whole(ip, "smoke.efi", at + 1), booted(ip, at + 2), tick(at + 1_002));
    }
    expect(job(s, "smoke.efi").phase).toMatchObject({ state: "failed", reason: expect.stringContaining("attempt 3 of 3") });
  });

  test("without a lab, a rule by address places a job on a server outside any lab file", () => {
    let s = withPlan([workload("a.efi"), workload("b.efi")], [rule("a.efi", { servers: ["192.0.2.9"] })], false);
    s = run(s, get("192.0.2.8", 1));
    expect(heldBy(s, "192.0.2.8")?.name).toBe("b.efi");
    s = run(s, get("192.0.2.9", 2));
    expect(heldBy(s, "192.0.2.9")?.name).toBe("a.efi");
  });
});
