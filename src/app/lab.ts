import type { CheckedServer, LabRules } from "../core/lab.ts";
import { defaultLabRules } from "../core/lab.ts";
import type { Log } from "../core/log.ts";
import type { PlacementServer, Rule } from "../core/placement.ts";
import type { Store } from "../core/store.ts";
import { type Neighbour, addressOf, macOf, readNeighbours } from "../lab/neighbours.ts";
import { splitCommand } from "../lab/command-line.ts";
import type { LabServer } from "../lab/types.ts";
import type { ConsoleSpec } from "../console/capture.ts";
import { solCommands } from "../console/sol.ts";
import { createDriver } from "../power/create.ts";
import type { PowerDriver } from "../power/driver.ts";
import type { Runtime } from "../runtime/types.ts";
import type { DispatchConfig } from "./config.ts";
import { UsageError } from "./errors.ts";

/** A lab server dispatch controls: what the check found, its driver, and where it boots from. */
export type ControlledServer = {
  readonly checked: CheckedServer;
  readonly driver: PowerDriver;
  /** The lab file's `url`, when it gave one; else the run's first boot URL. */
  readonly url?: string;
  /** How its boot target will be set, in words (the start table). */
  readonly bootTarget: string;
  /** Its serial console (`console = "…"`), when the lab file names one. */
  readonly console?: ConsoleSpec;
};

export type OpenedLab = {
  readonly file: string;
  readonly rules: LabRules;
  /** The servers under dispatch's power control; none when the file gives no server a power kind. */
  readonly servers: readonly ControlledServer[];
  /** Which server runs what: the file's `[[rule]]`s, and every server of the file with its tags. */
  readonly placement: { readonly rules: readonly Rule[]; readonly servers: readonly PlacementServer[] };
};

/** A BMC that says nothing for this long is left out: the run must not wait on it. */
const checkTimeoutMs = 60_000;

/**
 * Phase 1b of a run with `--lab`: reads the lab file, finds each server's address, and asks each
 * BMC for its power state and what it supports, all at once. A server whose BMC cannot be reached
 * or refuses the credentials is left out with one line saying why; none left is a usage error.
 */
