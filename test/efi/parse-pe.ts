/**
 * An independent PE32+ reader for the tests: it follows the Microsoft "PE Format" document,
 * not src/efi/pe.ts, so a wrong offset in the writer is not mirrored here.
 */

export interface ParsedSection {
  name: string;
  virtualSize: number;
  virtualAddress: number;
  sizeOfRawData: number;
  pointerToRawData: number;
  characteristics: number;
}

export interface ParsedPe {
  eLfanew: number;
  signature: string;
  machine: number;
  numberOfSections: number;
  sizeOfOptionalHeader: number;
  characteristics: number;
  magic: number;
  sizeOfCode: number;
  addressOfEntryPoint: number;
  baseOfCode: number;
  imageBase: bigint;
  sectionAlignment: number;
  fileAlignment: number;
  sizeOfImage: number;
  sizeOfHeaders: number;
  subsystem: number;
  numberOfRvaAndSizes: number;
  dataDirectories: { rva: number; size: number }[];
  sections: ParsedSection[];
}

export function parsePe(file: Uint8Array): ParsedPe {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const ascii = (at: number, n: number): string =>
    String.fromCharCode(...file.subarray(at, at + n)).replace(/\0+$/, "");

  if (ascii(0, 2) !== "MZ") throw new Error("no MZ");
  const eLfanew = v.getUint32(0x3c, true);
  const signature = String.fromCharCode(...file.subarray(eLfanew, eLfanew + 4)); // "PE\0\0"
  const coff = eLfanew + 4; // IMAGE_FILE_HEADER
  const sizeOfOptionalHeader = v.getUint16(coff + 16, true);
  const opt = coff + 20; // IMAGE_OPTIONAL_HEADER64
  const numberOfRvaAndSizes = v.getUint32(opt + 108, true);
  const dataDirectories = Array.from({ length: numberOfRvaAndSizes }, (_, i) => ({
    rva: v.getUint32(opt + 112 + i * 8, true),
    size: v.getUint32(opt + 112 + i * 8 + 4, true),
  }));
  const numberOfSections = v.getUint16(coff + 2, true);
  const sectionTable = opt + sizeOfOptionalHeader;
  const sections = Array.from({ length: numberOfSections }, (_, i) => {
    const s = sectionTable + i * 40; // IMAGE_SECTION_HEADER
    return {
      name: ascii(s, 8),
      virtualSize: v.getUint32(s + 8, true),
      virtualAddress: v.getUint32(s + 12, true),
      sizeOfRawData: v.getUint32(s + 16, true),
      pointerToRawData: v.getUint32(s + 20, true),
      characteristics: v.getUint32(s + 36, true),
    };
  });

  return {
    eLfanew,
    signature,
    machine: v.getUint16(coff, true),
    numberOfSections,
    sizeOfOptionalHeader,
    characteristics: v.getUint16(coff + 18, true),
    magic: v.getUint16(opt, true),
    sizeOfCode: v.getUint32(opt + 4, true),
    addressOfEntryPoint: v.getUint32(opt + 16, true),
    baseOfCode: v.getUint32(opt + 20, true),
    imageBase: v.getBigUint64(opt + 24, true),
    sectionAlignment: v.getUint32(opt + 32, true),
    fileAlignment: v.getUint32(opt + 36, true),
    sizeOfImage: v.getUint32(opt + 56, true),
    sizeOfHeaders: v.getUint32(opt + 60, true),
    subsystem: v.getUint16(opt + 68, true),
    numberOfRvaAndSizes,
    dataDirectories,
    sections,
  };
}
