import type { BindAddress } from "../cli/bind.ts";
import type { Timeouts } from "../core/job.ts";
import type { StatusSource } from "../ui/status-source.ts";

/** Everything a run needs, resolved from the command line and environment. */
export type DispatchConfig = {
  readonly owner: string;
  readonly repo: string;
  readonly tag: string;
  readonly filters: readonly string[];
  readonly token: string;
  readonly apiUrl: string;
  readonly bind: BindAddress;
  readonly path: string;
  readonly mdns: boolean;
  readonly timeouts: Timeouts;
};

/**
 * Where log lines go. `info` is the normal stream; `warn` marks something the user should look
 * at. `fields` are the facts behind a line, for structured logs.
 */
export type Output = {
  info(line: string, fields?: LogFields): void;
  warn(line: string, fields?: LogFields): void;
  /** Shows the running queue live (the terminal view); returns how to stop showing it. */
  follow?(status: StatusSource): () => void;
};

export type LogFields = Readonly<Record<string, string>>;
