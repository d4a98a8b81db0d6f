import type { Time } from "./time.ts";

/**
 * The lab (`--lab`): servers whose power dispatch controls. The reducer decides what to do with
 * them (point them at dispatch, power on, cycle, take out, switch off, restore); the power edge
 * carries each decision out and reports what the BMC answered.
 */

/** A server's power, by its BMC's word. */
export type PowerState = "on" | "off" | "unknown";

export type PowerAction =
  /** Make the server HTTP-boot from dispatch. */
  | "point"
  | "on"
  /** Off then on: a hung server, or one found already on. */
  | "cycle"
  | "off"
  /** Arm a once-only boot override again, after `beacon boot`. */
  | "rearm"
  /** Put back the boot settings found before `point`. */
  | "restore";

/** A decision not yet carried out. One at a time per server, numbered across the lab. */
export type PowerIntent = { readonly id: number; readonly action: PowerAction; readonly reason: string; readonly at: Time };

export type PowerResult = {
  readonly id: number;
  readonly action: PowerAction;
  readonly ok: boolean;
  readonly error?: string;
  /** Why it counts as done without an answer (dispatch stopped while it was being done). */
  readonly assumed?: string;
  readonly at: Time;
};

/**
 * Where a server is in the run:
 * - new: not yet pointed at dispatch;
 * - pointed: its boot target is set, waiting for its turn to power on;
 * - running: powered on by dispatch, working through the queue;
 * - off: switched off (handed poweroff.efi, forced off, or taken out);
 * - restored: off, with its boot settings put back: nothing more to do.
 */
export type ServerStage = "new" | "pointed" | "running" | "off" | "restored";

export type Health = { readonly state: "ok" } | { readonly state: "quarantined"; readonly reason: string; readonly at: Time };

export type Server = {
  readonly name: string;
  /** The address it boots from; "" while a server given by MAC has not asked yet. */
  readonly ip: string;
  /** Given by `mac = …`: its address is learned when it first asks. */
  readonly mac?: string;
  readonly power: PowerState;
  /** Its boot override lasts one boot: armed again after each `beacon boot`. */
  readonly once: boolean;
  readonly stage: ServerStage;
  readonly health: Health;
  /** Times in a row it failed to come up (no boot request in time, a job timed out on it). */
  readonly strikes: number;
  /** BMC calls failed in a row. */
  readonly refusals: number;
  readonly pending?: PowerIntent;
  readonly last?: PowerResult;
  /** Powered on or cycled at this time and has not asked for a workload since. */
  readonly awaitingBootSince?: Time;
  /** Its last boot request: a server can ask before its BMC has even answered the power-on. */
  readonly askedAt?: Time;
  /** Handed poweroff.efi at this time: its BMC must say off within the grace, else it is forced. */
  readonly poweroffAt?: Time;
  /** The firmware's own boot error its console showed while it was expected to ask (cleared when it asks). */
  readonly consoleError?: { readonly line: string; readonly at: Time };
};

/** The lab's rules, from the lab file and the command line. */
export type LabRules = {
  /** Between two power-ons: real racks trip breakers when every server starts at once. */
  readonly powerOnSpacingMs: number;
  /** Failures to come up in a row before a server is taken out. */
  readonly quarantineAfter: number;
  /** A server powered on or cycled must ask for a workload within this. */
  readonly bootTimeoutMs: number;
  /** More attempts a job failed without a report of its own gets, on another server if there is one. */
  readonly retries: number;
  /** A server handed poweroff.efi must be off within this, by its BMC's word. */
  readonly poweroffGraceMs: number;
  /** BMC calls failed in a row before the server is taken out. */
  readonly refusalLimit: number;
};

export type LabState = {
  readonly servers: readonly Server[];
  readonly rules: LabRules;
  /** When the last power-on (or cycle) was decided, for the spacing. */
  readonly lastPowerOnAt?: Time;
  /** Intents decided so far (numbers the next one). */
  readonly intentCount: number;
};

/** What the start-of-run check found about one server, for the initial state. */
export type CheckedServer = { readonly name: string; readonly ip: string; readonly mac?: string; readonly power: PowerState; readonly once: boolean };

export const defaultLabRules: LabRules = {
  powerOnSpacingMs: 5_000,
  quarantineAfter: 2,
  bootTimeoutMs: 600_000,
  retries: 1,
  poweroffGraceMs: 120_000,
  refusalLimit: 3,
};

export function initialLab(servers: readonly CheckedServer[], rules: LabRules): LabState {
  return {
    servers: servers.map((s) => ({ ...s, stage: "new", health: { state: "ok" }, strikes: 0, refusals: 0 })),
    rules,
    intentCount: 0,
  };
}
