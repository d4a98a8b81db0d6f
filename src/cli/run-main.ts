import { type CommandDef, runCommand } from "citty";
import { stripVTControlCharacters } from "node:util";

export type RunMainOptions = {
  readonly rawArgs: readonly string[];
  readonly version: string;
  readonly showUsage: (command: CommandDef<any>) => Promise<void>;
  readonly exit: (code: number) => never | void;
  /** citty colours its messages; anything but a terminal gets them plain. */
  readonly isTerminal: boolean;
  /** What to do about a missing option, by its name ("tag"): printed under citty's message. */
  readonly hints?: Readonly<Record<string, string>>;
};

/**
 * citty's `runMain`, except that a command line citty refuses (a missing `--tag`, say) is a
 * usage error with exit status 2, as the earlier dispatch had it and scripts check for; citty
 * itself exits 1, which is also what a run that failed uses.
 */
export async function runMain(command: CommandDef<any>, options: RunMainOptions): Promise<void> {
  const { rawArgs } = options;
  if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
    await options.showUsage(command);
    return void options.exit(0);
  }
  if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) return void console.log(options.version);
  try {
    await runCommand(command, { rawArgs: [...rawArgs] });
  } catch (error) {
    // citty's own argument errors (its CLIError is not exported; it names itself).
    if ((error as Error).name !== "CLIError") throw error;
    await options.showUsage(command);
    const message = (error as Error).message;
    const missing = /Missing required argument: --([\w-]+)/.exec(message)?.[1];
    const hint = missing === undefined ? undefined : options.hints?.[missing];
    const text = `dispatch: ${message}${hint ? `\n${hint}` : ""}`;
    console.error(options.isTerminal ? text : stripVTControlCharacters(text));
    options.exit(2);
  }
}
