import type { LogFields } from "../core/log.ts";
import type { Output } from "./output.ts";

/**
 * One JSON object per line, for log collectors: `time`, `level`, `message`, and the job's
 * facts (`job`, `state`, `ip`, `reason`, `issue`, `error`) where a line is about a job.
 */
export function jsonOutput(write: (line: string) => void = console.log, now: () => number = Date.now): Output {
  const line = (level: "info" | "warn", message: string, fields?: LogFields) =>
    write(JSON.stringify({ time: new Date(now()).toISOString(), level, message, ...fields }));
  return {
    info: (message, fields) => line("info", message, fields),
    warn: (message, fields) => line("warn", message, fields),
  };
}
