import { existsSync } from "node:fs";
import { imageTools } from "./images.ts";
import { toolPath, which } from "./tools.ts";
import { ovmfCode, ovmfVars, qemuBinary } from "./vm.ts";

/**
 * What the firmware tests need from the machine. They skip, saying what is missing, where
 * QEMU cannot run. In CI (`CI=true`, as .ci/run is started) a missing piece fails instead, so
 * the tests cannot quietly stop running there; DISPATCH_REQUIRE_QEMU=1 asks for that anywhere.
 */

export const qemuRequired = process.env.DISPATCH_REQUIRE_QEMU === "1" || process.env.CI === "true";

const runs = (command: string[]): boolean => {
  try {
    return Bun.spawnSync(command, { stdout: "ignore", stderr: "ignore", env: { ...process.env, PATH: toolPath } }).exitCode === 0;
  } catch {
    return false; // not installed
  }
};

/** Missing pieces for booting OVMF under QEMU's user network; empty when all is there. */
export function missingForQemu(): string[] {
  const missing: string[] = [];
  if (!runs([qemuBinary, "--version"])) missing.push(`${qemuBinary} (Debian: qemu-system-x86)`);
  for (const file of [ovmfCode, ovmfVars]) if (!existsSync(file)) missing.push(`${file} (Debian: ovmf)`);
  for (const tool of imageTools) if (!which(tool)) missing.push(`${tool} (Debian: dosfstools, mtools, xorriso)`);
  return missing;
}

/** Missing pieces for the lab network: a namespace with a bridge, taps and dnsmasq (root). */
export function missingForLab(): string[] {
  const missing = missingForQemu();
  if (process.getuid?.() !== 0) missing.push("root (network namespaces, bridge and tap devices)");
  if (!existsSync("/dev/net/tun")) missing.push("/dev/net/tun");
  for (const tool of ["ip", "dnsmasq", "curl"]) if (!which(tool)) missing.push(`${tool} (Debian: iproute2, dnsmasq-base, curl)`);
  return missing;
}

export function skipMessage(what: string, missing: string[]): string {
  return `skipping ${what}: missing ${missing.join(", ")}${qemuRequired ? "" : " (CI=true or DISPATCH_REQUIRE_QEMU=1 makes this a failure)"}`;
}
