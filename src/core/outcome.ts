import type { Job } from "./job.ts";

/**
 * What the reducer decided about an event, for the edge that sent it: the HTTP answer follows
 * from this, never from a second look at the state.
 */
export type Outcome =
  /** HEAD/GET: this address holds `job` now (a new one, or the same again on a retry). */
  | { readonly kind: "serve"; readonly job: Job }
  /** HEAD/GET: nothing is left for this address; it gets poweroff.efi. */
  | { readonly kind: "poweroff" }
  /** `beacon boot` was taken: `job` is booting; `repeat` when it already was (beacon sent it again). */
  | { readonly kind: "booted"; readonly job: Job; readonly repeat?: true }
  /**
   * `beacon report` was taken for `job`; `repeat` when it is the same report sent again (its
   * answer was lost); `extra` when it is a second, different one (filed as a comment).
   */
  | { readonly kind: "report-accepted"; readonly job: Job; readonly repeat: boolean; readonly extra?: true }
  /** `beacon boot`/`report` from an address with nothing here to boot or report: beacon's 417, and why. */
  | { readonly kind: "not-mine"; readonly reason: string }
  /** Events whose sender needs no answer (progress, ticks, filing results, restarts). */
  | { readonly kind: "noted" };
