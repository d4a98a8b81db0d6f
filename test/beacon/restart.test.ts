import { afterEach, describe, expect, test } from "bun:test";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { status } from "../support/cycle.ts";
import { until } from "../support/dispatch.ts";
import { type DispatchProcess, startDispatchProcess } from "../support/dispatch-process.ts";
import { http } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";
import { type BeaconRun, mainTs, runBeacon, startBeacon } from "./support/beacon-cli.ts";
import { tempDirs } from "../support/temp-dirs.ts";

// The promise beacon keeps: dispatch dies (SIGKILL) while a workload's report is on its way,
// comes back on the same address and state folder, and the report arrives, filed once.

let gh: FakeGitHub | undefined;
const dispatches: DispatchProcess[] = [];
const beacons: BeaconRun[] = [];
const temp = tempDirs();
afterEach(async () => {
  for (const b of beacons.splice(0)) b.kill();
  for (const d of dispatches.splice(0)) await d.kill("SIGKILL");
  await gh?.stop();
  gh = undefined;
  temp.removeAll();
});

/** A loopback port nothing listens on right now, so dispatch can come back on the same one. */
function freePort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

async function dispatch(gh: FakeGitHub, state: string, port: number) {
  const args = ["-o", gh.owner, "-r", gh.repo, "-t", "v1", "--api-url", gh.apiUrl, "--bind", `127.0.0.1:${port}`, "--no-mdns", "--state", state];
  const d = await startDispatchProcess({ command: ["bun", mainTs], env: { ...(process.env as Record<string, string>), GITHUB_TOKEN: gh.token, NO_COLOR: "1" } }, args);
  dispatches.push(d);
  return d;
}

describe("dispatch killed and restarted while beacon report waits", () => {
  test("the report arrives and exactly one issue is filed", async () => {
    gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("w.efi", 4096)] }] });
    const state = temp.make("dispatch-beacon-state-");
    const port = freePort();
    const first = await dispatch(gh, state, port);
    expect((await http(first.url, { method: "HEAD" })).status).toBe(200);
    expect((await http(first.url)).status).toBe(200);
    expect((await runBeacon(["boot", "--url", first.url])).code).toBe(0);

    await first.kill("SIGKILL");
    const beacon = startBeacon(["report", "-t", "burn-in passed", "--url", first.url, "-v"], { stdin: "48 h, no errors\n" });
    beacons.push(beacon);
    // It has tried, found nobody, and is waiting to try again.
    await until(() => beacon.stderr().includes("no answer") && beacon.stderr().includes("trying again"), "beacon to retry", 20_000);

    const second = await dispatch(gh, state, port);
    const run = await beacon.done;
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`report taken by ${second.url}`);

    await until(async () => (await status(second.port)).some((j) => j.state === "finished"), "the report to be filed", 20_000);
    expect(gh.issues.map((i) => i.title)).toEqual(["burn-in passed"]);
    expect(gh.issues[0]!.body).toContain("48 h, no errors");

  }, 60_000);
});
