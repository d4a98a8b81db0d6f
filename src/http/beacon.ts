import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { canReport, heldBy } from "../core/selectors.ts";
import type { Store } from "../core/store.ts";
import { type AppEnv, clientIp } from "./client-ip.ts";
import { maxReportBytes, parseReport } from "./report-schema.ts";

export type BeaconDeps = { readonly store: Store; readonly now: () => number };

/**
 * 417 is beacon's "not mine": it tries every dispatch it can find, and treats 417 as a sign to
 * try the next one. Any other error it reports as an error.
 */
function notMine(c: Context<AppEnv>, ip: string, what: string): Response {
  return c.text(`${ip} has no ${what} workload here\n`, 417);
}

/** POST: `beacon boot`, the workload is running. */
export function bootBeacon(deps: BeaconDeps) {
  return (c: Context<AppEnv>): Response => {
    const ip = clientIp(c);
    const job = heldBy(deps.store.dispatch({ type: "booted", at: deps.now(), ip }), ip);
    if (job?.phase.state !== "booting") return notMine(c, ip, "downloaded");
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

    const job = heldBy(deps.store.state, ip);
    if (!canReport(job)) return notMine(c, ip, "booted");
    deps.store.dispatch({ type: "reported", at: deps.now(), ip, report: parsed.report });
    return c.text(`report for ${job!.workload.name} accepted\n`, 200);
  };
}
