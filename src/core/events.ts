import type { FiledIssue, Time } from "./job.ts";
import type { Report } from "./report.ts";

/**
 * Everything that can happen to the queue. Edges turn the world into these; the reducer is
 * the only place that decides what they mean.
 */
export type DispatchEvent =
  /** A server asked for its workload: HEAD (download=false) or GET (download=true). */
  | { readonly type: "boot-requested"; readonly at: Time; readonly ip: string; readonly download: boolean }
  /** Bytes went out to a server for a job. */
  | { readonly type: "download-progressed"; readonly at: Time; readonly ip: string; readonly name: string; readonly bytes: number }
  /** One download response ended: `sent` bytes from offset `start` reached the server before it finished, was cut, or failed upstream. */
  | {
      readonly type: "download-ended";
      readonly at: Time;
      readonly ip: string;
      readonly name: string;
      readonly start: number;
      readonly sent: number;
      readonly error?: string;
    }
  /** `beacon boot` */
  | { readonly type: "booted"; readonly at: Time; readonly ip: string }
  /** `beacon report`, already validated. */
  | { readonly type: "reported"; readonly at: Time; readonly ip: string; readonly report: Report }
  | { readonly type: "issue-filed"; readonly at: Time; readonly name: string; readonly issue: FiledIssue }
  | { readonly type: "filing-failed"; readonly at: Time; readonly name: string; readonly error: string }
  /** The clock moved; timeouts are judged against it. */
  | { readonly type: "tick"; readonly at: Time };

export type EventType = DispatchEvent["type"];