export async function openLab(config: DispatchConfig, runtime: Runtime, log: Log): Promise<OpenedLab | undefined> {
  if (config.lab === undefined) return undefined;
  // The TOML reader is loaded only by a run with a lab file.
  const { LabError, readLab } = await import("../lab/read.ts");
  let lab;
  try {
    lab = await readLab(config.lab, { env: runtime.env, readText: (path) => runtime.files.readText(path) });
  } catch (error) {
    if (error instanceof LabError) throw new UsageError(`the lab file has problems:\n  ${error.problems.join("\n  ")}`);
    throw error;
  }
  for (const warning of lab.warnings) log.warn(warning);
  const powered = lab.servers.filter((s) => s.power !== undefined);
  // Rules name servers; a server known by its MAC alone is found by its address when it asks.
  const table = lab.servers.some((s) => s.ip === undefined && (s.power !== undefined || lab.rules.length > 0)) ? await readNeighbours(runtime) : [];
  const placement = {
    rules: lab.rules,
    servers: lab.servers.map((s) => {
      const ip = s.ip ?? (s.mac ? addressOf(s.mac, table) : undefined);
      return { name: s.name, ...(ip !== undefined && { ip }), tags: s.tags };
    }),
  };

  const results = await Promise.all(
    powered.map(async (server): Promise<ControlledServer | string> => {
      // A server that is off has no neighbour entry yet: its address is learned when it first asks.
      const ip = server.ip ?? (server.mac ? (addressOf(server.mac, table) ?? "") : "");
      if (ip === "") log.info(`  ${server.name}: MAC ${server.mac} is not in the neighbour table yet; its address is learned when it first asks`);
      const driver = createDriver(server, { runtime, log: (line) => log.info(`  ${server.name}: ${line}`) })!;
      try {
        const check = await withTimeout(driver.check(), checkTimeoutMs, `no answer within ${checkTimeoutMs / 1000} s`);
        for (const note of check.notes) log.info(`  ${server.name}: ${note}`);
        return {
          checked: { name: server.name, ip, ...(server.mac && { mac: server.mac }), power: check.power, once: check.once ?? false },
          driver,
          ...(server.url !== undefined && { url: server.url }),
          bootTarget: check.bootTarget,
          ...(server.console !== undefined && { console: consoleSpec(server, ip) }),
        };
      } catch (error) {
        await driver.close().catch(() => {});
        return `${server.name} left out: its BMC (${driver.bmc}) ${(error as Error).message}`;
      }
    }),
  );
  const servers = results.filter((r): r is ControlledServer => typeof r !== "string");
  for (const line of results.filter((r): r is string => typeof r === "string")) log.warn(line);
  if (powered.length === 0) {
    log.info(`lab ${lab.file}: no server under power control; ${lab.rules.length} rule${lab.rules.length === 1 ? "" : "s"} for which server runs what`);
    return { file: lab.file, rules: { ...defaultLabRules }, servers: [], placement };
  }
  if (servers.length === 0) {
    throw new UsageError(`no server of ${lab.file} can be controlled (see above): fix the BMC addresses or credentials, or start without --lab`);
  }
  log.info(`lab ${lab.file}: ${servers.length} of ${powered.length} servers under dispatch's control`);
  printTable(log, servers, lab.servers);
  return {
    file: lab.file,
    rules: {
      ...defaultLabRules,
      powerOnSpacingMs: lab.powerOnSpacingMs,
      quarantineAfter: lab.quarantineAfter,
      ...(config.bootTimeoutMs !== undefined && { bootTimeoutMs: config.bootTimeoutMs }),
      ...(config.retries !== undefined && { retries: config.retries }),
      ...(config.poweroffGraceMs !== undefined && { poweroffGraceMs: config.poweroffGraceMs }),
    },
    servers,
    placement,
  };
}

/** The start table: server, BMC, power state, how its boot target will be set. */
function printTable(log: Log, servers: readonly ControlledServer[], all: readonly LabServer[]): void {
  const rows = [["server", "address", "BMC", "power", "boot target"], ...servers.map((s) => [s.checked.name, s.checked.ip, s.driver.bmc, s.checked.power, s.bootTarget])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) log.info(`  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")}`);
  const unpowered = all.filter((s) => s.power === undefined).map((s) => s.name);
  if (unpowered.length) log.info(`  without power control (served as any server): ${unpowered.join(", ")}`);
  // A console is captured per job of a server dispatch controls; without power it is not followed.
  for (const s of all) if (s.power === undefined && s.console !== undefined) log.warn(`${s.name}: console is not captured: it has no power control (give it power = …)`);
}

/** The command that reads a server's console; `sol` is built from its IPMI settings. */
function consoleSpec(server: LabServer, ip: string): ConsoleSpec {
  if (server.console === "sol" && server.power?.kind === "ipmi") {
    const sol = solCommands(server.power);
    return { server: server.name, ip, command: sol.activate, before: sol.deactivate, env: sol.env };
  }
  return { server: server.name, ip, command: splitCommand(server.console!) };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}

/**
 * For the boot route: before a request from an address no lab server has is decided, the MAC
 * behind it (the neighbour table) may name a server given by `mac = …` that has not asked yet.
 * Costs one neighbour-table read per request from an unknown address, only while such a server waits.
 */
export function addressLearner(store: Store, neighbours: () => Promise<readonly Neighbour[]>, now: () => number): (ip: string) => Promise<void> {
  return async (ip) => {
    const servers = store.state.lab?.servers ?? [];
    const waiting = servers.filter((s) => s.mac !== undefined && s.ip === "");
    if (waiting.length === 0 || servers.some((s) => s.ip === ip)) return;
    const mac = macOf(ip, await neighbours());
    const server = mac && waiting.find((s) => s.mac === mac);
    if (server) store.dispatch({ type: "server-address", at: now(), server: server.name, ip });
  };
}
