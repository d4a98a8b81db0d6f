import { describe, expect, test } from "bun:test";
import { efiApp } from "../../src/efi/app.ts";
import { POWEROFF_MESSAGE, poweroffEfi } from "../../src/efi/poweroff.ts";
import { type Insn, disassemblePe, objdump } from "./objdump.ts";
import { parsePe } from "./parse-pe.ts";

/** "text\r\n\0" as UTF-16LE, encoded here independently of the app builder. */
const utf16line = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.from(Buffer.from(`${text}\r\n\0`, "utf16le"));

/** Everything objdump decodes up to and including the `jmp $` that ends the code. */
function code(file: Uint8Array): { insns: Insn[]; start: number; format: string } {
  const { insns, start, format } = disassemblePe(file);
  const end = insns.findIndex((i) => i.bytes.join() === "235,254"); // EB FE
  if (end < 0) throw new Error("no jmp $");
  return { insns: insns.slice(0, end + 1), start, format };
}

/** Where the lea's RIP-relative operand points, read back from the file via the PE headers. */
function leaTarget(file: Uint8Array, insns: Insn[]): { offset: number; rva: number } {
  const pe = parsePe(file);
  const text = pe.sections[0];
  const lea = insns.find((i) => i.text.startsWith("lea"));
  if (!text || lea?.target === undefined) throw new Error("no lea with a target");
  const rva = lea.target - Number(pe.imageBase);
  return { rva, offset: rva - text.virtualAddress + text.pointerToRawData };
}

const normalize = (insns: Insn[]): string[] =>
  insns.map((i) => i.text.replace(/^lea 0x[0-9a-f]+\(%rip\)/, "lea MSG(%rip)").replace(/^jmp 0x[0-9a-f]+$/, "jmp $"));

describe("efiApp", () => {
  test("embeds the message as UTF-16LE with CRLF and NUL", () => {
    const needle = utf16line(POWEROFF_MESSAGE);
    expect(Buffer.from(poweroffEfi).indexOf(needle)).toBeGreaterThan(0x200);
  });

  test("rejects what it cannot encode", () => {
    expect(() => efiApp({ message: "a\0b", reset: "cold" })).toThrow();
    expect(() => efiApp({ message: "x", stallMicroseconds: -1, reset: "cold" })).toThrow(RangeError);
    expect(() => efiApp({ message: "x", stallMicroseconds: 2 ** 32, reset: "cold" })).toThrow(RangeError);
  });

  test("stallMicroseconds 0 is the same as none", () => {
    expect(efiApp({ message: "m", stallMicroseconds: 0, reset: "warm" })).toEqual(efiApp({ message: "m", reset: "warm" }));
  });
});

describe.skipIf(!objdump)("efiApp, decoded by objdump", () => {
  test("poweroff.efi: print, then ResetSystem(EfiResetShutdown)", () => {
    const { insns, start, format } = code(poweroffEfi);
    expect(format).toBe("pei-x86-64");
    expect(insns[0]?.address).toBe(start); // objdump's entry point is the first instruction
    expect(normalize(insns)).toEqual([
      "push %rbx",
      "sub $0x20,%rsp",
      "mov %rdx,%rbx",
      "mov 0x40(%rbx),%rcx", // SystemTable->ConOut
      "lea MSG(%rip),%rdx",
      "call *0x8(%rcx)", // ConOut->OutputString
      "mov 0x58(%rbx),%rax", // SystemTable->RuntimeServices
      "mov $0x2,%ecx", // EfiResetShutdown
      "xor %edx,%edx",
      "xor %r8d,%r8d",
      "xor %r9d,%r9d",
      "call *0x68(%rax)", // RuntimeServices->ResetSystem
      "jmp $",
    ]);
    const jmp = insns.at(-1);
    expect(jmp?.text).toBe(`jmp 0x${jmp?.address.toString(16)}`); // really jumps to itself
  });

  test("poweroff.efi: the lea points at the message, inside .text", () => {
    const { insns } = code(poweroffEfi);
    const { offset, rva } = leaTarget(poweroffEfi, insns);
    const needle = utf16line(POWEROFF_MESSAGE);
    expect(poweroffEfi.subarray(offset, offset + needle.length)).toEqual(needle);
    const text = parsePe(poweroffEfi).sections[0];
    expect(rva + needle.length).toBeLessThanOrEqual((text?.virtualAddress ?? 0) + (text?.virtualSize ?? 0));
    expect(rva % 2).toBe(0); // CHAR16 alignment
  });

  test("workload: print, Stall, then ResetSystem(EfiResetWarm)", () => {
    const message = "workload-1 running";
    const file = efiApp({ message, stallMicroseconds: 2_000_000, reset: "warm" });
    const { insns } = code(file);
    expect(normalize(insns)).toEqual([
      "push %rbx",
      "sub $0x20,%rsp",
      "mov %rdx,%rbx",
      "mov 0x40(%rbx),%rcx",
      "lea MSG(%rip),%rdx",
      "call *0x8(%rcx)",
      "mov 0x60(%rbx),%rax", // SystemTable->BootServices
      "mov $0x1e8480,%ecx", // 2 000 000 µs
      "call *0xf8(%rax)", // BootServices->Stall
      "mov 0x58(%rbx),%rax",
      "mov $0x1,%ecx", // EfiResetWarm
      "xor %edx,%edx",
      "xor %r8d,%r8d",
      "xor %r9d,%r9d",
      "call *0x68(%rax)",
      "jmp $",
    ]);
    const { offset } = leaTarget(file, insns);
    const needle = utf16line(message);
    expect(file.subarray(offset, offset + needle.length)).toEqual(needle);
  });

  test("cold reset passes type 0", () => {
    const { insns } = code(efiApp({ message: "c", reset: "cold" }));
    expect(normalize(insns)).toContain("mov $0x0,%ecx");
  });
});

test("poweroff.efi is a valid Response body (Uint8Array<ArrayBuffer>)", async () => {
  const body = new Uint8Array(await new Response(poweroffEfi).arrayBuffer());
  expect(body).toEqual(poweroffEfi);
});
