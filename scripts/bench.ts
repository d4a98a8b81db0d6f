#!/usr/bin/env bun
/**
 * How much a download costs when it goes through dispatch: dispatch (a real process, as users
 * run it) against nginx serving real files with sendfile (the storage host), behind a stand-in
 * for GitHub's redirect, with the storage host on plain HTTP and on HTTPS (a CA made for the
 * run); dispatch serving the same files from a local folder (`--dir`); beside it nginx and
 * HAProxy (splicing) as reverse proxies, and the storage host direct.
 *
 *   bun run bench            the full run (about 8 minutes), table on stdout, JSON in bench/results.json
 *   bun run bench --quick    small sizes, for a smoke test
 *   bun run bench --out FILE write the JSON elsewhere
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { version } from "../src/version.ts";
import { stopAll } from "./bench/children.ts";
import { dispatchFeatures } from "./bench/dispatch-process.ts";
import { describeMachine } from "./bench/machine.ts";
import { type BenchResults, checks, machineLine, table } from "./bench/report.ts";
import { type Rig, startRig } from "./bench/rig.ts";
import { type BenchPlan, headUnderLoad, manyStreams, type PathSupport, planAssets, singleStream, slowClients } from "./bench/scenarios.ts";
import { ensureTools } from "./bench/tools.ts";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

const plans: Record<"full" | "quick", BenchPlan> = {
  full: {
    single: { file: { name: "1g.bin", size: GiB }, rounds: 5 },
    multi: { file: { name: "256m.bin", size: 256 * MiB }, clients: 32, rounds: 3 },
    slow: { file: { name: "1g.bin", size: GiB }, rate: "20M", clients: 32 },
    // 4 GiB at 20 MB/s would take 3½ minutes; at 100 MB/s the client is still far slower than
    // the storage host, so dispatch must hold the upstream back just the same.
    growth: { small: { name: "256m.bin", size: 256 * MiB }, big: { name: "4g.bin", size: 4 * GiB }, rate: "100M" },
    head: { file: { name: "4g.bin", size: 4 * GiB }, requests: 10_000, downloads: 32 },
    headPaced: { file: { name: "4g.bin", size: 4 * GiB }, requests: 10_000, downloads: 32, rate: "10M" },
  },
  quick: {
    single: { file: { name: "16m.bin", size: 16 * MiB }, rounds: 1 },
    multi: { file: { name: "4m.bin", size: 4 * MiB }, clients: 4, rounds: 1 },
    slow: { file: { name: "4m.bin", size: 4 * MiB }, rate: "8M", clients: 4 },
    growth: { small: { name: "4m.bin", size: 4 * MiB }, big: { name: "16m.bin", size: 16 * MiB }, rate: "32M" },
    head: { file: { name: "16m.bin", size: 16 * MiB }, requests: 200, downloads: 4, rate: "2M" },
    headPaced: { file: { name: "16m.bin", size: 16 * MiB }, requests: 200, downloads: 4, rate: "1M" },
  },
};

const { values: options } = parseArgs({
  args: Bun.argv.slice(2),
  options: { quick: { type: "boolean", default: false }, out: { type: "string" } },
});
const mode = options.quick ? "quick" : "full";
const plan = plans[mode];
const out = options.out ?? join(import.meta.dir, "..", "bench", mode === "quick" ? "results-quick.json" : "results.json");
const log = (line: string) => console.error(line);

const files = [...new Map([plan.single.file, plan.multi.file, plan.slow.file, plan.growth.small, plan.growth.big, plan.head.file].map((f) => [f.name, f])).values()];
const tools = await ensureTools(log);
const machine = await describeMachine(tools);
log(`dispatch ${version} bench (${mode}) on ${machineLine(machine)}`);
const features = await dispatchFeatures();
const support: PathSupport = { features, folder: features.folder || "this dispatch has no --dir (bun src/main.ts --help)" };
if (support.folder !== true) log(`dispatch --dir column skipped: ${support.folder}`);

let rig: Rig | undefined;
const stopRig = async () => {
  await rig?.stop();
  rig = undefined;
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopAll();
    void stopRig().then(() => process.exit(130));
  });
}

try {
  rig = await startRig(tools, files, planAssets(plan));
  log(`1/5 one stream (${plan.single.rounds} rounds)`);
  const single = await singleStream(rig, support, plan.single, log);
  log(`2/5 ${plan.multi.clients} streams at once (${plan.multi.rounds} rounds)`);
  const multi = await manyStreams(rig, support, plan.multi, log);
  // Downloads the HTTPS storage host served, by client, protocol and cipher: dispatch's HTTPS column did go over TLS.
  const tlsStorageDownloads = rig.tlsDownloads();
  log(`HTTPS storage host served ${Object.entries(tlsStorageDownloads).map(([how, n]) => `${n} × ${how}`).join(", ") || "nothing"}`);
  log(`3/5 memory: 1 and ${plan.slow.clients} clients at ${plan.slow.rate}B/s`);
  const slowOne = await slowClients(rig, "slow-", plan.slow.file, 1, plan.slow.rate, 30);
  const slowMany = await slowClients(rig, "slow-", plan.slow.file, plan.slow.clients, plan.slow.rate, 31);
  log(`4/5 memory against asset size: ${plan.growth.small.size / MiB} MiB and ${plan.growth.big.size / MiB} MiB at ${plan.growth.rate}B/s`);
  const growthSmall = await slowClients(rig, "growsmall-", plan.growth.small, 1, plan.growth.rate, 32);
  const growthBig = await slowClients(rig, "growbig-", plan.growth.big, 1, plan.growth.rate, 33);
  log(`5/5 HEAD latency: ${plan.head.requests} requests with ${plan.head.downloads} downloads running, then with them at ${plan.headPaced.rate}B/s each`);
  const head = await headUnderLoad(rig, plan.head, log);
  const headPaced = await headUnderLoad(rig, plan.headPaced, log);

  const results: BenchResults = { single, multi, slowOne, slowMany, growthSmall, growthBig, head, headPaced };
  const failures = [single, multi, slowOne, slowMany, growthSmall, growthBig].flatMap((r) => r.failures);
  console.log(table(results, machine));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ dispatch: version, mode, date: new Date().toISOString(), machine, plan, results, tlsStorageDownloads, checks: checks(results), failures }, null, 2)}\n`,
  );
  log(`figures written to ${out}`);
  if (failures.length > 0) {
    log(`incomplete downloads:\n  ${failures.join("\n  ")}`);
    process.exitCode = 1;
  }
} finally {
  await stopRig();
}
