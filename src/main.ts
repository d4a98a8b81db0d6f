#!/usr/bin/env bun
import { defineCommand, renderUsage, runMain } from "citty";
import { stripVTControlCharacters } from "node:util";
import { type Running, startDispatch } from "./app/start.ts";
import { args, examples } from "./cli/args.ts";
import { UsageError, resolveConfig } from "./cli/config.ts";
import { detectRuntime } from "./runtime/detect.ts";
import type { Output } from "./app/config.ts";
import { parseLogFormat } from "./cli/log-format.ts";
import { chooseOutput } from "./ui/output.ts";
import { plainOutput } from "./ui/plain-output.ts";
import { version } from "./version.ts";

const command = defineCommand({
  meta: {
    name: "dispatch",
    version,
    description: "Serve a GitHub release's workloads to bare-metal servers over UEFI HTTP boot, and file their results as issues.",
  },
  args,
  async run({ args: parsed, rawArgs }) {
    const runtime = await detectRuntime();
    let out: Output = plainOutput();
    // Handlers go in before anything starts: a signal right after the "listening" line (a
    // supervisor, a quick Ctrl-C) must still stop the run cleanly, not kill it. A signal while
    // starting exits at once: nothing is serving yet.
    let running: Running | undefined;
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      out.info("stopping");
      await running?.stop();
      runtime.exit(0);
    };
    runtime.onSignal("SIGINT", stop);
    runtime.onSignal("SIGTERM", stop);
    try {
      out = chooseOutput(parseLogFormatArg(parsed["log-format"]), runtime, () => void stop());
      const config = await resolveConfig(parsed, runtime, rawArgs);
      running = await startDispatch(config, runtime, out);
      if (parsed["exit-when-done"]) {
        const run = running;
        void run.settled.then(async ({ finished, failed }) => {
          if (stopping) return;
          stopping = true;
          out.info(`done: ${finished} finished, ${failed} failed`);
          await run.stop();
          runtime.exit(failed > 0 ? 1 : 0);
        });
      }
    } catch (error) {
      console.error(`dispatch: ${(error as Error).message}`);
      runtime.exit(error instanceof UsageError ? 2 : 1);
    }
  },
});

function parseLogFormatArg(value: string | undefined) {
  try {
    return parseLogFormat(value);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** citty colours its help unless NO_COLOR/CI is set; a pipe or a file gets plain text. */
const printUsage = async (usage: string) => console.log((await detectRuntime()).isTerminal() ? usage : stripVTControlCharacters(usage));

// `dispatch beacon …` is the workload's side. It is dispatched before citty sees the arguments:
// the server's required flags and positional filters would otherwise swallow the word.
if (process.argv[2] === "beacon") {
  const { beaconCommand } = await import("./beacon/command.ts");
  await runMain(beaconCommand, { rawArgs: process.argv.slice(3), showUsage: async (cmd, parent) => printUsage(await renderUsage(cmd, parent)) });
} else {
  await runMain(command, { showUsage: async (cmd, parent) => printUsage(`${await renderUsage(cmd, parent)}\n\n${examples}\n`) });
}
