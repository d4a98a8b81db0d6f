import { formatDuration } from "../core/duration.ts";
import { splitCommand } from "../lab/command-line.ts";
import type { CommandPower } from "../lab/types.ts";
import { type PowerDriver, PowerError, type PowerState } from "./driver.ts";
import { defaultCallTimeoutMs, type DriverOptions, said } from "./options.ts";

/**
 * Power through the lab's own commands (a PDU, a smart plug, virsh): each template is run as an
 * argument list (no shell, see splitCommand), bounded in time, its exit status checked and what
 * it printed kept for the log and the error. Commands cannot set a boot target: the server
 * boots by its own settings, its boot URL from DHCP.
 */
export function commandDriver(config: CommandPower, options: DriverOptions): PowerDriver {
  const timeoutMs = options.timeoutMs ?? defaultCallTimeoutMs;
  const templates = { on: config.on, off: config.off, cycle: config.cycle, state: config.state };
  // The lab file was checked with the same splitter: these do not throw for a lab that was read.
  const argv = Object.fromEntries(Object.entries(templates).flatMap(([action, t]) => (t === undefined ? [] : [[action, splitCommand(t)]])));

  const run = async (action: keyof typeof templates): Promise<string> => {
    const template = templates[action]!;
    const result = await options.runtime.run(argv[action]!, { timeoutMs });
    if (!result) throw new PowerError(`${action}: "${template}" could not be started: is ${argv[action]![0]} installed and on PATH?`, "unsupported");
    const output = said(`${result.stdout}\n${result.stderr}`);
    const printed = output ? `: ${output}` : "";
    options.log?.(`power ${action}: "${template}" ${result.timedOut ? "timed out" : `exited ${result.code}`}${printed}`);
    if (result.timedOut) throw new PowerError(`${action}: "${template}" did not finish within ${formatDuration(timeoutMs)} and was stopped${printed}`, "timeout");
    if (result.code !== 0) throw new PowerError(`${action}: "${template}" failed (exit status ${result.code})${printed}`, "refused");
    return result.stdout;
  };

  const powerState = async (): Promise<PowerState> => {
    if (templates.state === undefined) return "unknown";
    const output = await run("state");
    const state = stateFromOutput(output);
    if (!state) throw new PowerError(`state: "${templates.state}" printed "${said(output, 200)}", which says neither on nor off (or both): it should print on or off`, "refused");
    return state;
  };

  return {
    kind: "command",
    bmc: `command ${argv.on![0]}`,
    async check() {
      return {
        power: await powerState(),
        bootTarget: "not set (power commands): the server's own boot order, its boot URL from DHCP",
        notes: templates.state === undefined ? ["no state command: dispatch cannot see whether the server is on"] : [],
      };
    },
    pointAt: async () => "nothing set: power commands have no boot target; the boot URL must come from DHCP",
    rearm: async () => {},
    powerState,
    on: async () => void (await run("on")),
    off: async () => void (await run("off")),
    async cycle() {
      // A PDU's cycle on an outlet that is off may leave it off: switch it on instead.
      if (templates.state !== undefined && (await powerState()) === "off") await run("on");
      else await run("cycle");
    },
    restore: async () => {},
    close: async () => {},
  };
}

/** "on", "OFF", "Power is on", "Outlet 7: Off": the one of on and off the output names. */
export function stateFromOutput(output: string): "on" | "off" | undefined {
  const words = new Set(output.toLowerCase().match(/\b(on|off)\b/g) ?? []);
  return words.size === 1 ? ([...words][0] as "on" | "off") : undefined;
}
