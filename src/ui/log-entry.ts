import type { JobState } from "../core/job.ts";

/** A log line with the facts behind it, for log collectors (`--log-format json`). */
export type LogEntry = {
  readonly message: string;
  readonly fields: {
    /** Unset for a line about a server rather than a job (a refused beacon call, a power action). */
    readonly job?: string;
    /** The lab server's name, for a power action. */
    readonly server?: string;
    readonly state?: JobState;
    readonly ip?: string;
    readonly reason?: string;
    readonly error?: string;
    readonly issue?: string;
  };
};
