import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DispatchProcess, type Launch, startDispatchProcess } from "../support/dispatch-process.ts";
import { http } from "../support/http-client.ts";
import { run } from "../support/processes.ts";
import { pattern } from "../support/workloads.ts";
import { denoLaunch } from "./deno-launch.ts";
import { tempDirs } from "../support/temp-dirs.ts";

// A --dir run's journal knows each file by its modification time. Bun reads it to the
// nanosecond, Deno to the millisecond: a run begun under one must resume under the other.

const root = join(import.meta.dir, "../..");
const bun = (): Launch => ({ command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" } });

const processes: DispatchProcess[] = [];
const temp = tempDirs();
afterEach(async () => {
  await Promise.all(processes.splice(0).map((d) => d.stop()));
  temp.removeAll();
});

/** A folder of two workloads whose modification times have nanoseconds, and dispatch's arguments for it. */
function folderRun() {
  const dir = temp.make("dispatch-folder-journal-");
  const out = join(dir, "out");
  mkdirSync(out);
  for (const name of ["a.efi", "b.efi"]) {
    writeFileSync(join(out, name), pattern(4000, name.length));
    // Past the millisecond: what Bun sees and Deno does not.
    run(["touch", "-d", "2026-01-01 00:00:00.123456789", join(out, name)]);
  }
  const state = join(dir, "state");
  return { state, args: ["--dir", out, "--reports", join(dir, "results"), "--state", state, "--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain"] };
}

/** Starts dispatch, has 127.0.0.2 take a job, stops it: an unfinished run. */
async function begin(launch: Launch, args: string[]) {
  const one = await startDispatchProcess(launch, args);
  processes.push(one);
  await http(one.url, { method: "HEAD", from: "127.0.0.2" });
  await one.waitFor("📌 a.efi assigned to 127.0.0.2");
  expect(await one.stop()).toBe(0);
}

async function resumes(launch: Launch, args: string[]) {
  const two = await startDispatchProcess(launch, args);
  processes.push(two);
  expect(await two.waitFor("resumed")).toContain("resumed");
  expect(two.output()).not.toContain("changed since it began");
  expect(await two.stop()).toBe(0);
}

test("a journal written when revisions had nanoseconds resumes", async () => {
  const { state, args } = folderRun();
  await begin(bun(), args);
  const journal = join(state, "journal.jsonl");
  const text = readFileSync(journal, "utf8");
  expect(text).toContain("modified 2026-01-01T00:00:00.123Z");
  writeFileSync(journal, text.replaceAll("00:00:00.123Z", "00:00:00.123456789Z"));
  await resumes(bun(), args);
}, 60_000);

for (const [first, second] of [["bun", "deno"], ["deno", "bun"]] as const) {
  describe(`a folder run begun under ${first}`, () => {
    test(`resumes under ${second}, with files whose modification times have nanoseconds`, async () => {
      const deno = denoLaunch();
      if (!deno) return;
      const launches = { bun: bun(), deno };
      const { args } = folderRun();
      await begin(launches[first], args);
      await resumes(launches[second], args);
    }, 60_000);
  });
}
