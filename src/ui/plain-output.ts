import type { Output } from "./output.ts";

/** Log lines for pipes, services and CI: a timestamp, then the message; no terminal codes. */
export function plainOutput(write: (line: string) => void = console.log): Output {
  const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    info: (line) => write(`${stamp()} ${line}`),
    warn: (line) => write(`${stamp()} ⚠️  ${line}`),
  };
}
