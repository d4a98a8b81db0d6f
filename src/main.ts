#!/usr/bin/env bun
import { defineCommand } from "citty";
import { runProcess } from "./app/process.ts";
import { startDispatch } from "./app/run.ts";
import { args, examples } from "./cli/args.ts";
import { renderHelp } from "./cli/help.ts";
import { resolveConfig } from "./cli/config.ts";
import { runMain } from "./cli/run-main.ts";
import { detectRuntime } from "./runtime/detect.ts";
import { chooseOutput } from "./ui/choose-output.ts";
import type { Output } from "./ui/output.ts";
import { plainOutput } from "./ui/plain-output.ts";
import { version } from "./version.ts";

const meta = {
  name: "dispatch",
  version,
  description: "Serve a GitHub release's (or a folder's) workloads to bare-metal servers over UEFI HTTP boot, and file their results as issues (or files).",
};

const command = defineCommand({
  meta,
  args,
  async run({ args: parsed, rawArgs }) {
    let out: Output = plainOutput();
    await runProcess(
      async (quit) => {
        out = chooseOutput(parsed["log-format"], runtime, quit);
        return startDispatch(await resolveConfig(parsed, runtime, rawArgs), runtime, out);
      },
      { runtime, out: () => out, exitWhenDone: parsed["exit-when-done"] },
    );
  },
});

const runtime = await detectRuntime();
await runMain(command, {
  rawArgs: process.argv.slice(2),
  version,
  exit: (code) => runtime.exit(code),
  isTerminal: runtime.isTerminal(),
  showUsage: async () => console.log(renderHelp(meta, args, examples)),
});
