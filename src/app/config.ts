import type { BindAddress } from "../cli/bind.ts";
import type { Timeouts } from "../core/job.ts";

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
  /** --mdns-interface: announce on these instead of the interfaces that serve the bind address. */
  readonly mdnsInterfaces?: readonly string[];
  readonly timeouts: Timeouts;
};

/** Where log lines go. `info` is the normal stream; `warn` marks something the user should look at. */
export type Output = { info(line: string): void; warn(line: string): void };
