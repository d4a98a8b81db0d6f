import type { FiledIssue, Time, Timeouts } from "./job.ts";
import type { PowerState } from "./lab.ts";
import type { Report } from "./report.ts";

/** A job's report issue, or (`--file-failures`) the issue about its failure. */
export type IssueKind = "report" | "failure";

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
      /** The failure was GitHub's (upstream cut, 404/403, unreachable), not the server's: the job goes back to the queue. */
      readonly upstream?: boolean;
      /**
       * The workload itself is gone (its file removed, or replaced by another build since it was
       * queued): no retry can deliver it, so the job fails with `error` as the reason.
       */
      readonly gone?: boolean;
    }
  /** `beacon boot` */
  | { readonly type: "booted"; readonly at: Time; readonly ip: string }
  /** `beacon report`, already validated. */
  | { readonly type: "reported"; readonly at: Time; readonly ip: string; readonly report: Report }
  /**
   * `for` says which issue: a late report can arrive while the failure's own issue is being
   * filed, and that issue must not finish the job. (Older journals leave it out: the job's state
   * then says which.)
   */
  | { readonly type: "issue-filed"; readonly at: Time; readonly name: string; readonly issue: FiledIssue; readonly for?: IssueKind }
  /** A second report (see `ExtraReport`) was filed as a comment on its job's issue. */
  | { readonly type: "extra-filed"; readonly at: Time; readonly name: string; readonly index: number; readonly issue: FiledIssue }
  | { readonly type: "extra-failed"; readonly at: Time; readonly name: string; readonly index: number; readonly error: string; readonly permanent?: boolean }
  /** `permanent`: GitHub refuses until its settings or the token change (no rate limit, no outage). */
  | { readonly type: "filing-failed"; readonly at: Time; readonly name: string; readonly error: string; readonly permanent?: boolean; readonly for?: IssueKind }
  /**
   * dispatch started again on a journal. Downloads in flight died with the old process, so
   * their jobs are free again; `timeouts` are this run's (they may differ from the last run's).
   */
  | { readonly type: "restarted"; readonly at: Time; readonly timeouts: Timeouts }
  /** The power edge carried out a lab server's decision (`id`): what its BMC answered. */
  | {
      readonly type: "power-done";
      readonly at: Time;
      readonly server: string;
      readonly id: number;
      readonly ok: boolean;
      readonly error?: string;
      readonly power?: PowerState;
      /** How long the BMC (or command) took, for /metrics. */
      readonly ms?: number;
    }
  /** A lab server given by MAC asked from this address (the neighbour table said so). */
  | { readonly type: "server-address"; readonly at: Time; readonly server: string; readonly ip: string }
  /** A lab server's BMC, asked between decisions, says its power changed. */
  | { readonly type: "power-observed"; readonly at: Time; readonly server: string; readonly power: PowerState }
  /**
   * A lab server's serial console showed its firmware's own HTTP-boot error (no NBP file, no
   * DHCP answer, Secure Boot's "Access Denied"): the line, for its row in the views.
   */
  | { readonly type: "console-error"; readonly at: Time; readonly server: string; readonly line: string }
  /** The clock moved; timeouts are judged against it. */
  | { readonly type: "tick"; readonly at: Time };

export type EventType = DispatchEvent["type"];
