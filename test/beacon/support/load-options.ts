import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
export const realDir = new URL("../data/ovmf-dhcp/", import.meta.url).pathname;

/** A variable as OVMF wrote it, without efivarfs's 4 attribute bytes. */
export const realOption = (name: string): Uint8Array => new Uint8Array(readFileSync(join(realDir, `${name}-${GLOBAL}`))).subarray(4);

/**
 * OVMF's own HTTPv4 option (`Boot0001`) with `uri` in its URI node instead of the empty one:
 * what the same firmware holds when it is given a fixed boot URI. Everything else (attributes,
 * description, MAC and IPv4 nodes, the optional data after the path) stays as OVMF wrote it.
 */
export function withUri(uri: string, description?: string): Uint8Array {
  const real = realOption("Boot0001");
  const view = new DataView(real.buffer, real.byteOffset, real.byteLength);
  const pathLength = view.getUint16(4, true);
  let at = 6;
  while (view.getUint16(at, true) !== 0) at += 2;
  const descriptionBytes = description === undefined ? real.subarray(6, at + 2) : utf16z(description);
  const path = real.subarray(at + 2, at + 2 + pathLength);
  const optional = real.subarray(at + 2 + pathLength);
  // The last two nodes of OVMF's path are the empty URI node (03 18 04 00) and the end node.
  const uriAt = path.length - 8;
  if (path[uriAt] !== 0x03 || path[uriAt + 1] !== 0x18) throw new Error("Boot0001 does not end in a URI node");
  const uriBytes = new TextEncoder().encode(uri);
  const node = new Uint8Array(4 + uriBytes.length);
  node.set([0x03, 0x18, node.length & 0xff, node.length >> 8]);
  node.set(uriBytes, 4);
  const newPath = concat(path.subarray(0, uriAt), node, path.subarray(path.length - 4));
  const head = new Uint8Array(6);
  head.set(real.subarray(0, 4));
  new DataView(head.buffer).setUint16(4, newPath.length, true);
  return concat(head, descriptionBytes, newPath, optional);
}

const utf16z = (text: string) => {
  const bytes = new Uint8Array((text.length + 1) * 2);
  for (let i = 0; i < text.length; i++) new DataView(bytes.buffer).setUint16(i * 2, text.charCodeAt(i), true);
  return bytes;
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** A throwaway efivarfs look-alike: the real OVMF variables, plus `extra` (name → value, attributes 7). */
export function efivarsDir(extra: Record<string, Uint8Array> = {}, { real = true } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "dispatch-efivars-"));
  if (real) for (const file of readdirSync(realDir)) if (file.endsWith(GLOBAL)) writeFileSync(join(dir, file), readFileSync(join(realDir, file)));
  for (const [name, value] of Object.entries(extra)) {
    const file = new Uint8Array(4 + value.length);
    file.set([7, 0, 0, 0]);
    file.set(value, 4);
    writeFileSync(join(dir, `${name}-${GLOBAL}`), file);
  }
  return dir;
}

/** A BootOrder / BootCurrent value. */
export const optionNumbers = (...numbers: number[]) => {
  const bytes = new Uint8Array(numbers.length * 2);
  numbers.forEach((n, i) => new DataView(bytes.buffer).setUint16(i * 2, n, true));
  return bytes;
};
