import type { Context } from "hono";
import { lateWhen } from "../core/issue.ts";
import type { Store } from "../core/store.ts";
import { type AppEnv, clientIp } from "./client-ip.ts";
import { type OpenSpool, SpoolError, closeAfter, readLimits, readReport } from "./report-reader.ts";

export type BeaconDeps = {
  readonly store: Store;
  readonly now: () => number;
  /**
   * Resolves once the events so far are on the disk. Beacon answers wait for it: a `beacon
   * boot` or report we said yes to must survive a crash. (Boot-path answers need not: a restart
   * frees in-flight downloads anyway.)
   */
  readonly durable: () => Promise<void>;
  /** Where a long report body is streamed while it arrives. */
  readonly reportTexts: OpenSpool;
  /** Larger report bodies are refused (413). */
  readonly maxReportBytes: number;
};

/**
 * 417 is beacon's "not mine": it tries every dispatch it can find, and treats 417 as a sign to
 * try the next one. Any other error it reports as an error.
 */
function notMine(c: Context<AppEnv>, reason: string): Response {
  return c.text(`not this dispatch's job: ${reason}\n`, 417);
}

/** POST: `beacon boot`, the workload is running. */
export function bootBeacon(deps: BeaconDeps) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const ip = clientIp(c);
    const { outcome } = deps.store.dispatch({ type: "booted", at: deps.now(), ip });
    if (outcome.kind === "not-mine") return notMine(c, outcome.reason);
    if (outcome.kind !== "booted") throw new Error(`beacon boot: unexpected outcome ${outcome.kind}`);
    const job = outcome.job;
    const unsaved = await saved(deps);
    if (unsaved) return c.text(`dispatch could not record the boot of ${job.name}: ${unsaved}; send it again\n`, 503);
    return c.text(`booting ${job.name}\n`, 200);
  };
}

/**
 * PUT: `beacon report`, the workload's results. beacon never sends a report twice unless it got
 * no answer, and gives up on anything but 200 (or 417): whatever it can send is taken. Only what
 * cannot be a report (not JSON, no string title) is refused, with 400.
 */
export function reportBeacon(deps: BeaconDeps) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const ip = clientIp(c);
    const arrived = deps.now();
    let read;
    try {
      read = await readReport(c.req.raw.body, () => deps.reportTexts(arrived, ip), { ...readLimits, maxBytes: deps.maxReportBytes });
    } catch (error) {
      if (!(error instanceof SpoolError)) throw error;
      return c.text(`dispatch could not keep the report's text in its state folder (${error.message}); send it again\n`, 503, closeAfter);
    }
    if (!read.ok) return c.text(`${read.message}\n`, read.status, closeAfter);

    const { outcome } = deps.store.dispatch({ type: "reported", at: deps.now(), ip, report: read.report });
    // Only a newly taken report keeps its file: one sent again is already kept.
    if (outcome.kind !== "report-accepted" || outcome.repeat) await read.discard();
    if (outcome.kind === "not-mine") return notMine(c, outcome.reason);
    if (outcome.kind !== "report-accepted") throw new Error(`beacon report: unexpected outcome ${outcome.kind}`);
    const job = outcome.job;
    const name = job.name;
    const unsaved = await saved(deps);
    if (unsaved) return c.text(`dispatch has the report for ${name} but could not save it to disk (${unsaved}); send it again\n`, 503);
    const late = job.phase.state === "reported" && job.phase.late ? ` (${lateWhen(job.phase.late)}: filed all the same)` : "";
    if (outcome.extra) return c.text(`a second report for ${name} accepted: it is added to that job's issue\n`, 200);
    return c.text(`report for ${name} accepted${late}\n`, 200);
  };
}

/** Waits for the journal; the reason it failed, or undefined once the events are on the disk. */
async function saved(deps: BeaconDeps): Promise<string | undefined> {
  try {
    await deps.durable();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
