/** GNU objdump as an independent decoder for the tests (Debian package `binutils`). */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const objdump: string | null = Bun.which("objdump");

export interface Insn {
  address: number;
  bytes: number[];
  /** AT&T syntax, whitespace collapsed, without objdump's trailing "# target" comment. */
  text: string;
  /** The address in objdump's "# 0x..." comment (RIP-relative operands), if any. */
  target?: number;
}

function run(args: string[], file: Uint8Array): string {
  if (!objdump) throw new Error("objdump not installed");
  const dir = mkdtempSync(join(tmpdir(), "efi-objdump-"));
  try {
    const path = join(dir, "image");
    writeFileSync(path, file);
    const result = Bun.spawnSync([objdump, ...args, path]);
    if (result.exitCode !== 0) throw new Error(`objdump failed: ${result.stderr.toString()}`);
    return result.stdout.toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses objdump's "  addr:\tbytes\tmnemonic operands  # comment" lines. */
function parse(listing: string): Insn[] {
  const insns: Insn[] = [];
  for (const line of listing.split("\n")) {
    const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+)\t(.*)$/.exec(line);
    if (!m) continue;
    const [, address = "", hex = "", rest = ""] = m;
    const [asm = "", comment] = rest.split("#");
    const insn: Insn = {
      address: Number.parseInt(address, 16),
      bytes: hex.trim().split(/\s+/).map((b) => Number.parseInt(b, 16)),
      text: asm.trim().replace(/\s+/g, " "),
    };
    const target = comment && /0x([0-9a-f]+)/.exec(comment)?.[1];
    if (target) insn.target = Number.parseInt(target, 16);
    insns.push(insn);
  }
  return insns;
}

/** Decodes bare x86-64 machine code, addresses from 0. */
export function disassembleRaw(code: Uint8Array): Insn[] {
  return parse(run(["-D", "-b", "binary", "-m", "i386:x86-64"], code));
}

/** Decodes the .text section of a PE image, letting objdump read the PE headers itself. */
export function disassemblePe(file: Uint8Array): { format: string; start: number; insns: Insn[] } {
  const header = run(["-f"], file);
  return {
    format: /file format (\S+)/.exec(header)?.[1] ?? "",
    start: Number.parseInt(/start address 0x([0-9a-f]+)/.exec(header)?.[1] ?? "NaN", 16),
    insns: parse(run(["-d", "--section=.text"], file)),
  };
}
