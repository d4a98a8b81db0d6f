import { formatDuration } from "./duration.ts";
import type { DispatchState, Time } from "./job.ts";
import type { LabState, PowerAction, PowerState, Server } from "./lab.ts";

/**
 * The lab's rules: what to do with each server, decided from events and time alone. Each
 * decision becomes the server's `pending` intent; the power edge carries it out and answers with
 * `power-done`. Nothing here does I/O.
 */

export function serverByIp(state: DispatchState, ip: string): Server | undefined {
  return state.lab?.servers.find((s) => s.ip === ip);
}

export const isQuarantined = (server: Server | undefined): boolean => server?.health.state === "quarantined";

export function updateServer(state: DispatchState, name: string, change: (server: Server) => Server): DispatchState {
  const lab = state.lab;
  if (!lab) return state;
  let changed = false;
  const servers = lab.servers.map((s) => {
    if (s.name !== name) return s;
    const next = change(s);
    changed ||= next !== s;
    return next;
  });
  return changed ? { ...state, lab: { ...lab, servers } } : state;
}

/** Decides `action` for the server, unless it already waits on one. */
function intend(lab: LabState, server: Server, action: PowerAction, reason: string, at: Time): { lab: LabState; server: Server } {
  if (server.pending) return { lab, server };
  const id = lab.intentCount + 1;
  const powersOn = action === "on" || action === "cycle";
  return {
    lab: { ...lab, intentCount: id, ...(powersOn && { lastPowerOnAt: at }) },
    server: { ...server, pending: { id, action, reason, at } },
  };
}

/** Replaces one server and the lab's counters in one go. */
function withServer(state: DispatchState, lab: LabState, server: Server): DispatchState {
  return { ...state, lab: { ...lab, servers: lab.servers.map((s) => (s.name === server.name ? server : s)) } };
}

/** The server asked for a workload: it is up. `served` false: it got poweroff.efi. */
export function bootRequestSeen(state: DispatchState, ip: string, served: boolean, at: Time): DispatchState {
  const server = serverByIp(state, ip);
  if (!server) return state;
  return updateServer(state, server.name, (s) => {
    const { awaitingBootSince: _, consoleError: __, ...rest } = s;
    const up: Server = { ...rest, strikes: 0, askedAt: at };
    return served ? up : { ...up, poweroffAt: s.poweroffAt ?? at };
  });
}

/**
 * The server's console showed a firmware boot error. Taken only while the server is expected to
 * ask (powered on or cycled, no boot request since): once it asks, a workload's own "Error:" lines
 * say nothing about why a server never asked.
 */
export function consoleErrorSeen(state: DispatchState, name: string, line: string, at: Time): DispatchState {
  return updateServer(state, name, (s) => (s.awaitingBootSince === undefined || s.consoleError?.line === line ? s : { ...s, consoleError: { line, at } }));
}

/** `beacon boot` from a lab server whose boot override lasts one boot: arm it again. */
export function bootedSeen(state: DispatchState, ip: string, at: Time): DispatchState {
  const server = serverByIp(state, ip);
  if (!state.lab || !server?.once || isQuarantined(server)) return state;
  const { lab, server: next } = intend(state.lab, server, "rearm", "armed again for the reboot after its report", at);
  return withServer(state, lab, next);
}

/**
 * A job timed out on the server (download stalled, never booted, no report in time): it hung.
 * Another strike; cycled, or taken out once it has failed `quarantineAfter` times in a row.
 */
export function hungSeen(state: DispatchState, ip: string, reason: string, at: Time): DispatchState {
  const server = serverByIp(state, ip);
  if (!server || !state.lab || isQuarantined(server)) return state;
  return strike(state, server, reason, at);
}

