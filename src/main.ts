#!/usr/bin/env bun
import { defineCommand, runCommand } from "citty";
import { stripVTControlCharacters } from "node:util";
import { runProcess } from "./app/process.ts";
import { startDispatch } from "./app/run.ts";
import { args, examples } from "./cli/args.ts";
import { renderHelp } from "./cli/help.ts";
import { resolveConfig } from "./cli/config.ts";
import { detectRuntime } from "./runtime/detect.ts";
import { type Output, chooseOutput } from "./ui/output.ts";
import { plainOutput } from "./ui/plain-output.ts";
import { version } from "./version.ts";

const meta = {
  name: "dispatch",
  version,
  description: "Serve a GitHub release's workloads to bare-metal servers over UEFI HTTP boot, and file their results as issues.",
};

const command = defineCommand({
  meta,
  args,
  async run({ args: parsed, rawArgs }) {
    const runtime = await detectRuntime();
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

const rawArgs = process.argv.slice(2);
const runtime = await detectRuntime();
// citty colours its messages unless NO_COLOR/CI is set; a pipe or a file gets plain text.
const plain = (text: string) => (runtime.isTerminal() ? text : stripVTControlCharacters(text));

if (rawArgs.some((arg) => arg === "--help" || arg === "-h")) {
  console.log(renderHelp(meta, args, examples));
} else if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
  console.log(version);
} else {
  try {
    await runCommand(command, { rawArgs });
  } catch (error) {
    // What citty refuses (a missing required flag, a value not among the choices) is a usage error.
    if ((error as Error).name !== "CLIError") throw error;
    console.error(plain(`dispatch: ${(error as Error).message}\nRun \`dispatch --help\` for the options and examples.`));
    runtime.exit(2);
  }
}
