import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DispatchConfig } from "../../src/app/config.ts";
import { type Run, startDispatch } from "../../src/app/run.ts";
import { bunRuntime } from "../../src/runtime/bun/index.ts";
import { afterEach } from "bun:test";
import { type FakeGitHub, type FakeGitHubOptions, startFakeGitHub } from "../fake-github/index.ts";

export type TestDispatch = Run & { url: string; lines: string[]; warnings: string[] };

/**
 * dispatch in this process, on a loopback port, against a fake GitHub (or, with `undefined`,
 * without one: for `dir` and `reportsDir` runs); its log kept for asserts.
 */
export async function startTestDispatch(gh: FakeGitHub | undefined, overrides: Partial<DispatchConfig> = {}): Promise<TestDispatch> {
  const lines: string[] = [];
  const warnings: string[] = [];
  const config: DispatchConfig = {
    ...(gh && { owner: gh.owner, repo: gh.repo, token: gh.token }),
    tag: "v1",
    filters: [],
    // Without a fake GitHub, a port on loopback where nothing listens: a request would fail, never leave the machine.
    apiUrl: gh?.apiUrl ?? "http://127.0.0.1:1",
    bind: { hostname: "127.0.0.1", port: 0 },
    path: "/dispatch",
    mdns: false,
    timeouts: { downloadMs: 300_000, runMs: 3_600_000 },
    ...overrides,
    stateDir: overrides.stateDir ?? mkdtempSync(join(tmpdir(), "dispatch-state-")),
  };
  const running = await startDispatch(config, bunRuntime, {
    info: (line) => lines.push(line),
    warn: (line) => (warnings.push(line), lines.push(`⚠️ ${line}`)),
  });
  const stop = async () => {
    await running.stop();
    // A state folder made here is this test's alone.
    if (!overrides.stateDir) rmSync(running.stateDir, { recursive: true, force: true });
  };
  return { ...running, stop, url: `http://127.0.0.1:${running.port}${config.path}`, lines, warnings };
}

// The shared wait, here too: most tests that start a dispatch also wait on it.
export { until } from "./until.ts";

/**
 * A fake GitHub and an in-process dispatch for each test of a file, both stopped after the test
 * (also when it fails). Call at the top level of a test file; `start` inside a test.
 */
export function dispatchPerTest() {
  let gh: FakeGitHub | undefined;
  let d: TestDispatch | undefined;
  afterEach(async () => {
    await d?.stop();
    await gh?.stop();
    d = gh = undefined;
  });
  return {
    async start(github: FakeGitHubOptions, overrides: Partial<DispatchConfig> = {}) {
      gh = await startFakeGitHub(github);
      d = await startTestDispatch(gh, overrides);
      return { gh, d };
    },
  };
}
