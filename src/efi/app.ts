/**
 * Tiny EFI applications built from code: print a line on the console, optionally wait, then
 * reset or power off the machine. `poweroff.efi` is one; test workloads are others.
 *
 * The program, in Intel syntax (MS x64 ABI: args in rcx, rdx, r8, r9; the caller reserves 0x20
 * bytes of "shadow space" and keeps rsp 16-byte aligned at each call):
 *
 *   entry:  push rbx                 ; rsp was 8 mod 16 (return address); now 0 mod 16
 *           sub  rsp, 0x20           ; shadow space, alignment kept
 *           mov  rbx, rdx            ; SystemTable, in a register firmware calls preserve
 *           mov  rcx, [rbx+0x40]     ; this = SystemTable->ConOut
 *           lea  rdx, [rip+message]  ; UTF-16LE, NUL-terminated
 *           call [rcx+0x08]          ; ConOut->OutputString(this, message)
 *         ( mov  rax, [rbx+0x60]     ; SystemTable->BootServices
 *           mov  ecx, microseconds
 *           call [rax+0xF8] )        ; BootServices->Stall(microseconds), only if asked
 *           mov  rax, [rbx+0x58]     ; SystemTable->RuntimeServices
 *           mov  ecx, resetType      ; EFI_RESET_TYPE
 *           xor  edx, edx            ; ResetStatus = EFI_SUCCESS
 *           xor  r8d, r8d            ; DataSize = 0
 *           xor  r9d, r9d            ; ResetData = NULL
 *           call [rax+0x68]          ; RuntimeServices->ResetSystem: does not return
 *           jmp  $                   ; but never fall into the data if it did
 *   message: dw "...", 13, 10, 0
 *
 * Offsets are from the UEFI spec's EFI_SYSTEM_TABLE, EFI_BOOT_SERVICES, EFI_RUNTIME_SERVICES
 * and EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL layouts (64-bit: 24-byte table header, 8-byte pointers).
 */

import { buildPe32Plus } from "./pe.ts";
import { Asm, callMem, jmpSelf, movImm32, movRegMem, movRegReg, push, subImm8, zero } from "./x64.ts";

/** EFI_SYSTEM_TABLE fields. */
const ST_CON_OUT = 0x40;
const ST_RUNTIME_SERVICES = 0x58;
const ST_BOOT_SERVICES = 0x60;
/** EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL.OutputString */
const CON_OUT_OUTPUT_STRING = 0x08;
/** EFI_BOOT_SERVICES.Stall */
const BS_STALL = 0xf8;
/** EFI_RUNTIME_SERVICES.ResetSystem */
const RT_RESET_SYSTEM = 0x68;

/** EFI_RESET_TYPE values. */
const RESET_TYPE = { cold: 0, warm: 1, shutdown: 2 } as const;
export type ResetType = keyof typeof RESET_TYPE;

export interface EfiAppOptions {
  /** One line to print; "\r\n" is appended. */
  message: string;
  /** Busy-wait this long (BootServices->Stall) after printing; at most 2^32-1. */
  stallMicroseconds?: number;
  /** What to ask the firmware for once done. */
  reset: ResetType;
}

/** UTF-16LE with a terminating NUL, as EFI's CHAR16 strings are. */
export function utf16z(text: string): Uint8Array {
  const out = new Uint8Array((text.length + 1) * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < text.length; i++) view.setUint16(i * 2, text.charCodeAt(i), true);
  return out;
}

/** Machine code of the program above (the bytes of the `.text` section). */
export function efiAppCode({ message, stallMicroseconds, reset }: EfiAppOptions): Uint8Array<ArrayBuffer> {
  if (message.includes("\0")) throw new Error("message must not contain NUL: the firmware would stop there");
  const stall = stallMicroseconds ?? 0;
  if (!Number.isInteger(stall) || stall < 0 || stall > 0xffff_ffff) {
    throw new RangeError(`stallMicroseconds must be an integer in 0..2^32-1, got ${stallMicroseconds}`);
  }

  const asm = new Asm()
    .emit(push("rbx"), subImm8("rsp", 0x20), movRegReg("rbx", "rdx"))
    .emit(movRegMem("rcx", "rbx", ST_CON_OUT))
    .leaRip("rdx", "message")
    .emit(callMem("rcx", CON_OUT_OUTPUT_STRING));
  if (stall > 0) {
    asm.emit(movRegMem("rax", "rbx", ST_BOOT_SERVICES), movImm32("rcx", stall), callMem("rax", BS_STALL));
  }
  asm.emit(
    movRegMem("rax", "rbx", ST_RUNTIME_SERVICES),
    movImm32("rcx", RESET_TYPE[reset]),
    zero("rdx"),
    zero("r8"),
    zero("r9"),
    callMem("rax", RT_RESET_SYSTEM),
    jmpSelf(),
  );
  // CHAR16 strings are 2-byte aligned in the spec; 8 costs a few bytes and reads naturally.
  return asm.align(8).data("message", utf16z(`${message}\r\n`)).link();
}

/** A complete PE32+ EFI application (x86-64) doing the above, ready to serve as `application/efi`. */
export function efiApp(options: EfiAppOptions): Uint8Array<ArrayBuffer> {
  return buildPe32Plus(efiAppCode(options));
}
