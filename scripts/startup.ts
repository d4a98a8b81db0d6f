#!/usr/bin/env bun
// How long from exec to "listening on …", against a fake GitHub on loopback, for the compiled
// binary, `bun src/main.ts` and `deno run -A src/main.ts`. Runs are interleaved (one of each per
// round) so machine noise hits all three alike; the baseline is `bun src/main.ts` of this run.
//   bun scripts/startup.ts [--runs N]      (builds dist/dispatch first if it is missing)
import { startFakeGitHub } from "../test/fake-github/index.ts";
import { type Launch, fakeGitHubFlags, startDispatchProcess } from "../test/support/dispatch-process.ts";
import { efi } from "../test/support/workloads.ts";
import { existsSync } from "node:fs";
import { binary, deno, ensureBinary, env, printTimes, root, runsFromArgs } from "./startup-rig.ts";

const runs = runsFromArgs(15);
await ensureBinary();

const ways: { name: string; launch: Launch }[] = [
  { name: "bun src/main.ts", launch: { command: [process.execPath, "src/main.ts"], cwd: root, env } },
  { name: "dist/dispatch", launch: { command: [binary], cwd: root, env } },
];
if (existsSync(deno)) ways.push({ name: "deno run -A src/main.ts", launch: { command: [deno, "run", "-A", "src/main.ts"], cwd: root, env } });

const gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a.efi", 1000)] }] });
const times = new Map(ways.map((w) => [w.name, [] as number[]]));
try {
  // One untimed start each: the first run fills the OS page cache and Deno's code cache.
  for (let round = -1; round < runs; round++) {
    for (const way of ways) {
      const started = performance.now();
      const d = await startDispatchProcess({ ...way.launch, env: { ...way.launch.env, GITHUB_TOKEN: gh.token } }, fakeGitHubFlags(gh));
      const ms = performance.now() - started;
      await d.stop();
      if (round >= 0) times.get(way.name)!.push(ms);
    }
  }
} finally {
  await gh.stop();
}

printTimes(`exec → "listening on" line`, ways.map((w) => w.name), times);
