/**
 * Wraps raw x86-64 machine code into the smallest PE32+ image a UEFI firmware will start as an
 * EFI application: headers plus one `.text` section whose first byte is the entry point.
 *
 * The code must be position-independent (RIP-relative only): the image has no relocation
 * directory, so a loader that places it away from ImageBase has nothing to patch (EDK2 skips
 * relocation when that directory is empty). It does not claim "relocations stripped" either:
 * EDK2 then only accepts memory at exactly ImageBase and fails the load if that is taken.
 *
 * File layout (all little-endian):
 *   0x000  DOS header (64 bytes; only e_magic and e_lfanew matter)
 *   0x040  "PE\0\0"
 *   0x044  COFF file header (20 bytes)
 *   0x058  PE32+ optional header (112 bytes + 16 data directories × 8 = 240 bytes)
 *   0x148  section table: one 40-byte entry
 *   0x170  zero padding up to FILE_ALIGNMENT (SizeOfHeaders)
 *   0x200  .text raw data, zero-padded to FILE_ALIGNMENT
 * Memory layout: headers at RVA 0, .text at RVA 0x1000 (SECTION_ALIGNMENT).
 *
 * Reference: Microsoft "PE Format" (learn.microsoft.com/windows/win32/debug/pe-format).
 */

const SECTION_ALIGNMENT = 0x1000; // one page, so the loader can map .text with its own protection
const FILE_ALIGNMENT = 0x200; // the PE minimum
const PE_OFFSET = 0x40; // the PE signature straight after the 64-byte DOS header, no DOS stub
const NUMBER_OF_DATA_DIRECTORIES = 16; // all present, all empty (no imports, relocs, ...)
const OPTIONAL_HEADER_SIZE = 112 + NUMBER_OF_DATA_DIRECTORIES * 8; // 0xF0
const COFF_OFFSET = PE_OFFSET + 4;
const OPTIONAL_OFFSET = COFF_OFFSET + 20;
const SECTION_TABLE_OFFSET = OPTIONAL_OFFSET + OPTIONAL_HEADER_SIZE;
const SECTION_HEADER_SIZE = 40;

const IMAGE_FILE_MACHINE_AMD64 = 0x8664;
const IMAGE_FILE_EXECUTABLE_IMAGE = 0x0002;
const IMAGE_FILE_LARGE_ADDRESS_AWARE = 0x0020;
const PE32_PLUS_MAGIC = 0x20b;
const IMAGE_SUBSYSTEM_EFI_APPLICATION = 10;
const IMAGE_SCN_CNT_CODE = 0x0000_0020;
const IMAGE_SCN_MEM_EXECUTE = 0x2000_0000;
const IMAGE_SCN_MEM_READ = 0x4000_0000;
/** Preferred load address; 64 KiB-aligned as the format requires. Firmware loads anywhere. */
const IMAGE_BASE = 0x1000_0000n;

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Builds a PE32+ EFI application (x86-64) whose entry point is the first byte of `code`. */
export function buildPe32Plus(code: Uint8Array): Uint8Array<ArrayBuffer> {
  if (code.length === 0) throw new Error("empty code");

  const headersSize = alignUp(SECTION_TABLE_OFFSET + SECTION_HEADER_SIZE, FILE_ALIGNMENT);
  const textRva = SECTION_ALIGNMENT; // first page after the headers
  const textRawSize = alignUp(code.length, FILE_ALIGNMENT);
  const imageSize = textRva + alignUp(code.length, SECTION_ALIGNMENT);

  const file = new Uint8Array(headersSize + textRawSize); // zero-filled: every field not set is 0
  const v = new DataView(file.buffer);
  const u16 = (at: number, x: number): void => v.setUint16(at, x, true);
  const u32 = (at: number, x: number): void => v.setUint32(at, x, true);
  const u64 = (at: number, x: bigint): void => v.setBigUint64(at, x, true);

  // --- DOS header: loaders read only these two fields.
  u16(0x00, 0x5a4d); // e_magic "MZ"
  u32(0x3c, PE_OFFSET); // e_lfanew: file offset of the PE signature

  // --- PE signature.
  u32(PE_OFFSET, 0x0000_4550); // "PE\0\0"

  // --- COFF file header.
  const c = COFF_OFFSET;
  u16(c + 0, IMAGE_FILE_MACHINE_AMD64); // Machine
  u16(c + 2, 1); // NumberOfSections
  u32(c + 4, 0); // TimeDateStamp: 0 keeps the output reproducible
  u32(c + 8, 0); // PointerToSymbolTable: none
  u32(c + 12, 0); // NumberOfSymbols
  u16(c + 16, OPTIONAL_HEADER_SIZE); // SizeOfOptionalHeader
  u16(c + 18, IMAGE_FILE_EXECUTABLE_IMAGE | IMAGE_FILE_LARGE_ADDRESS_AWARE); // Characteristics = 0x22

  // --- PE32+ optional header.
  const o = OPTIONAL_OFFSET;
  u16(o + 0, PE32_PLUS_MAGIC); // Magic: PE32+ (64-bit fields below)
  // o+2 MajorLinkerVersion, o+3 MinorLinkerVersion: 0
  u32(o + 4, textRawSize); // SizeOfCode
  u32(o + 8, 0); // SizeOfInitializedData: data lives inside .text
  u32(o + 12, 0); // SizeOfUninitializedData
  u32(o + 16, textRva); // AddressOfEntryPoint: the first byte of `code`
  u32(o + 20, textRva); // BaseOfCode
  u64(o + 24, IMAGE_BASE); // ImageBase
  u32(o + 32, SECTION_ALIGNMENT); // SectionAlignment
  u32(o + 36, FILE_ALIGNMENT); // FileAlignment
  // o+40..o+51: OS / image / subsystem versions, o+52 Win32VersionValue: 0, unused by UEFI
  u32(o + 56, imageSize); // SizeOfImage: memory span, multiple of SectionAlignment
  u32(o + 60, headersSize); // SizeOfHeaders: headers rounded up to FileAlignment
  u32(o + 64, 0); // CheckSum: not checked for EFI images
  u16(o + 68, IMAGE_SUBSYSTEM_EFI_APPLICATION); // Subsystem: unloaded when it exits
  u16(o + 70, 0); // DllCharacteristics
  // o+72..o+103: stack/heap reserve and commit: 0, UEFI gives the app the firmware's stack
  u32(o + 104, 0); // LoaderFlags
  u32(o + 108, NUMBER_OF_DATA_DIRECTORIES); // NumberOfRvaAndSizes
  // o+112..o+239: 16 data directories (RVA, Size), all zero

  // --- Section table: .text.
  const s = SECTION_TABLE_OFFSET;
  file.set(new TextEncoder().encode(".text"), s + 0); // Name: 8 bytes, NUL-padded
  u32(s + 8, code.length); // VirtualSize: bytes actually used; the loader zero-fills the rest
  u32(s + 12, textRva); // VirtualAddress
  u32(s + 16, textRawSize); // SizeOfRawData: multiple of FileAlignment
  u32(s + 20, headersSize); // PointerToRawData: file offset of the code
  // s+24 PointerToRelocations, s+28 PointerToLinenumbers, s+32/34 their counts: 0
  u32(s + 36, IMAGE_SCN_CNT_CODE | IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_MEM_READ); // Characteristics

  // --- .text contents.
  file.set(code, headersSize);
  return file;
}
