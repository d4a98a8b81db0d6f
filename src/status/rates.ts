import type { Time } from "../core/job.ts";
import type { Store } from "../core/store.ts";

/** Total bytes sent for a download, at a moment. */
export type Sample = { readonly at: Time; readonly bytes: number };

/** How far back a rate looks: long enough to smooth 250 ms batches, short enough to follow a stall. */
export const rateWindowMs = 3000;

/**
 * Bytes per second from a download's samples (oldest first), as of `now`: from the last
 * sample at or before the window's start to the newest one. Measured up to `now` rather than
 * the newest sample, so a stalled download decays towards zero instead of showing its last
 * speed for ever. Undefined until two samples span some time.
 */
export function rateFrom(samples: readonly Sample[], now: Time, windowMs = rateWindowMs): number | undefined {
  const last = samples.at(-1);
  if (!last || samples.length < 2) return undefined;
  let base = samples[0]!;
  for (const s of samples) {
    if (s.at > now - windowMs) break;
    base = s;
  }
  if (base === last) return 0; // nothing new within the window
  const elapsed = Math.max(now, last.at) - base.at;
  return elapsed > 0 ? ((last.bytes - base.bytes) * 1000) / elapsed : undefined;
}

export type RateTracker = {
  rate(name: string, now: Time): number | undefined;
  stop(): void;
};

/**
 * Follows `download-progressed` events to measure each download's speed. Kept at the edge:
 * a speed is a measurement for people, not a fact the queue decides anything on.
 */
export function trackRates(store: Store, windowMs = rateWindowMs): RateTracker {
  const samples = new Map<string, Sample[]>();
  const unsubscribe = store.subscribe(({ event, before, after }) => {
    if (before === after) return;
    if (event.type === "download-progressed") {
      const i = after.jobs.findIndex((job) => job.name === event.name);
      const now = after.jobs[i];
      if (now?.phase.state !== "downloading") return;
      let list = samples.get(event.name);
      if (!list) {
        // The first batch of a download: its baseline is the last thing known before it.
        const then = before.jobs[i]!;
        list = [{ at: then.seen ?? event.at, bytes: then.phase.state === "downloading" ? then.phase.bytes : 0 }];
        samples.set(event.name, list);
      }
      list.push({ at: event.at, bytes: now.phase.bytes });
      // Keep one sample older than the window as the baseline, drop the rest.
      while (list.length > 2 && list[1]!.at <= event.at - windowMs) list.shift();
      return;
    }
    // A job that left downloading (or went back to the queue) starts afresh next time.
    for (const name of samples.keys()) {
      const job = after.jobs.find((j) => j.name === name);
      if (job?.phase.state !== "downloading") samples.delete(name);
    }
  });
  return {
    rate: (name, now) => {
      const list = samples.get(name);
      return list ? rateFrom(list, now, windowMs) : undefined;
    },
    stop: unsubscribe,
  };
}
