import { type ArgsDef, type CommandDef, runCommand } from "citty";
import { stripVTControlCharacters } from "node:util";
import { unknownOption } from "./unknown-options.ts";

export type RunMainOptions = {
  readonly rawArgs: readonly string[];
  readonly version: string;
  readonly showUsage: (command: CommandDef<any>) => Promise<void>;
  readonly exit: (code: number) => never | void;
  /** citty colours its messages; anything but a terminal gets them plain. */
  readonly isTerminal: boolean;
};

/**
 * citty's `runMain`, except that a command line citty refuses (a value not among the choices,
 * an option the command does not know) is a usage error with exit status 2, as the earlier
 * dispatch had it and scripts check for; citty itself exits 1, which is also what a run that
 * failed uses.
 */
export async function runMain(command: CommandDef<any>, options: RunMainOptions): Promise<void> {
  const { rawArgs } = options;
  if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
    await options.showUsage(command);
    return void options.exit(0);
  }
  if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) return void console.log(options.version);
  const unknown = command.args ? unknownOption(rawArgs, command.args as ArgsDef) : undefined;
  if (unknown !== undefined) {
    console.error(`dispatch: ${unknown}; dispatch --help lists every option.`);
    return void options.exit(2);
  }
  try {
    await runCommand(command, { rawArgs: [...rawArgs] });
  } catch (error) {
    // citty's own argument errors (its CLIError is not exported; it names itself).
    if ((error as Error).name !== "CLIError") throw error;
    await options.showUsage(command);
    const text = `dispatch: ${(error as Error).message}`;
    console.error(options.isTerminal ? text : stripVTControlCharacters(text));
    options.exit(2);
  }
}
