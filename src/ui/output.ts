import type { Log } from "../core/log.ts";
import type { Runtime } from "../runtime/types.ts";
import { jsonOutput } from "./json-output.ts";
import { plainOutput } from "./plain-output.ts";
import type { StatusSource } from "../status/source.ts";
import { ttyOutput } from "./tty/tty-output.ts";

/** Where a run's log lines go, and (on a terminal) the live view of its queue. */
export type Output = Log & {
  /** Shows the running queue live (the terminal view); returns how to stop showing it. */
  follow?(status: StatusSource): () => void;
};

export const logFormats = ["plain", "json"] as const;
export type LogFormat = (typeof logFormats)[number];

/**
 * The live view when stdout is a terminal and no log format was asked for; otherwise log lines,
 * which never carry a terminal escape sequence.
 */
export function chooseOutput(format: LogFormat | undefined, runtime: Runtime, onQuit: () => void): Output {
  if (format === "json") return jsonOutput();
  if (format === "plain" || !runtime.isTerminal()) return plainOutput();
  return ttyOutput(runtime.terminal(), onQuit);
}
