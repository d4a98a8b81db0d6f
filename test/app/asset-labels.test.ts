import { afterAll, afterEach, expect, test } from "bun:test";
import { poweroffEfi } from "../../src/efi/poweroff.ts";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { type DispatchProcess, fakeGitHubFlags, startDispatchProcess } from "../support/dispatch-process.ts";
import { labServer } from "../support/lab.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { efi } from "../support/workloads.ts";

// Issue 20: a release asset's label says where its workload runs (`dispatch: servers=… each`),
// read through the real CLI from the fake GitHub's release JSON, without a lab file.

const temp = tempDirs();
const running: (DispatchProcess | FakeGitHub)[] = [];
afterEach(async () => {
  for (const p of running.splice(0).reverse()) await p.stop();
});
afterAll(() => temp.removeAll());

const cli = { command: [process.execPath, new URL("../../src/main.ts", import.meta.url).pathname], env: { PATH: "/usr/bin:/bin", NO_COLOR: "1" } };

async function release(labels: Record<string, string>) {
  const gh = await startFakeGitHub({
    releases: [{ tag: "v1", assets: [efi("any.efi", 3000), { ...efi("pinned.efi", 3001), label: labels["pinned.efi"] ?? "" }, { ...efi("qual.efi", 3002), label: labels["qual.efi"] ?? "" }] }],
  });
  running.push(gh);
  return gh;
}

const start = async (gh: FakeGitHub, extra: string[] = [], options = {}) => {
  const home = temp.make("dispatch-labels-home-");
  const d = await startDispatchProcess(
    { ...cli, env: { ...cli.env, HOME: home, GITHUB_TOKEN: gh.token } },
    [...fakeGitHubFlags(gh), "--reports", temp.make("dispatch-labels-reports-"), "--log-format", "plain", ...extra],
    options,
  );
  running.push(d);
  return d;
};

test("labels place workloads on servers by address (each: one job per server), without a lab file", async () => {
  const gh = await release({ "pinned.efi": "Pinned build, dispatch: servers=127.0.0.5 run_timeout=1h", "qual.efi": "dispatch: servers=127.0.0.5,127.0.0.6 each" });
  const d = await start(gh);
  const status = (await (await fetch(`http://127.0.0.1:${d.port}/api/status`)).json()) as { jobs: { name: string; servers: string[] | null }[] };
  expect(status.jobs.map((j) => [j.name, j.servers])).toEqual([
    ["any.efi", null],
    ["pinned.efi", ["127.0.0.5"]],
    ["qual.efi@127.0.0.5", ["127.0.0.5"]],
    ["qual.efi@127.0.0.6", ["127.0.0.6"]],
  ]);
  const six = labServer(d.url, "127.0.0.6");
  const five = labServer(d.url, "127.0.0.5");
  // 127.0.0.6 gets any.efi, then its own qual.efi, then nothing: pinned.efi is 127.0.0.5's.
  for (const size of [3000, 3002]) {
    expect((await six.get()).body.length).toBe(size);
    await six.boot();
    expect((await six.report({ title: `ran ${size}` })).status).toBe(200);
  }
  expect(Buffer.from((await six.get()).body).equals(Buffer.from(poweroffEfi))).toBe(true);
  expect((await five.get()).body.length).toBe(3001);
  await d.waitFor("its label: servers 127.0.0.5");
});

test("a label dispatch cannot read stops the start (exit 2), naming the asset, the label and what is allowed", async () => {
  const gh = await release({ "qual.efi": "dispatch: tag=2p" });
  const d = await start(gh, [], { waitListening: false });
  expect(await d.exited).toBe(2);
  const { stderr } = await d.streams;
  expect(stderr).toContain('qual.efi: its label "dispatch: tag=2p": "tag=2p" is not understood: give tags=A,B');
  expect(stderr).toContain("leave the workload out with a filter");
});
