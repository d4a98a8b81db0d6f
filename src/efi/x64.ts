/**
 * Just enough x86-64 machine code to write tiny UEFI applications in TypeScript.
 *
 * Each encoder returns the bytes of one instruction; the mnemonic (Intel syntax) is in its
 * comment. Only the forms that `app.ts` and `callback-app.ts` need exist. `Asm` strings
 * instructions together and resolves RIP-relative references (to data after the code, and jumps
 * to labels), so the result needs no relocations and runs wherever the firmware loads it.
 *
 * Reference: Intel SDM vol. 2, ch. 2 (REX prefix, ModRM, SIB).
 */

/** General-purpose registers by encoding number; 8..15 need a REX extension bit. */
export const Reg = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
} as const;
export type Reg = keyof typeof Reg;

/** Machine code bytes of one or more instructions. */
export type Bytes = readonly number[];

const fitsInt8 = (n: number): boolean => Number.isInteger(n) && n >= -0x80 && n <= 0x7f;

function int32le(n: number): number[] {
  if (!Number.isInteger(n) || n < -0x8000_0000 || n > 0xffff_ffff) {
    throw new RangeError(`${n} does not fit in 32 bits`);
  }
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/**
 * REX prefix 0100WRXB: W = 64-bit operand, R extends ModRM.reg, B extends ModRM.rm.
 * Omitted when nothing is set, since 32-bit operations on rax..rdi need none.
 */
function rex(w: boolean, reg: number, rm: number): number[] {
  const byte = 0x40 | (w ? 8 : 0) | ((reg >> 3) << 2) | (rm >> 3);
  return byte === 0x40 ? [] : [byte];
}

/** ModRM byte: mod (2 bits), reg (3), rm (3). */
const modrm = (mod: number, reg: number, rm: number): number => (mod << 6) | ((reg & 7) << 3) | (rm & 7);

/**
 * ModRM (+ SIB, + displacement) for the memory operand [base + disp]. Always uses a displacement
 * (mod 01 = disp8, mod 10 = disp32) because mod 00 with rm 101 means RIP-relative, not [rbp].
 * A base of rsp/r12 (rm 100) means "SIB follows"; SIB 0x24 says base only, no index.
 */
function memOperand(reg: number, base: number, disp: number): number[] {
  const sib = (base & 7) === 4 ? [0x24] : [];
  if (fitsInt8(disp)) return [modrm(0b01, reg, base), ...sib, disp & 0xff];
  return [modrm(0b10, reg, base), ...sib, ...int32le(disp)];
}

/** push r64 — 50+r (REX.B for r8..r15). */
export function push(r: Reg): Bytes {
  const n = Reg[r];
  return [...rex(false, 0, n), 0x50 + (n & 7)];
}

/** sub r64, imm8 — REX.W 83 /5 ib (imm8 is sign-extended, so 0..0x7f only). */
export function subImm8(r: Reg, imm: number): Bytes {
  if (!fitsInt8(imm) || imm < 0) throw new RangeError(`sub imm8 out of range: ${imm}`);
  const n = Reg[r];
  return [...rex(true, 0, n), 0x83, modrm(0b11, 5, n), imm];
}

/** mov dst, src (64-bit registers) — REX.W 89 /r, src in ModRM.reg. */
export function movRegReg(dst: Reg, src: Reg): Bytes {
  const d = Reg[dst], s = Reg[src];
  return [...rex(true, s, d), 0x89, modrm(0b11, s, d)];
}

/** mov dst, qword [base + disp] — REX.W 8B /r. Loads a pointer out of a firmware table. */
export function movRegMem(dst: Reg, base: Reg, disp: number): Bytes {
  const d = Reg[dst], b = Reg[base];
  return [...rex(true, d, b), 0x8b, ...memOperand(d, b, disp)];
}

/**
 * mov r32, imm32 — B8+r id. Writing a 32-bit register zeroes bits 63..32, so this also sets the
 * full 64-bit register to an unsigned 32-bit value, in 5 bytes instead of 10.
 */
export function movImm32(r: Reg, imm: number): Bytes {
  if (!Number.isInteger(imm) || imm < 0 || imm > 0xffff_ffff) throw new RangeError(`imm32 out of range: ${imm}`);
  const n = Reg[r];
  return [...rex(false, 0, n), 0xb8 + (n & 7), ...int32le(imm)];
}

/** xor r32, r32 — 31 /r. Zeroes the full 64-bit register (see movImm32). */
export function zero(r: Reg): Bytes {
  const n = Reg[r];
  return [...rex(false, n, n), 0x31, modrm(0b11, n, n)];
}

/** call qword [base + disp] — FF /2. Calls through a function pointer in a firmware table. */
export function callMem(base: Reg, disp: number): Bytes {
  const b = Reg[base];
  return [...rex(false, 0, b), 0xff, ...memOperand(2, b, disp)];
}

/**
 * lea r64, [rip + disp32] — REX.W 8D /r with mod 00, rm 101. The disp32 is the last 4 bytes and
 * counts from the end of the instruction (where RIP points while it runs). Use `Asm.leaRip` to
 * have the displacement computed from a label.
 */
export function leaRipRel(r: Reg, disp: number): Bytes {
  const n = Reg[r];
  return [...rex(true, n, 0), 0x8d, modrm(0b00, n, 0b101), ...int32le(disp)];
}

/**
 * jmp $ — EB FE: a short jump with displacement -2, i.e. to itself. A guard after calls that must
 * not return (ResetSystem): spinning is safer than running off the end into data.
 */
export function jmpSelf(): Bytes {
  return [0xeb, 0xfe];
}

/** sub r64, imm32 — REX.W 81 /5 id (sign-extended; 0..0x7fffffff). For stack frames over 127 bytes. */
export function subImm32(r: Reg, imm: number): Bytes {
  if (!Number.isInteger(imm) || imm < 0 || imm > 0x7fff_ffff) throw new RangeError(`sub imm32 out of range: ${imm}`);
  const n = Reg[r];
  return [...rex(true, 0, n), 0x81, modrm(0b11, 5, n), ...int32le(imm)];
}

/** mov qword [base + disp], src — REX.W 89 /r. Fills a pointer or a UINTN field of a structure. */
export function movMemReg(base: Reg, disp: number, src: Reg): Bytes {
  const s = Reg[src], b = Reg[base];
  return [...rex(true, s, b), 0x89, ...memOperand(s, b, disp)];
}

/**
 * mov [base + disp], imm32 — C7 /0 id: a dword, or with REX.W a qword (the immediate is then
 * sign-extended, so a qword store takes 0..0x7fffffff only).
 */
export function movMemImm32(base: Reg, disp: number, imm: number, width: 32 | 64): Bytes {
  const max = width === 64 ? 0x7fff_ffff : 0xffff_ffff;
  if (!Number.isInteger(imm) || imm < 0 || imm > max) throw new RangeError(`imm32 out of range for a ${width}-bit store: ${imm}`);
  const b = Reg[base];
  return [...rex(width === 64, 0, b), 0xc7, ...memOperand(0, b, disp), ...int32le(imm)];
}

/** mov byte [base + disp], imm8 — C6 /0 ib. For BOOLEAN fields. */
export function movMemImm8(base: Reg, disp: number, imm: number): Bytes {
  if (!Number.isInteger(imm) || imm < 0 || imm > 0xff) throw new RangeError(`imm8 out of range: ${imm}`);
  const b = Reg[base];
  return [...rex(false, 0, b), 0xc6, ...memOperand(0, b, disp), imm];
}

/** mov word [base + disp], src16 — 66 89 /r. Writes one CHAR16. */
export function movMemReg16(base: Reg, disp: number, src: Reg): Bytes {
  const s = Reg[src], b = Reg[base];
  return [0x66, ...rex(false, s, b), 0x89, ...memOperand(s, b, disp)];
}

/** lea r64, [base + disp] — REX.W 8D /r. The address of a structure in the stack frame. */
export function leaMem(r: Reg, base: Reg, disp: number): Bytes {
  const n = Reg[r], b = Reg[base];
  return [...rex(true, n, b), 0x8d, ...memOperand(n, b, disp)];
}

/**
 * mov r64, imm64 — REX.W B8+r io. For the values with bit 63 set that EFI error statuses are.
 * The immediate is a bigint so that all 64 bits survive.
 */
export function movImm64(r: Reg, imm: bigint): Bytes {
  if (imm < 0n || imm > 0xffff_ffff_ffff_ffffn) throw new RangeError(`imm64 out of range: ${imm}`);
  const n = Reg[r];
  const bytes: number[] = [];
  for (let i = 0n; i < 8n; i++) bytes.push(Number((imm >> (i * 8n)) & 0xffn));
  return [...rex(true, 0, n), 0xb8 + (n & 7), ...bytes];
}

/** test r64, r64 — REX.W 85 /r. Sets ZF when the register is 0 (EFI_SUCCESS). */
export function testRegReg(r: Reg): Bytes {
  const n = Reg[r];
  return [...rex(true, n, n), 0x85, modrm(0b11, n, n)];
}

/** dec r64 — REX.W FF /1. */
export function decReg(r: Reg): Bytes {
  const n = Reg[r];
  return [...rex(true, 0, n), 0xff, modrm(0b11, 1, n)];
}

/** The group-1 ALU operations with an 8-bit immediate (83 /digit ib, sign-extended). */
const ALU_IMM8 = { add: 0, and: 4, sub: 5, cmp: 7 } as const;
export type AluOp = keyof typeof ALU_IMM8;

/** op r64, imm8 — REX.W 83 /digit ib: add, and, sub or cmp with a small constant (-128..127). */
export function aluImm8(op: AluOp, r: Reg, imm: number): Bytes {
  if (!fitsInt8(imm)) throw new RangeError(`imm8 out of range: ${imm}`);
  const n = Reg[r];
  return [...rex(true, 0, n), 0x83, modrm(0b11, ALU_IMM8[op], n), imm & 0xff];
}

/** cmp dword [base + disp], imm8 — 83 /7 ib. Checks an enum field the firmware filled in. */
export function cmpMemImm8(base: Reg, disp: number, imm: number): Bytes {
  if (!fitsInt8(imm)) throw new RangeError(`imm8 out of range: ${imm}`);
  const b = Reg[base];
  return [...rex(false, 0, b), 0x83, ...memOperand(7, b, disp), imm & 0xff];
}

/** shr r64, imm8 — REX.W C1 /5 ib. */
export function shrImm8(r: Reg, imm: number): Bytes {
  if (!Number.isInteger(imm) || imm < 0 || imm > 63) throw new RangeError(`shift out of range: ${imm}`);
  const n = Reg[r];
  return [...rex(true, 0, n), 0xc1, modrm(0b11, 5, n), imm];
}

/** Conditions for `Asm.jcc` (the low nibble of 0F 8x). */
const CONDITION = { b: 0x2, ae: 0x3, e: 0x4, z: 0x4, ne: 0x5, nz: 0x5, be: 0x6, a: 0x7 } as const;
export type Condition = keyof typeof CONDITION;

/** int3 — CC. Used as padding: if execution ever strays into it, it traps instead of sliding on. */
export const INT3 = 0xcc;

/**
 * A straight-line code buffer with labels. Code comes first, data (`data`) after it; `leaRip`
 * references a label and `link` fills in every disp32 once all labels are known. Offsets are
 * relative to the buffer start, and since the reference and its target move together when the
 * firmware loads the image, the displacement is independent of the load address.
 */
export class Asm {
  readonly #bytes: number[] = [];
  readonly #labels = new Map<string, number>();
  /** Where each pending disp32 field starts; RIP-relative base is field + 4 (end of instruction). */
  readonly #fixups: { label: string; field: number }[] = [];

  /** Current offset from the start of the buffer. */
  get offset(): number {
    return this.#bytes.length;
  }

  /** Appends already-encoded instructions. */
  emit(...instructions: Bytes[]): this {
    for (const ins of instructions) this.#bytes.push(...ins);
    return this;
  }

  /** lea r64, [rip + label]. */
  leaRip(r: Reg, label: string): this {
    return this.#rel32(leaRipRel(r, 0).slice(0, -4), label);
  }

  /** A rel32 to `label` as the last 4 bytes of `opcode`: the same fix-up as `leaRip`. */
  #rel32(opcode: Bytes, label: string): this {
    this.emit([...opcode, 0, 0, 0, 0]);
    this.#fixups.push({ label, field: this.#bytes.length - 4 });
    return this;
  }

  /** jmp rel32 — E9 cd. */
  jmp(label: string): this {
    return this.#rel32([0xe9], label);
  }

  /** jcc rel32 — 0F 8x cd: jump to `label` when `condition` holds. */
  jcc(condition: Condition, label: string): this {
    return this.#rel32([0x0f, 0x80 | CONDITION[condition]], label);
  }

  /** Names the current offset. */
  label(name: string): this {
    if (this.#labels.has(name)) throw new Error(`label defined twice: ${name}`);
    this.#labels.set(name, this.#bytes.length);
    return this;
  }

  /** Pads with int3 up to a multiple of `n` bytes. */
  align(n: number): this {
    while (this.#bytes.length % n !== 0) this.#bytes.push(INT3);
    return this;
  }

  /** Places a labelled data blob at the current offset. */
  data(name: string, bytes: Uint8Array | Bytes): this {
    this.label(name);
    this.#bytes.push(...bytes);
    return this;
  }

  /** Resolves every RIP-relative reference and returns the finished bytes. */
  link(): Uint8Array<ArrayBuffer> {
    const out = Uint8Array.from(this.#bytes);
    const view = new DataView(out.buffer);
    for (const { label, field } of this.#fixups) {
      const target = this.#labels.get(label);
      if (target === undefined) throw new Error(`undefined label: ${label}`);
      view.setInt32(field, target - (field + 4), true);
    }
    return out;
  }
}
