import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
/** OVMF's variables after an HTTP boot with the URL from DHCP. */
export const realDir = new URL("../data/ovmf-dhcp/", import.meta.url).pathname;
/** OVMF's variables after a boot URI was set in its setup UI. */
export const uriDir = new URL("../data/ovmf-uri/", import.meta.url).pathname;

/** A variable as OVMF wrote it, without efivarfs's 4 attribute bytes. */
export const realOption = (name: string, dir = realDir): Uint8Array => new Uint8Array(readFileSync(join(dir, `${name}-${GLOBAL}`))).subarray(4);

/**
 * The boot option OVMF made when given a boot URI in its setup UI (`ovmf-uri/Boot0004`), with
 * `uri` in its URI node instead (and `description`, if given): what the same firmware writes
 * for another URL. Everything else stays as OVMF wrote it, the URI's terminating NUL included.
 */
export function withUri(uri: string, description?: string): Uint8Array {
  const real = realOption("Boot0004", uriDir);
  const view = new DataView(real.buffer, real.byteOffset, real.byteLength);
  const pathLength = view.getUint16(4, true);
  let at = 6;
  while (view.getUint16(at, true) !== 0) at += 2;
  const descriptionBytes = description === undefined ? real.subarray(6, at + 2) : utf16z(description);
  const path = real.subarray(at + 2, at + 2 + pathLength);
  const optional = real.subarray(at + 2 + pathLength);
  // Walk to the last node before the end node: OVMF's URI node.
  let node = 0;
  let last = 0;
  while (path[node] !== 0x7f) {
    last = node;
    node += path[node + 2]! | (path[node + 3]! << 8);
  }
  if (path[last] !== 0x03 || path[last + 1] !== 0x18) throw new Error("Boot0004 does not end in a URI node");
  const uriBytes = new TextEncoder().encode(`${uri}\0`);
  const uriNode = new Uint8Array(4 + uriBytes.length);
  uriNode.set([0x03, 0x18, uriNode.length & 0xff, uriNode.length >> 8]);
  uriNode.set(uriBytes, 4);
  const newPath = concat(path.subarray(0, last), uriNode, path.subarray(node));
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
