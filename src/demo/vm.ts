/**
 * The demo's server: one OVMF virtual machine under QEMU that HTTP-boots from dispatch on
 * QEMU's user network (no root, no bridge; the guest reaches the host as 10.0.2.2, dispatch
 * sees it as 127.0.0.1), boots each workload, and powers off at `poweroff.efi`, which ends QEMU.
 */

import { existsSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import type { Runtime } from "../runtime/types.ts";

export const QEMU = "qemu-system-x86_64";

/** Where distributions put OVMF's code and variable template (Debian's first: the one tried). */
const FIRMWARES = [
  { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd" }, // Debian 12, Ubuntu 22.04+
  { code: "/usr/share/OVMF/OVMF_CODE.fd", vars: "/usr/share/OVMF/OVMF_VARS.fd" }, // older Debian and Ubuntu
  { code: "/usr/share/edk2/ovmf/OVMF_CODE.fd", vars: "/usr/share/edk2/ovmf/OVMF_VARS.fd" }, // Fedora
  { code: "/usr/share/edk2/x64/OVMF_CODE.4m.fd", vars: "/usr/share/edk2/x64/OVMF_VARS.4m.fd" }, // Arch
] as const;

export type Firmware = (typeof FIRMWARES)[number];

/** QEMU and OVMF where both are installed; otherwise what is missing, for the one line that says so. */
export async function findVm(runtime: Runtime): Promise<{ firmware: Firmware } | { missing: string }> {
  const qemu = await runtime.run([QEMU, "--version"], { timeoutMs: 10_000 }).catch(() => undefined);
  if (qemu?.code !== 0) return { missing: `${QEMU} not found (Debian: qemu-system-x86)` };
  const firmware = FIRMWARES.find((f) => existsSync(f.code) && existsSync(f.vars));
  if (!firmware) return { missing: `no OVMF firmware found (Debian: ovmf; looked for ${FIRMWARES[0].code})` };
  return { firmware };
}

export type VmOptions = {
  readonly firmware: Firmware;
  /** Holds the VM's writable firmware variables and its serial console log. */
  readonly dir: string;
  /** The port dispatch listens on at 127.0.0.1. */
  readonly port: number;
  readonly path: string;
  /** Stops the VM (Ctrl-C). */
  readonly signal: AbortSignal;
  /** The VM is stopped past this. */
  readonly timeoutMs: number;
};

/** The boot URL as the guest sees dispatch. */
export const guestBootUrl = (port: number, path: string) => `http://10.0.2.2:${port}${path}`;

export function vmArgs(options: Pick<VmOptions, "firmware" | "port" | "path">, varsPath: string, serialPath: string): string[] {
  return [
    QEMU,
    // TCG: KVM may be missing or unusable (nested); an EFI workload of a few KiB does not need it.
    ...["-machine", "q35,accel=tcg", "-cpu", "max", "-m", "256", "-smp", "1"],
    ...["-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${options.firmware.code}`],
    ...["-drive", `if=pflash,format=raw,unit=1,file=${varsPath}`],
    // PXE off: otherwise each boot first waits over a minute for a TFTP server.
    ...["-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n"],
    ...["-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n"],
    // Not restrict=on: that cuts the guest off from the host too. The guest runs only the
    // samples, which talk to dispatch and nothing else.
    ...["-netdev", `user,id=n0,ipv6=off,bootfile=${guestBootUrl(options.port, options.path)}`],
    ...["-device", "virtio-net-pci,netdev=n0,romfile="],
    ...["-serial", `file:${serialPath}`, "-monitor", "none", "-display", "none", "-nodefaults", "-vga", "none"],
    ...["-name", "dispatch-demo"],
  ];
}

export type VmEnd = { readonly off: boolean; readonly why: string };

/** Runs the VM until it powers off (QEMU exits 0), fails, is stopped or runs out of time. */
export async function runVm(runtime: Runtime, options: VmOptions): Promise<VmEnd> {
  const varsPath = join(options.dir, "vars.fd");
  const serialPath = join(options.dir, "serial.log");
  await copyFile(options.firmware.vars, varsPath); // the VM writes its own boot options
  const result = await runtime.run(vmArgs(options, varsPath, serialPath), { timeoutMs: options.timeoutMs, signal: options.signal });
  if (!result) return { off: false, why: `${QEMU} could not be started` };
  if (result.timedOut) return { off: false, why: `the VM was still on after ${Math.round(options.timeoutMs / 1000)} s and was stopped` };
  if (options.signal.aborted) return { off: false, why: "the VM was stopped" };
  if (result.code !== 0) return { off: false, why: `${QEMU} exited ${result.code}: ${result.stderr.trim().split("\n").at(-1) ?? ""}` };
  return { off: true, why: "the VM powered off" };
}
