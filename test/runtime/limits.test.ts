import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { limitsFromEnv } from "../../src/runtime/limits.ts";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { fakeGitHubFlags, startDispatchProcess } from "../support/dispatch-process.ts";
import { efi } from "../support/workloads.ts";
import { denoLaunch } from "./deno-launch.ts";

describe("DISPATCH_SERVE_LIMITS", () => {
  test("unset or empty: no change; set: exactly the fields given", () => {
    expect(limitsFromEnv(undefined)).toEqual({});
    expect(limitsFromEnv("  ")).toEqual({});
    expect(limitsFromEnv('{"writeStallMs":300000,"maxHeaderBytes":32768}')).toEqual({ writeStallMs: 300_000, maxHeaderBytes: 32_768 });
    expect(limitsFromEnv('{"bodyIdleMs":5000,"bodyTotalMs":600000,"stopGraceMs":1000}')).toEqual({ bodyIdleMs: 5000, bodyTotalMs: 600_000, stopGraceMs: 1000 });
  });

  test("the older bodyTimeoutMs still works: it sets the idle window, never less room than it gave", () => {
    expect(limitsFromEnv('{"bodyTimeoutMs":90000}')).toEqual({ bodyIdleMs: 90_000 });
    expect(limitsFromEnv('{"bodyTimeoutMs":90000,"bodyIdleMs":1000}')).toEqual({ bodyIdleMs: 1000 });
  });

  const bad: [string, RegExp][] = [
    ["{writeStallMs: 1}", /is not JSON/],
    ["[1000]", /must be a JSON object/],
    ['{"writeStallMs":"2m"}', /writeStallMs must be a number of milliseconds/],
    ['{"maxBodyBytes":0}', /maxBodyBytes must be at least 1/],
    ['{"headersTimeoutMs":1.5}', /headersTimeoutMs must be a whole number of milliseconds/],
    ['{"writeStall":1000}', /writeStall is not one of headersTimeoutMs/],
  ];
  for (const [text, problem] of bad) {
    test(`${text}: an error naming the problem and what to set instead`, () => {
      expect(() => limitsFromEnv(text)).toThrow(problem);
      expect(() => limitsFromEnv(text)).toThrow(/Set it like DISPATCH_SERVE_LIMITS='\{.*\}', or unset it\./);
    });
  }
});

describe("a bad DISPATCH_SERVE_LIMITS through the real CLI", () => {
  let gh: FakeGitHub;
  beforeAll(async () => {
    gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a.efi", 4000)] }] });
  });
  afterAll(async () => {
    await gh?.stop();
  });

  const launches = {
    bun: () => ({ command: [process.execPath, "src/main.ts"], cwd: join(import.meta.dir, "../.."), env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" } }),
    deno: () => denoLaunch(),
  };
  for (const [runtime, launch] of Object.entries(launches)) {
    test(`under ${runtime}: a usage error (exit 2) with the message, before serving anything`, async () => {
      const how = launch();
      if (!how) return;
      const env = { ...how.env, GITHUB_TOKEN: gh.token, DISPATCH_SERVE_LIMITS: '{"writeStallMs":"2m"}' };
      const d = await startDispatchProcess({ ...how, env }, fakeGitHubFlags(gh), { waitListening: false });
      try {
        expect(await d.exited).toBe(2);
        const output = d.lines.join("\n");
        expect(output).toContain("dispatch: DISPATCH_SERVE_LIMITS: writeStallMs must be a number of milliseconds");
        expect(output).not.toContain("listening on");
        expect(output).not.toContain(gh.token);
      } finally {
        await d.stop();
      }
    }, 30_000);
  }
});
