/**
 * Reads the non-volatile variables out of an OVMF varstore file (the `VARS.fd` copy a VM ran
 * with): a firmware volume whose first block holds an authenticated variable store. Test data
 * for the load-option parser comes from here, so its bytes are the ones real firmware wrote.
 * Layout from the UEFI PI spec (firmware volume header) and EDK2's VariableFormat.h.
 */

export type StoredVariable = {
  readonly name: string;
  readonly guid: string;
  readonly attributes: number;
  readonly data: Uint8Array;
};

const VAR_ADDED = 0x3f;
/** Added, then marked for deletion while a newer copy was being written: still the live one if no newer copy exists. */
const VAR_ADDED_IN_DELETED_TRANSITION = 0x3e;
const AUTH_HEADER_SIZE = 60;

export function guidText(bytes: Uint8Array): string {
  const v = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
  const tail = [...bytes.subarray(8, 16)].map((b) => hex(b, 2)).join("");
  return `${hex(v.getUint32(0, true), 8)}-${hex(v.getUint16(4, true), 4)}-${hex(v.getUint16(6, true), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}`;
}

export function readVarstore(fd: Uint8Array): StoredVariable[] {
  const view = new DataView(fd.buffer, fd.byteOffset, fd.byteLength);
  if (String.fromCharCode(...fd.subarray(40, 44)) !== "_FVH") throw new Error("not a firmware volume (no _FVH signature at offset 40)");
  const headerLength = view.getUint16(48, true);
  const store = headerLength; // the variable store header follows the volume header
  const storeSize = view.getUint32(store + 16, true);
  const end = Math.min(fd.byteLength, store + storeSize);
  const live = new Map<string, StoredVariable>();
  let at = store + 28;
  while (at + AUTH_HEADER_SIZE <= end && view.getUint16(at, true) === 0x55aa) {
    const state = view.getUint8(at + 2);
    const attributes = view.getUint32(at + 4, true);
    const nameSize = view.getUint32(at + 36, true);
    const dataSize = view.getUint32(at + 40, true);
    const guid = guidText(fd.subarray(at + 44, at + 60));
    const nameStart = at + AUTH_HEADER_SIZE;
    const name = new TextDecoder("utf-16le").decode(fd.subarray(nameStart, nameStart + nameSize)).replace(/\0+$/, "");
    const data = fd.slice(nameStart + nameSize, nameStart + nameSize + dataSize);
    if (state === VAR_ADDED || state === VAR_ADDED_IN_DELETED_TRANSITION) live.set(`${name}-${guid}`, { name, guid, attributes, data });
    at = (nameStart + nameSize + dataSize + 3) & ~3;
  }
  return [...live.values()];
}
