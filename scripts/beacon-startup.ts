#!/usr/bin/env bun
// What `dispatch beacon` costs a workload to run: exec → exit of `dispatch beacon boot --url …`
// against a loopback server that answers 200 at once, for the compiled binary, `bun src/main.ts`
// and Deno, interleaved (one of each per round) so machine noise hits all alike. `dispatch
// --version` is the floor: starting the runtime and loading the bundle, no request.
//   bun scripts/beacon-startup.ts [--runs N]      (builds dist/dispatch first if it is missing)
import { existsSync } from "node:fs";
import { binary, deno, ensureBinary, env, printTimes, root, runsFromArgs } from "./startup-rig.ts";

const runs = runsFromArgs(21);
await ensureBinary();

const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("booting\n") });
const url = `http://127.0.0.1:${server.port}/dispatch`;
const ways: { name: string; command: string[] }[] = [
  { name: "bun src/main.ts beacon boot", command: [process.execPath, "src/main.ts", "beacon", "boot", "--url", url] },
  { name: "dist/dispatch beacon boot", command: [binary, "beacon", "boot", "--url", url] },
  { name: "dist/dispatch --version", command: [binary, "--version"] },
];
if (existsSync(deno)) ways.push({ name: "deno run -A src/main.ts beacon boot", command: [deno, "run", "-A", "src/main.ts", "beacon", "boot", "--url", url] });

const times = new Map(ways.map((w) => [w.name, [] as number[]]));
try {
  // One untimed run each: the first fills the OS page cache and Deno's code cache.
  for (let round = -1; round < runs; round++) {
    for (const way of ways) {
      const started = performance.now();
      const child = Bun.spawn(way.command, { cwd: root, env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
      const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
      const ms = performance.now() - started;
      if (code !== 0) throw new Error(`${way.name} exited ${code}: ${stderr}`);
      if (round >= 0) times.get(way.name)!.push(ms);
    }
  }
} finally {
  server.stop(true);
}

printTimes("exec → exit", ways.map((w) => w.name), times);