function strike(state: DispatchState, server: Server, reason: string, at: Time): DispatchState {
  const lab = state.lab!;
  const strikes = server.strikes + 1;
  const { awaitingBootSince: _, ...rest } = server;
  if (strikes >= lab.rules.quarantineAfter) {
    return quarantine(state, { ...rest, strikes }, `failed to come up ${strikes} times in a row (last: ${reason})`, at);
  }
  const { lab: next, server: decided } = intend(lab, { ...rest, strikes }, "cycle", reason, at);
  return withServer(state, next, decided);
}

/** Takes the server out for the rest of the run, switched off when its BMC still answers. */
function quarantine(state: DispatchState, server: Server, reason: string, at: Time): DispatchState {
  const lab = state.lab!;
  const out: Server = { ...server, health: { state: "quarantined", reason, at } };
  // A server out because its BMC refuses cannot be switched off by it: nothing more to do.
  if (server.refusals >= lab.rules.refusalLimit) return withServer(state, lab, { ...out, stage: "restored" });
  const { pending: _, ...free } = out;
  const { lab: next, server: decided } = intend(lab, free, "off", `taken out: ${reason}`, at);
  return withServer(state, next, decided);
}

/**
 * dispatch started again: its boot URL may have changed (another port, another address), so
 * every server still in the run is pointed at it again (safe to repeat).
 */
export function repointAll(state: DispatchState, at: Time): DispatchState {
  let next = state;
  for (const { name } of state.lab?.servers ?? []) {
    const lab = next.lab!;
    const server = lab.servers.find((s) => s.name === name)!;
    if (server.pending || isQuarantined(server) || (server.stage !== "pointed" && server.stage !== "running")) continue;
    const made = intend(lab, server, "point", "dispatch started again: its boot URL set again", at);
    next = withServer(next, made.lab, made.server);
  }
  return next;
}

/** What the BMC said about a decision carried out. */
export function powerDone(state: DispatchState, name: string, id: number, ok: boolean, error: string | undefined, power: PowerState | undefined, at: Time): DispatchState {
  const lab = state.lab;
  const server = lab?.servers.find((s) => s.name === name);
  if (!lab || !server?.pending || server.pending.id !== id) return state;
  const { pending, ...rest } = server;
  const last = { id, action: pending.action, ok, ...(error !== undefined && { error }), at };
  if (!ok) {
    const refusals = server.refusals + 1;
    const failed: Server = { ...rest, refusals, last };
    if (refusals >= lab.rules.refusalLimit && !isQuarantined(server)) {
      return quarantine(state, failed, `its BMC refused ${refusals} time${refusals === 1 ? "" : "s"} in a row (last: ${error ?? "no reason given"})`, at);
    }
    // Given up on for good: a quarantined server's BMC that keeps refusing.
    if (refusals >= lab.rules.refusalLimit) return withServer(state, lab, { ...failed, stage: "restored" });
    return withServer(state, lab, failed);
  }
  const done: Server = { ...rest, refusals: 0, last, ...(power !== undefined && { power }) };
  switch (pending.action) {
    case "point":
      // Pointed again after a restart, a running server stays running.
      return withServer(state, lab, { ...done, stage: server.stage === "new" ? "pointed" : server.stage });
    case "on":
    case "cycle": {
      const { poweroffAt: _, awaitingBootSince: __, ...up } = done;
      // It may have asked already, while its BMC was still answering: then it is up.
      const asked = server.askedAt !== undefined && server.askedAt >= pending.at;
      return withServer(state, lab, { ...up, power: "on", stage: "running", ...(!asked && { awaitingBootSince: pending.at }) });
    }
    case "off": {
      const { awaitingBootSince: _, poweroffAt: __, ...down } = done;
      return withServer(state, lab, { ...down, power: "off", stage: "off" });
    }
    case "rearm":
      return withServer(state, lab, done);
    case "restore":
      return withServer(state, lab, { ...done, stage: "restored" });
    default:
      return pending.action satisfies never;
  }
}

