import type { Timeouts } from "../core/job.ts";
import type { FilingClientOptions } from "../github/client.ts";
import type { ServeLimits } from "../runtime/types.ts";

export type BindAddress = { readonly hostname: string; readonly port: number };

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
  /** The state folder (journal, full report texts); unset: one per repository and release under the user's state directory. */
  readonly stateDir?: string;
  /** Start over instead of resuming the journal (which is kept aside). */
  readonly fresh?: boolean;
  /** File an issue for each failed job too. */
  readonly fileFailures?: boolean;
  /** Not for the command line: tests shorten GitHub's write spacing and the server's client limits. */
  readonly github?: FilingClientOptions;
  readonly limits?: Partial<ServeLimits>;
  /** Not for the command line: the wait before filing retry number `attempt` when GitHub names no time. */
  readonly retryDelayMs?: (attempt: number) => number;
  /** Not for the command line: the same after GitHub refused for good (default: up to every 10 minutes). */
  readonly refusedDelayMs?: (attempt: number) => number;
};
