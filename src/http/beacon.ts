import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Store } from "../core/store.ts";
import { type AppEnv, clientIp } from "./client-ip.ts";
import { maxReportBytes, parseReport } from "./report-schema.ts";

export type BeaconDeps = {
  readonly store: Store;
  readonly now: () => number;
  /**
   * Resolves once the events so far are on the disk. Beacon answers wait for it: a `beacon
   * boot` or report we said yes to must survive a crash. (Boot-path answers need not: a restart
   * frees in-flight downloads anyway.)
   */
  readonly durable: () => Promise<void>;
};

/**
 * 417 is beacon's "not mine": it tries every dispatch it can find, and treats 417 as a sign to
 * try the next one. Any other error it reports as an error.
 */
function notMine(c: Context<AppEnv>, ip: string, what: string): Response {
  return c.text(`${ip} has no ${what} workload here\n`, 417);
}

/** POST: `beacon boot`, the workload is running. */
export function bootBeacon(deps: BeaconDeps) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const ip = clientIp(c);
    const { outcome } = deps.store.dispatch({ type: "booted", at: deps.now(), ip });
    if (outcome.kind !== "booted") return notMine(c, ip, "downloaded");
    const job = outcome.job;
    const unsaved = await saved(deps);
    if (unsaved) return c.text(`dispatch could not record the boot of ${job.workload.name}: ${unsaved}; send it again\n`, 503);
    return c.text(`booting ${job.workload.name}\n`, 200);
  };
}

/** PUT's size limit, ahead of parsing. */
export const reportLimit = bodyLimit({
  maxSize: maxReportBytes,
  onError: (c) => c.text(`report too large: the limit is ${maxReportBytes} bytes\n`, 413),
});

/** PUT: `beacon report`, the workload's results. */
export function reportBeacon(deps: BeaconDeps) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const ip = clientIp(c);
    let json: unknown;
    try {
      json = JSON.parse(await c.req.text());
    } catch (error) {
      return c.text(`report is not valid JSON: ${(error as Error).message}\n`, 400);
    }
    const parsed = parseReport(json);
    if (!parsed.ok) return c.text(`report rejected: ${parsed.message}\n`, 400);

    const { outcome } = deps.store.dispatch({ type: "reported", at: deps.now(), ip, report: parsed.report });
    if (outcome.kind !== "report-accepted") return notMine(c, ip, "booted");
    const name = outcome.job.workload.name;
    const unsaved = await saved(deps);
    if (unsaved) return c.text(`dispatch has the report for ${name} but could not save it to disk (${unsaved}); send it again\n`, 503);
    return c.text(`report for ${name} accepted\n`, 200);
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
