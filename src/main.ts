#!/usr/bin/env bun
import { defineCommand } from "citty";
import { stripVTControlCharacters } from "node:util";
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
// `dispatch beacon …` is the workload's side. It is dispatched before citty sees the arguments:
// the server's flags and positional filters would otherwise swallow the word.
if (process.argv[2] === "beacon") {
  const { renderUsage, runMain: runCitty } = await import("citty");
  const { beaconCommand, beaconUnknownOption } = await import("./beacon/command.ts");
  const unknown = beaconUnknownOption(process.argv.slice(3));
  if (unknown !== undefined) {
    console.error(`dispatch beacon: ${unknown}`);
    runtime.exit(2);
  }
  // citty colours its help unless NO_COLOR/CI is set; a pipe or a file gets plain text.
  const plain = (text: string) => (runtime.isTerminal() ? text : stripVTControlCharacters(text));
  await runCitty(beaconCommand, { rawArgs: process.argv.slice(3), showUsage: async (cmd, parent) => console.log(plain(await renderUsage(cmd, parent))) });
} else if (process.argv[2] === "demo") {
  // `dispatch demo`: the whole loop on this machine, nothing to configure (its own few flags).
  const { demoCommand } = await import("./demo/command.ts");
  await runMain(demoCommand(runtime), {
    rawArgs: process.argv.slice(3),
    version,
    exit: (code) => runtime.exit(code),
    isTerminal: runtime.isTerminal(),
    showUsage: async (cmd) => {
      const { renderUsage } = await import("citty");
      const usage = await renderUsage(cmd);
      console.log(runtime.isTerminal() ? usage : stripVTControlCharacters(usage));
    },
  });
} else {
  await runMain(command, {
    rawArgs: process.argv.slice(2),
    version,
    exit: (code) => runtime.exit(code),
    isTerminal: runtime.isTerminal(),
    showUsage: async () => console.log(renderHelp(meta, args, examples)),
  });
}
