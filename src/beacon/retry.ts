import { formatDuration } from "../core/duration.ts";
import type { Candidate, Found } from "./candidate.ts";
import { type BeaconRequest, type Outcome, sendOnce } from "./send.ts";

/** One way of finding dispatch; they are asked in order, and a later one only when no earlier URL took the request. */
export type Source = () => Promise<Found>;

export type Log = {
  /** `-v`: which URLs were found where, and how each answered. */
  readonly verbose: (line: string) => void;
  /** Always shown: a round in which nothing took the request. */
  readonly warn: (line: string) => void;
};

export type DeliverOptions = {
  readonly request: BeaconRequest;
  readonly sources: readonly Source[];
  readonly retryForMs: number;
  readonly log: Log;
  /** Longest wait for one answer. */
  readonly attemptTimeoutMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
};

export type Delivery = { readonly ok: true; readonly url: string; readonly from: string } | { readonly ok: false; readonly message: string };

/** Waits between rounds: 1 s, 2 s, 4 s, 8 s, then every 15 s; a restarted dispatch is found within seconds of coming back. */
export function backoffMs(round: number): number {
  return Math.min(15_000, 1000 * 2 ** round);
}

/** An answer that did not end the delivery. */
type Miss = Exclude<Outcome, { kind: "accepted" }>;

const describe = (tried: readonly (readonly [Candidate, Miss])[]) =>
  tried.map(([c, o]) => `${c.url} (${c.from}): ${o.kind === "not-mine" ? `${o.detail}, not this machine's job` : o.detail}`).join("; ");

/**
 * Sends the request to each URL the sources find, in order, until one answers 200. A 417 moves
 * on to the next URL. When a round ends without a 200 it starts again after a pause, finding
 * dispatch anew (it may have restarted, or come back elsewhere), until `retryForMs` is spent:
 * dispatch answers a repeated `boot` or identical report with 200 again and files it once, so
 * sending again is always safe. Any answer but 200 and 417 is retried the same way, a refusal
 * (4xx) included: a dispatch being restarted or upgraded, or a proxy in front of it, may
 * answer otherwise next time, and the warning line says what it answered meanwhile.
 */
export async function deliver(options: DeliverOptions): Promise<Delivery> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 60_000;
  const { log } = options;
  const deadline = now() + options.retryForMs;

  for (let round = 0; ; round++) {
    const tried: [Candidate, Miss][] = [];
    const seen = new Set<string>();
    for (const source of options.sources) {
      const found = await source();
      for (const note of found.notes) log.verbose(note);
      for (const candidate of found.candidates) {
        if (seen.has(candidate.url)) continue;
        seen.add(candidate.url);
        log.verbose(`${options.request.method} ${candidate.url} (from ${candidate.from})`);
        const outcome = await sendOnce(candidate.url, options.request, Math.max(1000, Math.min(attemptTimeoutMs, deadline - now())));
        if (outcome.kind === "accepted") {
          log.verbose(`${candidate.url} answered 200`);
          return { ok: true, url: candidate.url, from: candidate.from };
        }
        log.verbose(`${candidate.url} answered ${outcome.detail}`);
        tried.push([candidate, outcome]);
      }
    }
    const what = tried.length === 0 ? "found no dispatch" : describe(tried);
    const left = deadline - now();
    if (left <= 0) return { ok: false, message: `gave up after ${formatDuration(options.retryForMs)}: ${what}` };
    const wait = Math.min(backoffMs(round), left);
    log.warn(`${what}; trying again in ${formatDuration(wait)} (giving up in ${formatDuration(left)})`);
    await sleep(wait);
  }
}
