import type { Store } from "../core/store.ts";

export type CounterValues = {
  /** Workload bytes sent to servers (poweroff.efi not included). */
  readonly servedBytes: number;
  /** Download responses that started and have not ended. */
  readonly downloadsInFlight: number;
  readonly reportsReceived: number;
  readonly issuesFiled: number;
  /** Attempts to file an issue that failed (each is retried). */
  readonly filingFailures: number;
  /** `beacon boot` and `beacon report` calls answered 417, by kind. */
  readonly refused: { readonly boot: number; readonly report: number };
  /** Lab power actions carried out, by "ACTION RESULT" ("cycle ok", "on failed"); their BMC time. */
  readonly power: { readonly actions: ReadonlyMap<string, number>; readonly calls: number; readonly seconds: number };
};

export type Counters = { values(): CounterValues; stop(): void };

/**
 * Counts what the store's events say happened, for /metrics. An edge, not the reducer: these
 * are totals for operators, and the queue decides nothing on them.
 */
export function countEvents(store: Store): Counters {
  let servedBytes = 0;
  let started = 0;
  let ended = 0;
  let reportsReceived = 0;
  let issuesFiled = 0;
  let filingFailures = 0;
  const refused = { boot: 0, report: 0 };
  const power = { actions: new Map<string, number>(), calls: 0, seconds: 0 };
  const unsubscribe = store.subscribe(({ event, before, after, outcome }) => {
    switch (event.type) {
      case "boot-requested":
        // A GET that leaves this server holding a job is answered with that job's bytes, and
        // every such answer ends with exactly one download-ended.
        if (event.download && outcome.kind === "serve") started++;
        break;
      case "download-progressed":
        servedBytes += event.bytes;
        break;
      case "download-ended":
        ended++;
        break;
      case "reported":
        if (outcome.kind === "report-accepted" && !outcome.repeat) reportsReceived++;
        if (outcome.kind === "not-mine") refused.report++;
        break;
      case "issue-filed":
      case "extra-filed":
        if (before !== after) issuesFiled++;
        break;
      case "filing-failed":
      case "extra-failed":
        filingFailures++;
        break;
      case "booted":
        if (outcome.kind === "not-mine") refused.boot++;
        break;
      case "power-done": {
        const action = before.lab?.servers.find((server) => server.name === event.server)?.pending;
        if (!action || action.id !== event.id) break;
        const key = `${action.action} ${event.ok ? "ok" : "failed"}`;
        power.actions.set(key, (power.actions.get(key) ?? 0) + 1);
        if (event.ms !== undefined) {
          power.calls++;
          power.seconds += event.ms / 1000;
        }
        break;
      }
      case "power-observed":
      case "console-error":
      case "server-address":
      case "tick":
      case "restarted":
        break;
      default:
        event satisfies never;
    }
  });
  return {
    values: () => ({ servedBytes, downloadsInFlight: Math.max(0, started - ended), reportsReceived, issuesFiled, filingFailures, refused: { ...refused }, power: { actions: new Map(power.actions), calls: power.calls, seconds: power.seconds } }),
    stop: unsubscribe,
  };
}
