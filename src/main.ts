#!/usr/bin/env bun
import { defineCommand, renderUsage, runMain } from "citty";
import { startDispatch } from "./app/start.ts";
import { args, examples } from "./cli/args.ts";
import { UsageError, resolveConfig } from "./cli/config.ts";
import { detectRuntime } from "./runtime/detect.ts";
import { plainOutput } from "./ui/plain-output.ts";
import { version } from "./version.ts";

const command = defineCommand({
  meta: {
    name: "dispatch",
    version,
    description: "Serve a GitHub release's workloads to bare-metal servers over UEFI HTTP boot, and file their results as issues.",
  },
  args,
  async run({ args: parsed }) {
    const runtime = await detectRuntime();
    const out = plainOutput();
    try {
      const config = await resolveConfig(parsed, runtime);
      const running = await startDispatch(config, runtime, out);
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        out.info("stopping");
        await running.stop();
        runtime.exit(0);
      };
      runtime.onSignal("SIGINT", stop);
      runtime.onSignal("SIGTERM", stop);
      if (parsed["exit-when-done"]) {
        void running.settled.then(async ({ finished, failed }) => {
          if (stopping) return;
          stopping = true;
          out.info(`done: ${finished} finished, ${failed} failed`);
          await running.stop();
          runtime.exit(failed > 0 ? 1 : 0);
        });
      }
    } catch (error) {
      console.error(`dispatch: ${(error as Error).message}`);
      runtime.exit(error instanceof UsageError ? 2 : 1);
    }
  },
});

await runMain(command, {
  showUsage: async (cmd, parent) => console.log(`${await renderUsage(cmd, parent)}\n\n${examples}\n`),
});
