/** The facts behind a log line, for structured logs (`--log-format json`). */
export type LogFields = Readonly<Record<string, string>>;

/**
 * The one logger shape every part writes to. `info` is the normal stream; `warn` marks
 * something the user should look at.
 */
export type Log = {
  info(line: string, fields?: LogFields): void;
  warn(line: string, fields?: LogFields): void;
};
