#!/usr/bin/env bun
import { defineCommand, renderUsage } from "citty";
import { stripVTControlCharacters } from "node:util";
import { type Running, startDispatch } from "./app/start.ts";
import { args, examples, missingHints } from "./cli/args.ts";
import { UsageError, resolveConfig } from "./cli/config.ts";
import { runMain } from "./cli/run-main.ts";
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
        void run.settled.then(async ({ finished, failed, unfiled }) => {
          if (stopping) return;
          stopping = true;
          out.info(`done: ${finished} finished, ${failed} failed${unfiled.length ? `, ${unfiled.length} not filed` : ""}`);
          for (const reason of new Set(unfiled.map((job) => job.reason))) out.warn(`not filed: ${reason}`);
          for (const job of unfiled) out.warn(`  ${job.name}: its text is in ${job.keptAt}`);
          if (unfiled.length) out.warn(`the reports are kept in ${run.stateDir}; the next start with the same state folder files them`);
          await run.stop();
          runtime.exit(failed > 0 || unfiled.length > 0 ? 1 : 0);
        });
      }
    } catch (error) {
      console.error(`dispatch: ${(error as Error).message}`);
      // A usage error, or a setup GitHub refuses (no issues, a read-only token, a wrong --api-url): 2.
      runtime.exit(error instanceof UsageError ? 2 : ((error as { exitCode?: number }).exitCode ?? 1));
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

await runMain(command, {
  rawArgs: process.argv.slice(2),
  version,
  exit: (code) => process.exit(code),
  hints: missingHints,
  showUsage: async (cmd) => {
    const usage = `${await renderUsage(cmd)}\n\n${examples}\n`;
    // citty colours its help unless NO_COLOR/CI is set; a pipe or a file gets plain text.
    console.log((await detectRuntime()).isTerminal() ? usage : stripVTControlCharacters(usage));
  },
});
