import { formatDuration } from "../core/duration.ts";
import type { IpmiPower } from "../lab/types.ts";
import type { RunResult } from "../runtime/types.ts";
import { type BmcCheck, type PowerDriver, PowerError, type PowerState } from "./driver.ts";
import { defaultCallTimeoutMs, type DriverOptions, said } from "./options.ts";

export type IpmiDriverOptions = DriverOptions & {
  /** ipmitool's own wait for one answer (-N, seconds) and its retries (-R); ipmitool's defaults (about 20 s in all for a silent BMC) unless given. */
  readonly sessionTimeoutS?: number;
  readonly retries?: number;
};

/**
 * IPMI through `ipmitool -I lanplus`. The password reaches ipmitool only through its environment
 * (`-E` reads IPMI_PASSWORD), never its argument list, which any user can read in /proc; the user
 * name is on it (ipmitool has no other way). `-v` makes ipmitool say why a session failed
 * ("RAKP 2 HMAC is invalid": the password; "Get Auth Capabilities error": nobody answered),
 * which its plain output does not.
 *
 * The boot device: IPMI has no HTTP-boot selector, so the driver asks for PXE in UEFI mode
 * (`chassis bootdev pxe options=efiboot`) and the firmware takes its boot URL from DHCP. BMCs
 * clear that flag 60 s after it is set unless a chassis command restarts the server (IPMI 2.0
 * §28.12), so it is set again right before each power-on and cycle. Many BMCs refuse it
 * (ipmitool still exits 0): that is noted and the run goes on. What was set before is read as
 * raw bytes (Get System Boot Options, parameter 5) and written back by `restore`; a BMC that
 * does not answer that read gets `chassis bootdev none` (no override) instead.
 */
export function ipmiDriver(config: IpmiPower, options: IpmiDriverOptions): PowerDriver {
  const timeoutMs = options.timeoutMs ?? defaultCallTimeoutMs;
  const base = [
    "ipmitool",
    "-I",
    "lanplus",
    "-H",
    config.host,
    "-p",
    String(config.port),
    "-U",
    config.user,
    "-E",
    ...(config.cipher === undefined ? [] : ["-C", String(config.cipher)]),
    ...(options.sessionTimeoutS === undefined ? [] : ["-N", String(options.sessionTimeoutS)]),
    ...(options.retries === undefined ? [] : ["-R", String(options.retries)]),
    "-v",
  ];
  /** The boot flags found before pointAt: 5 bytes, or null when the BMC would not say. */
  let saved: number[] | null | undefined;
  /** pointAt set the boot device (the BMC took it). */
  let pointed = false;

  const call = async (args: string[]): Promise<RunResult> => {
    const what = `ipmitool ${args.join(" ")}`;
    const result = await options.runtime.run([...base, ...args], { timeoutMs, env: { IPMI_PASSWORD: config.password.reveal() } });
    if (!result) throw new PowerError(`${what}: ipmitool could not be started: install it (Debian: apt-get install ipmitool)`, "unsupported");
    const words = said(meaningful(`${result.stdout}\n${result.stderr}`));
    options.log?.(`${config.bmc}: ${what}: ${result.timedOut ? "timed out" : `exit ${result.code}`}${words ? `: ${words}` : ""}`);
    if (result.timedOut) throw new PowerError(`${config.bmc}: ${what} had no answer within ${formatDuration(timeoutMs)}`, "timeout");
    if (result.code !== 0) {
      const { kind, meaning } = classify(`${result.stdout}\n${result.stderr}`);
      throw new PowerError(`${config.bmc}: ${what}: ${meaning}${words ? ` (${words})` : ""}`, kind);
    }
    return result;
  };

  const powerState = async (): Promise<PowerState> => {
    const { stdout } = await call(["chassis", "power", "status"]);
    const match = /Chassis Power is (on|off)/i.exec(stdout);
    if (!match) throw new PowerError(`${config.bmc}: chassis power status said "${said(stdout, 200)}", neither on nor off`, "refused");
    return match[1]!.toLowerCase() as PowerState;
  };

  const chassis = async (action: "on" | "off" | "cycle") => {
    const { stdout } = await call(["chassis", "power", action]);
    const expected = { on: /Up\/On/, off: /Down\/Off/, cycle: /Cycle/ }[action];
    if (!expected.test(stdout)) throw new PowerError(`${config.bmc}: chassis power ${action} said "${said(stdout, 200)}"`, "refused");
  };

  /** Undefined when the BMC took the boot device, else what it said. */
  const setBootDevice = async (): Promise<string | undefined> => {
    const { stdout, stderr } = await call(["chassis", "bootdev", "pxe", "options=efiboot"]);
    const refusal = refusalOf(stderr);
    return refusal ?? (/Set Boot Device to pxe/i.test(stdout) ? undefined : `it answered "${said(meaningful(stdout), 200)}"`);
  };

  const readBootFlags = async (): Promise<number[] | null> => {
    try {
      return bootFlagsFromRaw((await call(["raw", "0x00", "0x09", "0x05", "0x00", "0x00"])).stdout) ?? null;
    } catch (error) {
      if (error instanceof PowerError && error.kind === "refused") return null;
      throw error;
    }
  };

  return {
    kind: "ipmi",
    bmc: config.bmc,
    async check(): Promise<BmcCheck> {
      const power = await powerState();
      const flags = await readBootFlags();
      return {
        power,
        bootTarget: "IPMI bootdev pxe (UEFI); the boot URL from DHCP",
        // ipmitool sets the boot device for the next boot only: armed again after each `beacon boot`.
        once: true,
        notes: flags ? [] : ["the BMC does not read back its boot flags: at the end the boot override is cleared (bootdev none), not restored"],
      };
    },
    async pointAt() {
      saved ??= await readBootFlags();
      const refusal = await setBootDevice();
      if (refusal) {
        pointed = false;
        return `boot device not set: the BMC refused it (${refusal}); the server boots by its own settings, its boot URL must come from DHCP`;
      }
      pointed = true;
      return "IPMI bootdev pxe (UEFI), set again before each power-on; the boot URL comes from DHCP";
    },
    async rearm() {
      if (pointed) await setBootDevice();
    },
    powerState,
    async on() {
      if (pointed) await setBootDevice();
      await chassis("on");
    },
    off: () => chassis("off"),
    async cycle() {
      // Many BMCs do nothing (or refuse) when asked to cycle a server that is off.
      if ((await powerState()) === "off") {
        if (pointed) await setBootDevice();
        return chassis("on");
      }
      if (pointed) await setBootDevice();
      await chassis("cycle");
    },
    async restore() {
      if (!pointed) return;
      if (saved) await call(["raw", "0x00", "0x08", "0x05", ...saved.map((b) => `0x${b.toString(16).padStart(2, "0")}`)]);
      else await call(["chassis", "bootdev", "none"]);
      pointed = false;
    },
    close: async () => {},
  };
}

