import { describe, expect, test } from "bun:test";
import { buildPe32Plus } from "../../src/efi/pe.ts";
import { poweroffEfi } from "../../src/efi/poweroff.ts";
import { parsePe } from "./parse-pe.ts";

// Values from the PE format specification, written out here on purpose rather than imported.
const IMAGE_FILE_MACHINE_AMD64 = 0x8664;
const EXECUTABLE_IMAGE_AND_LARGE_ADDRESS_AWARE = 0x0022;
const PE32_PLUS = 0x020b;
const EFI_APPLICATION = 10;
const CODE_EXECUTE_READ = 0x6000_0020;

describe("buildPe32Plus", () => {
  test("poweroff.efi has the headers an EFI loader checks", () => {
    const file = poweroffEfi;
    const pe = parsePe(file);

    expect(String.fromCharCode(file[0] ?? 0, file[1] ?? 0)).toBe("MZ");
    expect(pe.eLfanew).toBe(0x40);
    expect(pe.signature).toBe("PE\0\0");
    expect(pe.machine).toBe(IMAGE_FILE_MACHINE_AMD64);
    expect(pe.numberOfSections).toBe(1);
    expect(pe.sizeOfOptionalHeader).toBe(0xf0); // 112 fixed bytes + 16 directories of 8
    expect(pe.characteristics).toBe(EXECUTABLE_IMAGE_AND_LARGE_ADDRESS_AWARE);
    expect(pe.magic).toBe(PE32_PLUS);
    expect(pe.subsystem).toBe(EFI_APPLICATION);
    expect(pe.sectionAlignment).toBe(0x1000);
    expect(pe.fileAlignment).toBe(0x200);
    expect(pe.imageBase % 0x10000n).toBe(0n);
    expect(pe.numberOfRvaAndSizes).toBe(16);
    expect(pe.dataDirectories.every((d) => d.rva === 0 && d.size === 0)).toBe(true);

    // Headers: DOS 0x40 + "PE\0\0" 4 + COFF 20 + optional 240 + one section 40 = 0x170, rounded.
    expect(pe.sizeOfHeaders).toBe(0x200);

    const [text] = pe.sections;
    expect(pe.sections).toHaveLength(1);
    if (!text) throw new Error("no section");
    expect(text.name).toBe(".text");
    expect(text.characteristics).toBe(CODE_EXECUTE_READ);
    expect(text.virtualAddress).toBe(0x1000);
    expect(text.pointerToRawData).toBe(0x200);
    expect(text.sizeOfRawData % 0x200).toBe(0);
    expect(text.virtualSize).toBeGreaterThan(0);
    expect(text.virtualSize).toBeLessThanOrEqual(text.sizeOfRawData);

    expect(pe.addressOfEntryPoint).toBe(text.virtualAddress); // entry at section start
    expect(pe.baseOfCode).toBe(text.virtualAddress);
    expect(pe.sizeOfCode).toBe(text.sizeOfRawData);
    expect(pe.sizeOfImage).toBe(0x2000); // headers page + one .text page
    expect(file.length % 0x200).toBe(0);
    expect(file.length).toBe(text.pointerToRawData + text.sizeOfRawData);
    expect(file.length).toBe(1024); // "about 1 KiB"
    expect(file[text.pointerToRawData]).toBe(0x53); // push rbx: the entry point's first byte
  });

  test("code larger than one file/section alignment unit", () => {
    const code = new Uint8Array(0x1234).map((_, i) => i & 0xff);
    const file = buildPe32Plus(code);
    const pe = parsePe(file);
    const text = pe.sections[0];
    if (!text) throw new Error("no section");

    expect(text.virtualSize).toBe(0x1234);
    expect(text.sizeOfRawData).toBe(0x1400);
    expect(pe.sizeOfImage).toBe(0x1000 + 0x2000);
    expect(file.length).toBe(0x200 + 0x1400);
    expect(file.subarray(text.pointerToRawData, text.pointerToRawData + code.length)).toEqual(code);
    expect(file.subarray(text.pointerToRawData + code.length).every((b) => b === 0)).toBe(true);
    // Padding between the section table and the code is zero too.
    expect(file.subarray(0x170, 0x200).every((b) => b === 0)).toBe(true);
  });

  test("is reproducible and rejects empty code", () => {
    const code = Uint8Array.of(0xeb, 0xfe);
    expect(buildPe32Plus(code)).toEqual(buildPe32Plus(code));
    expect(() => buildPe32Plus(new Uint8Array(0))).toThrow();
  });
});
