import { describe, expect, test } from "bun:test";
import {
  Asm, aluImm8, callMem, cmpMemImm8, decReg, jmpSelf, leaMem, leaRipRel, movImm32, movImm64, movMemImm32, movMemImm8, movMemReg,
  movMemReg16, movRegMem, movRegReg, push, shrImm8, subImm32, subImm8, testRegReg, zero,
} from "../../src/efi/x64.ts";
import { disassembleRaw, objdump } from "./objdump.ts";

// Encodings as written in the Intel SDM tables / as GNU as emits them.
const cases: { name: string; bytes: readonly number[]; expected: number[]; att: string }[] = [
  { name: "push rbx", bytes: push("rbx"), expected: [0x53], att: "push %rbx" },
  { name: "push r12", bytes: push("r12"), expected: [0x41, 0x54], att: "push %r12" },
  { name: "sub rsp,0x20", bytes: subImm8("rsp", 0x20), expected: [0x48, 0x83, 0xec, 0x20], att: "sub $0x20,%rsp" },
  { name: "mov rbx,rdx", bytes: movRegReg("rbx", "rdx"), expected: [0x48, 0x89, 0xd3], att: "mov %rdx,%rbx" },
  { name: "mov rcx,[rbx+0x40]", bytes: movRegMem("rcx", "rbx", 0x40), expected: [0x48, 0x8b, 0x4b, 0x40], att: "mov 0x40(%rbx),%rcx" },
  { name: "mov rax,[rsp+8]", bytes: movRegMem("rax", "rsp", 8), expected: [0x48, 0x8b, 0x44, 0x24, 0x08], att: "mov 0x8(%rsp),%rax" },
  { name: "mov r9,[rbp+0x100]", bytes: movRegMem("r9", "rbp", 0x100), expected: [0x4c, 0x8b, 0x8d, 0x00, 0x01, 0x00, 0x00], att: "mov 0x100(%rbp),%r9" },
  { name: "mov ecx,2", bytes: movImm32("rcx", 2), expected: [0xb9, 2, 0, 0, 0], att: "mov $0x2,%ecx" },
  { name: "mov ecx,2000000", bytes: movImm32("rcx", 2_000_000), expected: [0xb9, 0x80, 0x84, 0x1e, 0x00], att: "mov $0x1e8480,%ecx" },
  { name: "xor edx,edx", bytes: zero("rdx"), expected: [0x31, 0xd2], att: "xor %edx,%edx" },
  { name: "xor r8d,r8d", bytes: zero("r8"), expected: [0x45, 0x31, 0xc0], att: "xor %r8d,%r8d" },
  { name: "xor r9d,r9d", bytes: zero("r9"), expected: [0x45, 0x31, 0xc9], att: "xor %r9d,%r9d" },
  { name: "call [rcx+8]", bytes: callMem("rcx", 8), expected: [0xff, 0x51, 0x08], att: "call *0x8(%rcx)" },
  { name: "call [rax+0x68]", bytes: callMem("rax", 0x68), expected: [0xff, 0x50, 0x68], att: "call *0x68(%rax)" },
  { name: "call [rax+0xF8]", bytes: callMem("rax", 0xf8), expected: [0xff, 0x90, 0xf8, 0, 0, 0], att: "call *0xf8(%rax)" },
  { name: "lea rdx,[rip+0x1d]", bytes: leaRipRel("rdx", 0x1d), expected: [0x48, 0x8d, 0x15, 0x1d, 0, 0, 0], att: "lea 0x1d(%rip),%rdx" },
  { name: "jmp $", bytes: jmpSelf(), expected: [0xeb, 0xfe], att: "jmp 0x0" },
  { name: "sub rsp,0x348", bytes: subImm32("rsp", 0x348), expected: [0x48, 0x81, 0xec, 0x48, 0x03, 0, 0], att: "sub $0x348,%rsp" },
  { name: "mov [rsp+0x98],rax", bytes: movMemReg("rsp", 0x98, "rax"), expected: [0x48, 0x89, 0x84, 0x24, 0x98, 0, 0, 0], att: "mov %rax,0x98(%rsp)" },
  { name: "mov [r13+8],r14", bytes: movMemReg("r13", 8, "r14"), expected: [0x4d, 0x89, 0x75, 0x08], att: "mov %r14,0x8(%r13)" },
  { name: "mov dword [rsp+0xc1],imm32", bytes: movMemImm32("rsp", 0xc1, 0x0f02000a, 32), expected: [0xc7, 0x84, 0x24, 0xc1, 0, 0, 0, 0x0a, 0x00, 0x02, 0x0f], att: "movl $0xf02000a,0xc1(%rsp)" },
  { name: "mov qword [rsp+0x38],0", bytes: movMemImm32("rsp", 0x38, 0, 64), expected: [0x48, 0xc7, 0x44, 0x24, 0x38, 0, 0, 0, 0], att: "movq $0x0,0x38(%rsp)" },
  { name: "mov byte [rsp+0xc0],1", bytes: movMemImm8("rsp", 0xc0, 1), expected: [0xc6, 0x84, 0x24, 0xc0, 0, 0, 0, 1], att: "movb $0x1,0xc0(%rsp)" },
  { name: "mov [rdx],cx", bytes: movMemReg16("rdx", 0, "rcx"), expected: [0x66, 0x89, 0x4a, 0x00], att: "mov %cx,0x0(%rdx)" },
  { name: "lea r8,[rsp+0x30]", bytes: leaMem("r8", "rsp", 0x30), expected: [0x4c, 0x8d, 0x44, 0x24, 0x30], att: "lea 0x30(%rsp),%r8" },
  { name: "mov rax,EFI_TIMEOUT", bytes: movImm64("rax", 0x8000_0000_0000_0012n), expected: [0x48, 0xb8, 0x12, 0, 0, 0, 0, 0, 0, 0x80], att: "movabs $0x8000000000000012,%rax" },
  { name: "test rax,rax", bytes: testRegReg("rax"), expected: [0x48, 0x85, 0xc0], att: "test %rax,%rax" },
  { name: "dec r14", bytes: decReg("r14"), expected: [0x49, 0xff, 0xce], att: "dec %r14" },
  { name: "and rcx,0xf", bytes: aluImm8("and", "rcx", 0xf), expected: [0x48, 0x83, 0xe1, 0x0f], att: "and $0xf,%rcx" },
  { name: "cmp rcx,10", bytes: aluImm8("cmp", "rcx", 10), expected: [0x48, 0x83, 0xf9, 0x0a], att: "cmp $0xa,%rcx" },
  { name: "sub rdx,2", bytes: aluImm8("sub", "rdx", 2), expected: [0x48, 0x83, 0xea, 0x02], att: "sub $0x2,%rdx" },
  { name: "cmp dword [rsp+0xa0],3", bytes: cmpMemImm8("rsp", 0xa0, 3), expected: [0x83, 0xbc, 0x24, 0xa0, 0, 0, 0, 3], att: "cmpl $0x3,0xa0(%rsp)" },
  { name: "shr rax,4", bytes: shrImm8("rax", 4), expected: [0x48, 0xc1, 0xe8, 0x04], att: "shr $0x4,%rax" },
];

