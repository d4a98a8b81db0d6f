import type { Runtime } from "../runtime/types.ts";

/** What a driver needs besides its lab file entry. */
export type DriverOptions = {
  /** Starts ipmitool and a lab's power commands (argument lists, secrets only by environment). */
  readonly runtime: Pick<Runtime, "run">;
  /** Bound of one BMC call or power command (default 60 s). */
  readonly timeoutMs?: number;
  /** One line per call made, with what the BMC or command said (never a credential). */
  readonly log?: (line: string) => void;
};

export const defaultCallTimeoutMs = 60_000;

/**
 * What a child said, cut to fit a message or a log line: its last lines (errors come last),
 * at most `maxChars`, joined with " | ". Empty when it said nothing.
 */
export function said(text: string, maxChars = 600): string {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  let joined = "";
  for (const line of lines.reverse()) {
    const next = joined ? `${line} | ${joined}` : line;
    if (next.length > maxChars) return joined ? `… | ${joined}` : `…${line.slice(-maxChars)}`;
    joined = next;
  }
  return joined;
}