/** What `-v` adds on every call, kept out of messages. */
const chatter = [/^Loading IANA PEN Registry/, /^Running Get VSO Capabilities/, /^Invalid completion code received: Invalid command/, /^Discovered IPMB address/];
const meaningful = (text: string) =>
  text
    .split("\n")
    .filter((line) => !chatter.some((c) => c.test(line.trim())))
    .join("\n");

/** A failed ipmitool call's cause, from what it printed. */
export function classify(output: string): { kind: PowerError["kind"]; meaning: string } {
  if (/RAKP \d HMAC is invalid|unauthorized name|RAKP \d message indicates an error|invalid (user ?name|password)/i.test(output)) {
    return { kind: "credentials", meaning: "the BMC refused the user name or password" };
  }
  if (/insufficient privilege|requested maximum privilege level/i.test(output)) {
    return { kind: "credentials", meaning: "the BMC user lacks the privilege (it needs ADMINISTRATOR or OPERATOR)" };
  }
  if (/Get Auth Capabilities error|No response from remote controller|Address lookup for .* failed|Unable to establish IPMI v2 \/ RMCP\+ session|Error: Unable to establish LAN session/i.test(output)) {
    return { kind: "unreachable", meaning: "no IPMI answer from the BMC (address, port, network, or IPMI over LAN switched off)" };
  }
  return { kind: "refused", meaning: "the BMC refused the command" };
}

/** "Set Chassis Boot Parameter 5 failed: Invalid data field in request": what a BMC says when it refuses the boot device. */
function refusalOf(stderr: string): string | undefined {
  const lines = stderr.split("\n").filter((line) => /failed|error/i.test(line) && !chatter.some((c) => c.test(line.trim())));
  return lines.length > 0 ? said(lines.join("\n"), 300) : undefined;
}

/**
 * The boot flags' 5 data bytes from `ipmitool raw 0x00 0x09 0x05 0x00 0x00`, which prints the
 * response's bytes in hex: parameter version, parameter number (5, bit 7 set when locked), data.
 */
export function bootFlagsFromRaw(stdout: string): number[] | undefined {
  const bytes = (stdout.match(/\b[0-9a-f]{2}\b/gi) ?? []).map((b) => parseInt(b, 16));
  if (bytes.length < 7 || (bytes[1]! & 0x7f) !== 5) return undefined;
  return bytes.slice(2, 7);
}