describe("x64 encoders", () => {
  for (const c of cases) {
    test(c.name, () => expect([...c.bytes]).toEqual(c.expected));
  }

  test.skipIf(!objdump)("objdump decodes each encoding as its mnemonic", () => {
    for (const c of cases) {
      const insns = disassembleRaw(Uint8Array.from(c.bytes));
      expect(insns).toHaveLength(1);
      expect(insns[0]?.text).toBe(c.att);
    }
  });

  test("range checks", () => {
    expect(() => subImm8("rsp", 0x80)).toThrow(RangeError);
    expect(() => movImm32("rcx", -1)).toThrow(RangeError);
    expect(() => movImm32("rcx", 2 ** 32)).toThrow(RangeError);
    expect(() => movImm32("rcx", 1.5)).toThrow(RangeError);
  });
});

describe("Asm", () => {
  test("RIP-relative disp32 counts from the end of the lea", () => {
    const out = new Asm()
      .emit([0x90, 0x90]) // 2 bytes of nop before the lea
      .leaRip("rdx", "blob") // at 2..8, ends at 9
      .emit(jmpSelf()) // 9..10
      .align(8) // int3 up to 16
      .data("blob", [0xaa, 0xbb])
      .link();
    expect(out.length).toBe(18);
    expect(out[16]).toBe(0xaa);
    const disp = new DataView(out.buffer).getInt32(2 + 3, true);
    expect(2 + 7 + disp).toBe(16);
    expect([...out.subarray(11, 16)]).toEqual([0xcc, 0xcc, 0xcc, 0xcc, 0xcc]);
  });

  test("backward references get a negative displacement", () => {
    const out = new Asm().data("here", [0x11]).leaRip("rax", "here").link();
    expect(new DataView(out.buffer).getInt32(4, true)).toBe(-8); // target 0, lea ends at 8
  });

  test("jumps to labels: rel32 from the end of the instruction, both ways", () => {
    const out = new Asm()
      .label("top") // 0
      .jcc("nz", "end") // 0..5, ends at 6
      .jmp("top") // 6..10, ends at 11
      .label("end") // 11
      .link();
    const v = new DataView(out.buffer);
    expect([...out.subarray(0, 2)]).toEqual([0x0f, 0x85]);
    expect(6 + v.getInt32(2, true)).toBe(11);
    expect(out[6]).toBe(0xe9);
    expect(11 + v.getInt32(7, true)).toBe(0);
  });

  test("label errors", () => {
    expect(() => new Asm().leaRip("rdx", "nowhere").link()).toThrow("undefined label");
    expect(() => new Asm().label("x").label("x")).toThrow("twice");
  });
});
