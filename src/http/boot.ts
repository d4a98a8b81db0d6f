import type { Context } from "hono";
import type { Log } from "../core/log.ts";
import type { Store } from "../core/store.ts";
import type { Workload } from "../core/workload.ts";
import { serveBytes } from "./bytes.ts";
import { type AppEnv, clientIp } from "./client-ip.ts";
import { meter } from "./meter.ts";
import { contentRange, parseRange, rangeNotSatisfiable } from "./range.ts";

export type BootDeps = {
  readonly store: Store;
  readonly now: () => number;
  /**
   * Opens the workload's bytes at its source (GitHub, a file), forwarding a validated single
   * range; 410 means the workload is gone for good and its job fails with the answer's text.
   */
  readonly openAsset: (workload: Workload, range: string | undefined, signal: AbortSignal) => Promise<Response>;
  readonly poweroff: Uint8Array<ArrayBuffer>;
  readonly log: Log;
  /** Before deciding: learn which lab server an unknown address is (servers given by MAC). */
  readonly identify?: (ip: string) => Promise<void>;
};

const progressEveryMs = 250;

/**
 * HEAD and GET on the boot path: the firmware asks what it will get, then gets it. The store
 * decides which job this address holds; with none left, the answer is poweroff.efi.
 */
export function bootHandler(deps: BootDeps) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    const ip = clientIp(c);
    const method = c.req.method;
    const download = method === "GET";
    await deps.identify?.(ip);
    const { outcome } = deps.store.dispatch({ type: "boot-requested", at: deps.now(), ip, download });
    if (outcome.kind !== "serve") {
      if (download) deps.log.info(`🔌 ${ip} gets poweroff.efi: nothing left in the queue for it`);
      return serveBytes(deps.poweroff, "application/efi", method, c.req.header("range"));
    }

    const job = outcome.job;
    const { size, bootType } = job.workload;
    const name = job.name;
    const headers = new Headers({ "content-type": bootType, "accept-ranges": "bytes" });
    if (!download) {
      // Answered from the release metadata: no round trip to GitHub before the firmware allocates.
      headers.set("content-length", String(size));
      return new Response(null, { status: 200, headers });
    }

    const range = parseRange(c.req.header("range"), size);
    if (range.kind === "unsatisfiable") {
      deps.store.dispatch({ type: "download-ended", at: deps.now(), ip, name, start: 0, sent: 0, error: range.why });
      return rangeNotSatisfiable(range.why, size);
    }
    const wanted = range.kind === "partial" ? range : { start: 0, end: size - 1 };
    const forward = range.kind === "partial" ? `bytes=${range.start}-${range.end}` : undefined;

    const fail = (why: string): Response => {
      deps.log.warn(`download of ${name} for ${ip} failed: ${why}`);
      deps.store.dispatch({ type: "download-ended", at: deps.now(), ip, name, start: wanted.start, sent: 0, error: why, upstream: true });
      return c.text(`dispatch could not fetch ${name} from GitHub: ${why}\n`, 502);
    };

    let upstream: Response;
    try {
      upstream = await deps.openAsset(job.workload, forward, c.req.raw.signal);
    } catch (error) {
      return fail((error as Error).message);
    }
    if (upstream.status === 410) {
      // The source says this build is gone for good (a file removed or rebuilt): the job fails, no retry.
      const why = (await upstream.text()).trim() || `${name} is gone`;
      deps.log.warn(`download of ${name} for ${ip} refused: ${why}`);
      deps.store.dispatch({ type: "download-ended", at: deps.now(), ip, name, start: wanted.start, sent: 0, error: why, upstream: true, gone: true });
      return c.text(`dispatch cannot serve ${name}: ${why}\n`, 410);
    }
    if (upstream.status !== 200 && upstream.status !== 206) {
      await upstream.body?.cancel();
      return fail(`GitHub answered ${upstream.status} ${upstream.statusText}`.trim());
    }
    if (!upstream.body) return fail("GitHub answered without a body");

    // A storage host may ignore Range and send everything: then so do we, as a 200.
    const partial = upstream.status === 206;
    const span = partial ? wanted : { start: 0, end: size - 1 };
    const length = span.end - span.start + 1;
    headers.set("content-length", String(length));
    if (partial) headers.set("content-range", contentRange(span, size));

    const body = meter(upstream.body, {
      now: deps.now,
      everyMs: progressEveryMs,
      progress: (bytes) => deps.store.dispatch({ type: "download-progressed", at: deps.now(), ip, name, bytes }),
      end: (sent, error, upstream) => {
        if (error) deps.log.warn(`download of ${name} for ${ip} ended after ${sent} of ${length} bytes: ${error}`);
        deps.store.dispatch({ type: "download-ended", at: deps.now(), ip, name, start: span.start, sent, ...(error !== undefined && { error, upstream: upstream ?? false }) });
      },
    });
    return new Response(body, { status: upstream.status, headers });
  };
}
