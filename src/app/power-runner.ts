import type { PowerAction, PowerState } from "../core/lab.ts";
import type { Log } from "../core/log.ts";
import type { Store } from "../core/store.ts";
import type { PowerDriver } from "../power/driver.ts";
import type { ControlledServer } from "./lab.ts";

export type PowerRunner = {
  /** Stops carrying out decisions (servers stay as they are: a restart resumes watching them). */
  stop(): void;
};

export type PowerRunnerDeps = {
  readonly store: Store;
  readonly servers: readonly ControlledServer[];
  /** The boot URL for a server the lab file gives none. */
  readonly bootUrl: string;
  readonly now: () => number;
  readonly log: Log;
  /**
   * Resolves once the events so far are on the disk. A decision is carried out only once it is
   * in the journal: a restart then knows it may have been done, and never does it twice.
   */
  readonly durable: () => Promise<void>;
  /** How often a server handed poweroff.efi is asked whether it is off (default 5 s). */
  readonly pollMs?: number;
};

/**
 * The power edge: carries out each lab server's pending decision through its driver, one at a
 * time per server, and answers with `power-done`; asks the BMC of a server handed poweroff.efi
 * whether it is off yet (`power-observed`). It decides nothing.
 */
export function startPowerRunner(deps: PowerRunnerDeps): PowerRunner {
  const { store, now } = deps;
  const byName = new Map(deps.servers.map((s) => [s.checked.name, s]));
  const inFlight = new Set<number>();
  let stopped = false;

  const carryOut = async (driver: PowerDriver, action: PowerAction, url: string): Promise<PowerState | undefined> => {
    switch (action) {
      case "point":
        deps.log.info(`  ${driver.bmc}: ${await driver.pointAt(url)}`);
        return undefined;
      case "on":
        await driver.on();
        return "on";
      case "cycle":
        await driver.cycle();
        return "on";
      case "off":
        await driver.off();
        return "off";
      case "rearm":
        await driver.rearm(url);
        return undefined;
      case "restore":
        await driver.restore();
        return undefined;
      default:
        return action satisfies never;
    }
  };

  const scan = () => {
    if (stopped) return;
    for (const server of store.state.lab?.servers ?? []) {
      const pending = server.pending;
      const controlled = byName.get(server.name);
      if (!pending || !controlled || inFlight.has(pending.id)) continue;
      inFlight.add(pending.id);
      const started = performance.now();
      const took = () => Math.round(performance.now() - started);
      void deps
        .durable()
        .then(() => carryOut(controlled.driver, pending.action, controlled.url ?? deps.bootUrl))
        .then(
        (power) => answer(server.name, pending.id, true, undefined, power, took()),
        (error: unknown) => answer(server.name, pending.id, false, (error as Error).message, undefined, took()),
      );
    }
  };

  const answer = (server: string, id: number, ok: boolean, error: string | undefined, power: PowerState | undefined, ms: number) => {
    inFlight.delete(id);
    if (stopped) return;
    store.dispatch({ type: "power-done", at: now(), server, id, ok, ...(error !== undefined && { error }), ...(power && { power }), ms });
  };

  /** poweroff.efi switches a server off by itself; its BMC tells when. */
  const asking = new Set<string>();
  const poll = () => {
    for (const server of store.state.lab?.servers ?? []) {
      const controlled = byName.get(server.name);
      if (!controlled || server.poweroffAt === undefined || server.stage !== "running" || server.pending || asking.has(server.name)) continue;
      asking.add(server.name);
      void controlled.driver
        .powerState()
        .then((power) => {
          if (!stopped && power !== server.power) store.dispatch({ type: "power-observed", at: now(), server: server.name, power });
        })
        .catch(() => {}) // the grace then forces it off, with the BMC's answer in that action
        .finally(() => asking.delete(server.name));
    }
  };

  const unsubscribe = store.subscribe(({ before, after }) => {
    if (before.lab !== after.lab) scan();
  });
  const poller = setInterval(poll, deps.pollMs ?? 5_000);
  scan();
  return {
    stop() {
      stopped = true;
      unsubscribe();
      clearInterval(poller);
    },
  };
}
