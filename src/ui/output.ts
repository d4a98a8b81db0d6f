import type { Log } from "../core/log.ts";
import type { StatusSource } from "../status/source.ts";

/** Where a run's log lines go, and (on a terminal) the live view of its queue. */
export type Output = Log & {
  /** Shows the running queue live (the terminal view); returns how to stop showing it. */
  follow?(status: StatusSource): () => void;
};

export const logFormats = ["plain", "json"] as const;
export type LogFormat = (typeof logFormats)[number];
