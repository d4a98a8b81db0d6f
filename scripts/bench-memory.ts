#!/usr/bin/env bun
/**
 * dispatch's peak memory with slow clients on the GitHub path, alone: the memory rows of
 * `bun run bench` (1 client, then `--clients` at once, each held to `--rate` by curl), without
 * the rest of the run. For trying a change to the download path in a minute or two.
 *
 *   bun scripts/bench-memory.ts [--size-mib 1024] [--clients 32] [--rate 20M] [--rounds 1]
 */
import { parseArgs } from "node:util";
import { stopAll } from "./bench/children.ts";
import { startRig } from "./bench/rig.ts";
import { slowClients } from "./bench/scenarios.ts";
import { ensureTools } from "./bench/tools.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    "size-mib": { type: "string", default: "1024" },
    clients: { type: "string", default: "32" },
    rate: { type: "string", default: "20M" },
    rounds: { type: "string", default: "1" },
  },
});
const file = { name: `${values["size-mib"]}m.bin`, size: Number(values["size-mib"]) * 2 ** 20 };
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const log = (line: string) => console.error(line);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

const assets = Array.from({ length: clients + 1 }, (_, i) => ({ name: `slow-${String(i).padStart(3, "0")}`, file }));
const rig = await startRig(await ensureTools(log), [file], assets);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => (stopAll(), void rig.stop().then(() => process.exit(130))));
try {
  for (let round = 1; round <= rounds; round++) {
    const one = await slowClients(rig, "slow-", file, 1, values.rate, 30);
    const many = await slowClients(rig, "slow-", file, clients, values.rate, 31);
    for (const r of [one, many]) {
      log(`round ${round}: ${r.clients} client(s) at ${r.rate}B/s, ${mib(r.bytesEach)} each: idle ${mib(r.idle)}, peak ${mib(r.peak)} (${r.seconds.toFixed(0)} s)`);
      if (r.failures.length > 0) {
        log(`  failures: ${r.failures.join("; ")}`);
        process.exitCode = 1;
      }
    }
  }
} finally {
  await rig.stop();
}
