/**
 * UEFI load options (the value of a `Boot####` variable), as far as beacon needs them: the
 * description and, for an HTTP-boot option, the URI its device path ends in. Layout from the
 * UEFI specification: EFI_LOAD_OPTION (3.1.3) and device path nodes (10.3); the messaging URI
 * node is type 3, subtype 24, and holds the URI. The spec gives it no terminating NUL, but
 * EDK2 (OVMF, and the many server firmwares built on it) writes one: it is dropped here.
 */

export type LoadOption = {
  readonly attributes: number;
  readonly description: string;
  /** The URI of the device path's last node when that node is a URI node; "" when the firmware left it empty (URL from DHCP). Absent for other options. */
  readonly uri?: string;
};

const MESSAGING = 0x03;
const URI_SUBTYPE = 0x18;
const END = 0x7f;

/** Parses an EFI_LOAD_OPTION; throws with what is wrong when the bytes do not hold one. */
export function parseLoadOption(bytes: Uint8Array): LoadOption {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 6) throw new Error(`a load option has at least 6 bytes, this one ${bytes.length}`);
  const attributes = view.getUint32(0, true);
  const pathLength = view.getUint16(4, true);
  let at = 6;
  while (at + 1 < bytes.length && view.getUint16(at, true) !== 0) at += 2;
  if (at + 1 >= bytes.length) throw new Error("the description has no terminating NUL");
  const description = new TextDecoder("utf-16le").decode(bytes.subarray(6, at));
  const pathStart = at + 2;
  const pathEnd = pathStart + pathLength;
  if (pathEnd > bytes.length) throw new Error(`the device path is said to be ${pathLength} bytes, but only ${bytes.length - pathStart} follow`);

  let last: { type: number; subtype: number; data: Uint8Array } | undefined;
  for (let node = pathStart; ; ) {
    if (node + 4 > pathEnd) throw new Error("the device path has no end node");
    const type = bytes[node]!;
    const subtype = bytes[node + 1]!;
    const length = view.getUint16(node + 2, true);
    if (length < 4 || node + length > pathEnd) throw new Error(`a device path node at byte ${node} has a bad length (${length})`);
    // End of this instance (subtype 1) or of the whole path (0xff): an HTTP-boot option has one instance.
    if (type === END) break;
    last = { type, subtype, data: bytes.subarray(node + 4, node + length) };
    node += length;
  }
  const uri = last?.type === MESSAGING && last.subtype === URI_SUBTYPE ? new TextDecoder().decode(last.data).replace(/\0+$/, "") : undefined;
  return { attributes, description, ...(uri !== undefined && { uri }) };
}

/** `Boot####` (hex, as the spec spells it) from a number: the name of that option's variable. */
export const bootVariableName = (option: number): string => `Boot${option.toString(16).toUpperCase().padStart(4, "0")}`;

/** The option numbers in a `BootOrder` (or `BootCurrent`) value: little-endian 16-bit words. */
export function parseOptionNumbers(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const numbers: number[] = [];
  for (let at = 0; at + 1 < bytes.length; at += 2) numbers.push(view.getUint16(at, true));
  return numbers;
}
