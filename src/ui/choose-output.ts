import type { Runtime } from "../runtime/types.ts";
import { jsonOutput } from "./json-output.ts";
import type { LogFormat, Output } from "./output.ts";
import { plainOutput } from "./plain-output.ts";
import { ttyOutput } from "./tty/tty-output.ts";

/**
 * The live view when stdout is a terminal and no log format was asked for; otherwise log lines,
 * which never carry a terminal escape sequence.
 */
export function chooseOutput(format: LogFormat | undefined, runtime: Runtime, onQuit: () => void): Output {
  if (format === "json") return jsonOutput();
  if (format === "plain" || !runtime.isTerminal()) return plainOutput();
  return ttyOutput(runtime.terminal(), onQuit);
}
