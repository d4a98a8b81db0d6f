import { describe, expect, test } from "bun:test";
import type { DispatchEvent } from "../../src/core/events.ts";
import { initialState } from "../../src/core/job.ts";
import { reduce } from "../../src/core/reducer.ts";
import type { Workload } from "../../src/core/workload.ts";

// A workload that is gone for good (its file removed or rebuilt, `--dir`): the download that
// found out fails the job with the reason, instead of putting it back in the queue.

const workload = (name: string): Workload => ({ name, size: 1000, bootType: "application/efi", source: `/out/${name}`, revision: "r1" });
const start = () => initialState([workload("a.efi"), workload("b.efi")], { downloadMs: 300_000, runMs: 3_600_000 });
const get = (ip: string, at: number): DispatchEvent => ({ type: "boot-requested", ip, at, download: true });
const gone = (ip: string, at: number, upstreamOnly = false): DispatchEvent => ({
  type: "download-ended", ip, name: "a.efi", start: 0, sent: 0, at, error: "a.efi was removed", upstream: true, ...(!upstreamOnly && { gone: true }),
});
const phaseOf = (events: DispatchEvent[], name = "a.efi") => events.reduce(reduce, start()).jobs.find((j) => j.workload.name === name)!.phase;

describe("download-ended with gone", () => {
  test("fails the job with the error as its reason", () => {
    expect(phaseOf([get("10.0.0.1", 1), gone("10.0.0.1", 2)])).toEqual({ state: "failed", ip: "10.0.0.1", reason: "a.efi was removed" });
  });

  test("without gone, the same upstream failure puts the job back in the queue", () => {
    expect(phaseOf([get("10.0.0.1", 1), gone("10.0.0.1", 2, true)])).toEqual({ state: "unassigned" });
  });

  test("from a server that does not hold the job, it changes nothing", () => {
    expect(phaseOf([get("10.0.0.1", 1), gone("10.0.0.9", 2)]).state).toBe("downloading");
  });

  test("the server then gets the next job", () => {
    expect(phaseOf([get("10.0.0.1", 1), gone("10.0.0.1", 2), get("10.0.0.1", 3)], "b.efi")).toMatchObject({ state: "downloading", ip: "10.0.0.1" });
  });
});
