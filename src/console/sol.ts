import type { IpmiPower } from "../lab/types.ts";

/**
 * `console = "sol"`: IPMI serial-over-LAN through ipmitool, with the power driver's BMC, user and
 * cipher suite; the password only in the environment (`-E` reads IPMI_PASSWORD). A BMC holds one
 * SOL session at a time and keeps one whose client died, so `sol deactivate` runs first.
 */
export function solCommands(ipmi: IpmiPower): { readonly deactivate: string[]; readonly activate: string[]; readonly env: Record<string, string> } {
  const base = ["ipmitool", "-I", "lanplus", "-H", ipmi.host, "-p", String(ipmi.port), "-U", ipmi.user, "-E", ...(ipmi.cipher === undefined ? [] : ["-C", String(ipmi.cipher)])];
  return { deactivate: [...base, "sol", "deactivate"], activate: [...base, "sol", "activate"], env: { IPMI_PASSWORD: ipmi.password.reveal() } };
}