/** The BMC's word on the server's power, read between decisions (a server that switched itself off). */
export function powerObserved(state: DispatchState, name: string, power: PowerState): DispatchState {
  return updateServer(state, name, (s) => {
    if (s.power === power) return s;
    // poweroff.efi did its work: the server is off by its own hand.
    if (power === "off" && s.stage === "running" && s.poweroffAt !== undefined && !s.pending) {
      const { poweroffAt: _, awaitingBootSince: __, ...down } = s;
      return { ...down, power, stage: "off" };
    }
    return { ...s, power };
  });
}

/**
 * Decisions that follow from time and the state as a whole, made after every event:
 * point each server, power them on spaced out, cycle one that never asked, force off one that
 * ignored poweroff.efi, power one on again when work is left and none runs, and switch off and
 * restore every server once the run is done.
 */
export function decide(state: DispatchState, now: Time, runDone: boolean, wanted: (server: Server) => boolean): DispatchState {
  if (!state.lab) return state;
  const rules = state.lab.rules;
  let next = state;
  for (const { name } of state.lab.servers) {
    // Each decision changes the lab (its counters, this server): always read the latest.
    const lab = next.lab!;
    const server = lab.servers.find((s) => s.name === name)!;
    if (server.pending) continue;
    // A failed call is tried again after a pause that grows with each refusal.
    if (server.last && !server.last.ok && now - server.last.at < retryPauseMs(server.refusals)) continue;
    const decided = (action: PowerAction, reason: string) => {
      const made = intend(lab, server, action, reason, now);
      next = withServer(next, made.lab, made.server);
    };
    if (server.health.state === "quarantined") {
      if (server.stage === "off") decided("restore", "taken out: its boot settings put back");
      continue;
    }
    if (runDone) {
      // One handed poweroff.efi switches itself off: it gets its grace, as during the run.
      const switchingItselfOff = server.stage === "running" && server.poweroffAt !== undefined && now - server.poweroffAt < rules.poweroffGraceMs;
      if (server.stage === "off") decided("restore", "the run is over: its boot settings put back");
      else if (server.stage !== "restored" && !switchingItselfOff) decided("off", "the run is over");
      continue;
    }
    switch (server.stage) {
      case "new":
        decided("point", "the run starts");
        break;
      case "pointed":
        if (lab.lastPowerOnAt === undefined || now - lab.lastPowerOnAt >= rules.powerOnSpacingMs) {
          decided(server.power === "on" ? "cycle" : "on", server.power === "on" ? "the run starts; it was already on" : "the run starts");
        }
        break;
      case "running":
        if (server.awaitingBootSince !== undefined && now - server.awaitingBootSince >= rules.bootTimeoutMs) {
          next = strike(next, server, `no boot request within ${formatDuration(rules.bootTimeoutMs)} of power-on`, now);
        } else if (server.poweroffAt !== undefined && now - server.poweroffAt >= rules.poweroffGraceMs && server.power !== "off") {
          decided("off", `still on ${formatDuration(rules.poweroffGraceMs)} after poweroff.efi: forced off`);
        }
        break;
      case "off":
        // Work came back (a job to retry) that no running server may take: this one can.
        if (wanted(server)) decided("on", "a job waits that no running server may take");
        break;
      case "restored":
        break;
      default:
        return server.stage satisfies never;
    }
  }
  return next;
}

/** 5 s, 10 s, 20 s … at most a minute between tries of a refused BMC call. */
const retryPauseMs = (refusals: number) => Math.min(60_000, 5_000 * 2 ** Math.max(0, refusals - 1));

/** Every lab server is done with: switched off and restored, or given up on. */
export function labSettled(state: DispatchState): boolean {
  return !state.lab || state.lab.servers.every((s) => s.stage === "restored");
}

/** Every lab server is out: nothing can run what is left. */
export function noServerLeft(state: DispatchState): boolean {
  return !!state.lab && state.lab.servers.length > 0 && state.lab.servers.every(isQuarantined);
}
