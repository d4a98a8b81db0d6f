import type { DispatchState } from "../core/job.ts";
import type { Server } from "../core/lab.ts";
import { heldBy } from "../core/selectors.ts";

/** One lab server as the JSON API, the event stream, the page and the terminal show it. */
export type ServerView = {
  name: string;
  ip: string;
  power: Server["power"];
  stage: Server["stage"];
  health: "ok" | "quarantined";
  /** Why it was taken out. */
  reason: string | null;
  /** The job it holds now. */
  job: string | null;
  /** The decision being carried out, and why. */
  pending: { action: string; reason: string } | null;
  last: { action: string; ok: boolean; error: string | null; at: string } | null;
  /** Failures to come up in a row. */
  strikes: number;
  /** The firmware's own boot error its console showed while it was expected to ask. */
  consoleError: string | null;
  /** The last line its console showed (lab servers with `console = "…"`), and when. */
  console: { line: string; at: string } | null;
};

/** The last line a server's console showed, from the console edge. */
export type ConsoleLast = (server: string) => { readonly line: string; readonly at: number } | undefined;

export function serverViews(state: DispatchState, consoleLast?: ConsoleLast): ServerView[] | undefined {
  return state.lab?.servers.map((s) => ({
    name: s.name,
    ip: s.ip,
    power: s.power,
    stage: s.stage,
    health: s.health.state,
    reason: s.health.state === "quarantined" ? s.health.reason : null,
    job: heldBy(state, s.ip)?.name ?? null,
    pending: s.pending ? { action: s.pending.action, reason: s.pending.reason } : null,
    last: s.last ? { action: s.last.action, ok: s.last.ok, error: s.last.error ?? null, at: new Date(s.last.at).toISOString() } : null,
    strikes: s.strikes,
    consoleError: s.consoleError?.line ?? null,
    console: lastOf(s.name, consoleLast),
  }));
}

function lastOf(name: string, consoleLast: ConsoleLast | undefined): ServerView["console"] {
  const last = consoleLast?.(name);
  return last ? { line: last.line, at: new Date(last.at).toISOString() } : null;
}
