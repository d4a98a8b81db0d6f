import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EfiAppOptions, efiApp } from "../../../src/efi/app.ts";
import { run } from "./tools.ts";

/**
 * Workload images built from the tiny EFI applications, in the three forms dispatch serves:
 * the application itself, a FAT RAM-disk image and an ISO whose El Torito EFI image is that
 * FAT image. Both disk forms hold the application as `\EFI\BOOT\BOOTX64.EFI`, the removable
 * media path the firmware boots from. Debian's dosfstools, mtools and xorriso do the work,
 * without root (no loop mounts).
 */

/** The tools these images need; the QEMU tests skip when one is missing. */
export const imageTools = ["mkfs.vfat", "mmd", "mcopy", "xorriso"] as const;

async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "dispatch-image-"));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A FAT file system image (1 MiB, FAT12) holding `app` as `\EFI\BOOT\BOOTX64.EFI`. */
async function fatImage(dir: string, app: Uint8Array): Promise<string> {
  const image = join(dir, "esp.img");
  const efi = join(dir, "BOOTX64.EFI");
  await writeFile(efi, app);
  await run(["mkfs.vfat", "-C", image, "1024"]);
  await run(["mmd", "-i", image, "::/EFI", "::/EFI/BOOT"]);
  await run(["mcopy", "-i", image, efi, "::/EFI/BOOT/BOOTX64.EFI"]);
  return image;
}

export const efiImage = (options: EfiAppOptions): Uint8Array => efiApp(options);

/** A RAM-disk workload (`+img`): the firmware mounts it and boots `\EFI\BOOT\BOOTX64.EFI`. */
export function fatDiskImage(options: EfiAppOptions): Promise<Uint8Array> {
  return inTempDir(async (dir) => new Uint8Array(await readFile(await fatImage(dir, efiApp(options)))));
}

/** An ISO workload (`+iso`): El Torito, no emulation, with the FAT image as its EFI boot image. */
export function isoImage(options: EfiAppOptions): Promise<Uint8Array> {
  return inTempDir(async (dir) => {
    const root = join(dir, "root");
    await mkdir(root);
    await rename(await fatImage(dir, efiApp(options)), join(root, "esp.img"));
    const iso = join(dir, "workload.iso");
    await run(["xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-e", "esp.img", "-no-emul-boot", root]);
    return new Uint8Array(await readFile(iso));
  });
}
