import { existsSync, readdirSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { run, which } from "./tools.ts";

/**
 * A real Linux workload, as a lab would publish one: a unified kernel image (one EFI
 * application: systemd's EFI stub with Debian's kernel, a command line and an initramfs) whose
 * init brings up the network, runs `dispatch beacon boot`, reads a few facts of the machine,
 * sends them with `dispatch beacon report` and reboots. The initramfs holds busybox (static),
 * the compiled dispatch binary with the few glibc libraries it links, and the kernel modules
 * for virtio networking and efivarfs. Built from Debian's packages, without root.
 */

const stub = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
const busybox = "/bin/busybox";

/** The newest Debian kernel installed in /boot, with its modules. */
function kernel(): { version: string; vmlinuz: string; modules: string } | undefined {
  const versions = existsSync("/boot") ? readdirSync("/boot").flatMap((f) => /^vmlinuz-(.+)$/.exec(f)?.[1] ?? []) : [];
  const version = versions.filter((v) => existsSync(`/lib/modules/${v}/modules.dep`)).sort().at(-1);
  return version ? { version, vmlinuz: `/boot/vmlinuz-${version}`, modules: `/lib/modules/${version}` } : undefined;
}

/** What building the workload needs; empty when all is there. */
export function missingForLinuxWorkload(): string[] {
  const missing: string[] = [];
  if (!kernel()) missing.push("a kernel in /boot with its modules (Debian: linux-image-amd64)");
  if (!existsSync(stub)) missing.push(`${stub} (Debian: systemd-boot-efi)`);
  // busybox-static's binary: the initramfs has no libraries for a dynamic one.
  if (!existsSync(busybox) || !existsSync("/usr/share/doc/busybox-static")) missing.push(`${busybox} (Debian: busybox-static)`);
  for (const [tool, pkg] of [["objcopy", "binutils"], ["cpio", "cpio"], ["zstd", "zstd"]] as const) if (!which(tool)) missing.push(`${tool} (Debian: ${pkg})`);
  return missing;
}

/** The modules to load, dependencies first, read from modules.dep. */
async function moduleChain(modules: string, wanted: readonly string[]): Promise<string[]> {
  const deps = new Map<string, string[]>();
  for (const line of (await readFile(join(modules, "modules.dep"), "utf8")).split("\n")) {
    const [file, rest] = line.split(":");
    if (file) deps.set(file, (rest ?? "").trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map([...deps.keys()].map((file) => [basename(file).replace(/\.ko(\.\w+)?$/, ""), file]));
  const order: string[] = [];
  const visit = (file: string) => {
    if (order.includes(file)) return;
    for (const dep of deps.get(file) ?? []) visit(dep);
    order.push(file);
  };
  for (const name of wanted) {
    const file = byName.get(name);
    if (!file) throw new Error(`kernel module ${name} not found in ${modules}`);
    visit(file);
  }
  return order;
}

/** Shared libraries an executable links, as `ldd` lists them (absolute paths). */
async function libraries(executable: string): Promise<string[]> {
  const out = await run(["ldd", executable]);
  return [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}

/** The workload's /init. `facts` lines go into the report body; the serial console shows each step. */
const init = (title: string) => `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The kernel found no /dev/console in the initramfs to give init; take it now.
exec > /dev/console 2>&1 < /dev/console
for m in $(cat /lib/modules/load-order); do insmod /lib/modules/$m; done
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
say() { echo "workload: $*"; }
up() { cut -d' ' -f1 /proc/uptime; }
say "init at $(up) s"

ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -s /etc/udhcpc.sh -q -n -t 20 -T 1 || say "no DHCP lease"
say "address $(ip -4 -o addr show eth0 | awk '{print $4}')"

t0=$(up); dispatch --version > /dev/null; t1=$(up)
say "dispatch --version: $t0 s to $t1 s"
dispatch beacon boot -v; say "beacon boot exit $?"

{
  echo "memory: $(grep MemTotal /proc/meminfo | awk '{print $2, $3}')"
  echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cpus: $(grep -c '^processor' /proc/cpuinfo)"
  echo "kernel: $(uname -r)"
  echo "address: $(ip -4 -o addr show eth0 | awk '{print $4}')"
  echo "dispatch --version in the guest: $t0 s to $t1 s of uptime"
} > /tmp/facts
cat /tmp/facts
dispatch beacon report -v -t "${title}" -l linux -b /tmp/facts; say "beacon report exit $?"
say "rebooting"
reboot -f
`;

/** busybox udhcpc calls this with the lease in its environment. */
const udhcpcScript = `#!/bin/sh
case "$1" in
  bound|renew)
    ifconfig "$interface" "$ip" netmask "\${subnet:-255.255.255.0}"
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    ;;
esac
`;

export type LinuxWorkload = {
  readonly path: string;
  /** Bytes of the whole EFI image, and of its parts. */
  readonly size: number;
  readonly kernelSize: number;
  readonly initrdSize: number;
  readonly dispatchSize: number;
  /** The compressed initramfs inside it (kept beside it). */
  readonly initrdPath: string;
};

/** Builds the workload into `dir` with `dispatchBinary` (a compiled dispatch) as /bin/dispatch; the report it sends has `title`. */
export async function buildLinuxWorkload(options: { dir: string; dispatchBinary: string; title: string }): Promise<LinuxWorkload> {
  const k = kernel();
  if (!k) throw new Error("no kernel with modules in /boot and /lib/modules");
  const root = join(options.dir, "initramfs");
  await rm(root, { recursive: true, force: true });
  for (const d of ["bin", "dev", "etc", "proc", "sys", "tmp", "lib/modules"]) await mkdir(join(root, d), { recursive: true });
  await copyFile(busybox, join(root, "bin/busybox"));
  await copyFile(options.dispatchBinary, join(root, "bin/dispatch"));
  for (const lib of await libraries(options.dispatchBinary)) {
    await mkdir(join(root, dirname(lib)), { recursive: true });
    await copyFile(lib, join(root, lib));
  }
  const chain = await moduleChain(k.modules, ["virtio_pci", "virtio_net", "efivarfs"]);
  for (const file of chain) await copyFile(join(k.modules, file), join(root, "lib/modules", basename(file)));
  await writeFile(join(root, "lib/modules/load-order"), chain.map((f) => basename(f)).join("\n") + "\n");
  await writeFile(join(root, "init"), init(options.title));
  await writeFile(join(root, "etc/udhcpc.sh"), udhcpcScript);
  for (const f of ["init", "etc/udhcpc.sh", "bin/busybox", "bin/dispatch"]) await chmod(join(root, f), 0o755);

  // newc cpio, zstd at a fast level: -19 saves 10 MiB of download but takes minutes to build.
  const cpio = join(options.dir, "initramfs.cpio");
  await run(["sh", "-c", `cd "${root}" && find . | sort | cpio -o -H newc --quiet > "${cpio}"`]);
  const initrd = `${cpio}.zst`;
  await run(["zstd", "-q", "-f", "-3", "-T0", cpio, "-o", initrd]);
  await rm(cpio);
  await rm(root, { recursive: true, force: true });

  const cmdline = join(options.dir, "cmdline");
  await writeFile(cmdline, "console=ttyS0 quiet panic=-1 rdinit=/init\0");
  const osrel = join(options.dir, "os-release");
  await writeFile(osrel, 'NAME="dispatch test workload"\nID=dispatch-test\n');
  const path = join(options.dir, "linux-workload.efi");
  // Section addresses above the stub's own image, in the order and spacing ukify uses.
  await run([
    "objcopy",
    ...["--add-section", `.osrel=${osrel}`, "--change-section-vma", ".osrel=0x20000"],
    ...["--add-section", `.cmdline=${cmdline}`, "--change-section-vma", ".cmdline=0x30000"],
    ...["--add-section", `.linux=${k.vmlinuz}`, "--change-section-vma", ".linux=0x2000000"],
    ...["--add-section", `.initrd=${initrd}`, "--change-section-vma", ".initrd=0x3000000"],
    stub,
    path,
  ]);
  return {
    path,
    size: (await stat(path)).size,
    kernelSize: (await stat(k.vmlinuz)).size,
    initrdSize: (await stat(initrd)).size,
    dispatchSize: (await stat(options.dispatchBinary)).size,
    initrdPath: initrd,
  };
}
