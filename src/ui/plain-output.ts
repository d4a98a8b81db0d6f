import type { Output } from "./output.ts";
import { terminalSafe } from "./terminal-text.ts";

/**
 * Log lines for pipes, services and CI: a timestamp, then the message; no terminal codes, and
 * one line per message whatever it quotes (see `terminalSafe`).
 */
export function plainOutput(write: (line: string) => void = console.log): Output {
  const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    info: (line) => write(`${stamp()} ${terminalSafe(line)}`),
    warn: (line) => write(`${stamp()} ⚠️  ${terminalSafe(line)}`),
  };
}
