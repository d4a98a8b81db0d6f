import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { startProcess } from "../../support/processes.ts";

/**
 * One OVMF virtual machine under QEMU that HTTP-boots: the firmware gets the boot URL by
 * DHCP (QEMU's user network, or dnsmasq on a bridge), asks dispatch, boots what it gets, and
 * boots again whenever a workload resets it. QEMU exits (status 0) when the guest powers off.
 */

export const ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd";
export const ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd";
export const qemuBinary = "qemu-system-x86_64";

export type VmNetwork =
  /** QEMU's user network: DHCP hands out `bootUrl`; the guest reaches the host as 10.0.2.2, the host sees 127.0.0.1. */
  | { readonly kind: "user"; readonly bootUrl: string }
  /** A tap device already attached to a bridge; DHCP comes from whatever serves that bridge. */
  | { readonly kind: "tap"; readonly ifname: string; readonly mac: string };

export type VmOptions = {
  readonly name: string;
  /** A folder for this VM's writable firmware variables and serial log. */
  readonly dir: string;
  readonly network: VmNetwork;
  /** Prefix for the command, e.g. `ip netns exec NS` to run inside a network namespace. */
  readonly wrap?: readonly string[];
  /** Guest memory; 256 MiB unless a workload needs more (a Linux workload unpacks its initramfs into RAM). */
  readonly memoryMiB?: number;
  /** The firmware variables to start from (copied); OVMF's empty template unless given. */
  readonly varsFrom?: string;
  /**
   * Also serve the serial port on this unix socket (QEMU is the server), as a lab reads a VM's
   * console (`socat - UNIX-CONNECT:PATH`); the serial log file is written all the same.
   */
  readonly serialSocket?: string;
  /** More QEMU arguments (a QMP socket, for one). */
  readonly extraArgs?: readonly string[];
};

export type Vm = {
  readonly name: string;
  readonly pid: number;
  readonly serialPath: string;
  /** QEMU's exit status, once it exits. */
  readonly exited: Promise<number>;
  /** The guest's serial console so far, as lines without escape codes or carriage returns. */
  serial(): Promise<string[]>;
  /** Ends QEMU if it still runs (by pid), and waits until it has. */
  kill(): Promise<void>;
};

export function qemuArgs(options: VmOptions, varsPath: string, serialPath: string): string[] {
  const { network } = options;
  const netdev =
    network.kind === "user"
      ? `user,id=n0,ipv6=off,bootfile=${network.bootUrl}`
      : `tap,id=n0,ifname=${network.ifname},script=no,downscript=no`;
  const nic = network.kind === "user" ? "virtio-net-pci,netdev=n0,romfile=" : `virtio-net-pci,netdev=n0,romfile=,mac=${network.mac}`;
  return [
    qemuBinary,
    // TCG: /dev/kvm may exist on a CI machine that is itself a VM, but nested KVM is not reliable.
    ...["-machine", "q35,accel=tcg", "-cpu", "max", "-m", String(options.memoryMiB ?? 256), "-smp", "1"],
    ...["-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${ovmfCode}`],
    ...["-drive", `if=pflash,format=raw,unit=1,file=${varsPath}`],
    // PXE off: otherwise every boot waits over a minute for a TFTP server before trying HTTP.
    ...["-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n"],
    ...["-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=n"],
    ...["-netdev", netdev, "-device", nic],
    ...(options.serialSocket
      ? ["-chardev", `socket,id=serial0,path=${options.serialSocket},server=on,wait=off,logfile=${serialPath}`, "-serial", "chardev:serial0"]
      : ["-serial", `file:${serialPath}`]),
    ...["-monitor", "none", "-display", "none", "-nodefaults", "-vga", "none"],
    ...["-name", options.name],
    ...(options.extraArgs ?? []),
  ];
}

/** Firmware console output carries terminal escape codes and `\r`; tests read plain lines. */
export function cleanSerial(raw: string): string[] {
  return raw
    .replace(/\x1b\[[0-9;?=]*[A-Za-z]/g, "")
    .replace(/\x1b[()][0-9A-Za-z]/g, "")
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

export async function startVm(options: VmOptions): Promise<Vm> {
  const varsPath = join(options.dir, `${options.name}-vars.fd`);
  const serialPath = join(options.dir, `${options.name}-serial.log`);
  await copyFile(options.varsFrom ?? ovmfVars, varsPath); // each VM writes its own Boot#### variables
  await Bun.write(serialPath, "");
  // The guest's console goes to the serial file; QEMU's own output is kept for a failure.
  const qemu = startProcess([...(options.wrap ?? []), ...qemuArgs(options, varsPath, serialPath)], { name: `${options.name} (QEMU)` });
  let killed = false;
  const exited = qemu.exited.then((code) => {
    if (code !== 0 && !killed) console.error(`${options.name}: QEMU exited ${code}: ${qemu.output().trim()}`);
    return code;
  });
  return {
    name: options.name,
    pid: qemu.pid,
    serialPath,
    exited,
    serial: async () => cleanSerial(await readFile(serialPath, "latin1")),
    kill: async () => {
      killed = qemu.running();
      await qemu.kill("SIGKILL");
      await exited;
    },
  };
}
