/**
 * Just enough x86-64 machine code to write tiny UEFI applications in TypeScript.
 *
 * Each encoder returns the bytes of one instruction; the mnemonic (Intel syntax) is in its
 * comment. Only the forms that `app.ts` needs exist. `Asm` strings instructions together and
 * resolves RIP-relative references to data placed after the code, so the result needs no
 * relocations and runs wherever the firmware loads it.
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
    this.emit(leaRipRel(r, 0));
    this.#fixups.push({ label, field: this.#bytes.length - 4 });
    return this;
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
