import { type LogFormat, logFormats } from "../ui/output.ts";

/** `--log-format`: undefined (live view on a terminal, else plain), `plain` or `json`. */
export function parseLogFormat(value: string | undefined): LogFormat | undefined {
  if (value === undefined) return undefined;
  const format = value.trim().toLowerCase();
  if ((logFormats as readonly string[]).includes(format)) return format as LogFormat;
  throw new Error(`--log-format "${value}" is not one of: ${logFormats.join(", ")}`);
}
