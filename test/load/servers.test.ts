import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DispatchEvent } from "../../src/core/events.ts";
import { initialState } from "../../src/core/job.ts";
import { reduce } from "../../src/core/reducer.ts";
import { parseJournal } from "../../src/journal/parse.ts";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { report, status } from "../support/cycle.ts";
import { type TestDispatch, startTestDispatch, until } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { img } from "../support/workloads.ts";

// 32 simulated servers (distinct loopback addresses) run full cycles at once until the queue
// hands them poweroff.efi. GitHub's write spacing is shortened for this test only.

const servers = 32;
const jobs = 48;
let gh: FakeGitHub | undefined;
let d: TestDispatch | undefined;
afterAll(async () => {
  await d?.stop();
  await gh?.stop();
});

test("every job once, one issue per report, never one job on two servers", async () => {
  const assets = Array.from({ length: jobs }, (_, i) => img(`job-${String(i).padStart(2, "0")}.img`, 20_000 + i));
  const nameBySize = new Map(assets.map((a) => [a.data.byteLength, a.name]));
  gh = await startFakeGitHub({ releases: [{ tag: "v1", assets }] });
  d = await startTestDispatch(gh, { github: { writeSpacingMs: 2 }, retryDelayMs: () => 100 });
  const url = d.url;

  // One in ten issue creations fails first: retries must not duplicate.
  gh.faults.failNext.push({ route: "issue", status: 502, times: 5 });
  gh.faults.failAfterCreate = { status: 502, times: 3 };

  const ran = new Map<string, string[]>(); // server → jobs it ran
  const server = async (ip: string) => {
    const mine: string[] = [];
    ran.set(ip, mine);
    for (let cycle = 0; cycle < jobs; cycle++) {
      const head = await http(url, { method: "HEAD", from: ip });
      if (head.headers["content-type"] === "application/efi") return; // poweroff.efi: the queue is empty
      expect(head.headers["content-type"]).toBe("application/vnd.efi-img");
      const get = await http(url, { from: ip });
      expect(get.status).toBe(200);
      const name = nameBySize.get(get.body.byteLength)!;
      expect(get.body).toEqual(assets.find((a) => a.name === name)!.data);
      expect((await http(url, { method: "POST", from: ip })).status).toBe(200);
      expect((await report(url, ip, { title: `${name} on ${ip}` })).status).toBe(200);
      mine.push(name);
    }
    throw new Error(`${ip} never got poweroff.efi`);
  };
  await Promise.all(Array.from({ length: servers }, (_, i) => server(`127.0.2.${i + 1}`)));

  const everything = [...ran.values()].flat();
  expect(everything.sort()).toEqual(assets.map((a) => a.name).sort()); // every job once
  await until(() => gh!.issues.length >= jobs, "every issue", 30_000);
  const titles = gh.issues.map((i) => i.title);
  expect(new Set(titles).size).toBe(titles.length); // one issue per report
  expect(titles).toHaveLength(jobs);
  for (const [ip, names] of ran) for (const name of names) expect(titles).toContain(`${name} on ${ip}`);
  await until(() => d!.lines.filter((l) => l.includes(" finished: ")).length === jobs, "every job finished");
  expect((await status(d.port)).every((j) => j.state === "finished")).toBe(true);

  // Never one job on two servers: replay the journal and check after every event.
  const parsed = parseJournal(readFileSync(join(d.stateDir, "journal.jsonl"), "utf8"));
  if (parsed.kind !== "journal") throw new Error(`journal: ${parsed.kind}`);
  let state = initialState(
    assets.map((a) => ({ name: a.name, size: a.data.byteLength, bootType: "application/vnd.efi-img" as const, source: "" })).sort((a, b) => (a.name < b.name ? -1 : 1)),
    parsed.header.timeouts,
  );
  for (const event of parsed.events as DispatchEvent[]) {
    state = reduce(state, event);
    const holders = state.jobs.flatMap((j) => (j.phase.state === "assigned" || j.phase.state === "downloading" || j.phase.state === "booting" ? [j.phase.ip] : []));
    expect(new Set(holders).size).toBe(holders.length);
  }
  expect(state.jobs.every((j) => j.phase.state === "finished")).toBe(true);
}, 90_000);
