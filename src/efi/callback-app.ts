/**
 * An EFI application that calls back to dispatch the way a workload's `beacon` does, through
 * the firmware's own HTTP client (EFI_HTTP_PROTOCOL, OVMF's HttpDxe, the driver HTTP boot
 * itself uses): it prints a line, sends `POST` (beacon boot), waits, sends `PUT` with a JSON
 * report (beacon report), prints what happened, and resets so that the machine asks dispatch
 * for its next workload. `dispatch demo` serves these; no compiler or OS is involved.
 *
 * The program (MS x64 ABI, see app.ts). It never returns (it always ends in ResetSystem), so it
 * keeps its state in callee-saved registers without saving the caller's, and all structures the
 * firmware writes to live in its stack frame (the image's one section is read-only):
 *
 *   rbx = SystemTable, r12 = BootServices, r13 = EFI_HTTP_PROTOCOL, r14 = poll countdown
 *
 *   print  message
 *   LocateProtocol(&HttpServiceBindingGuid, NULL, &sb)     ; the NIC's HTTP service binding
 *   sb->CreateChild(sb, &child)
 *   HandleProtocol(child, &HttpGuid, &http)
 *   http->Configure(http, &{HTTP/1.1, IPv4, access point}) ; the lease's address, or the default
 *   CreateEvent(0, 0, NULL, NULL, &event)                  ; signalled when a token completes
 *   for (method, body) in [(POST, none), (PUT, report)]:
 *     http->Request(http, &token{event, message{request{method, url}, headers, body}})
 *     poll: http->Poll(http); CheckEvent(event), Stall(1 ms), at most `timeout` times
 *     http->Response(http, &token{event, message{response, buffer}}); poll again
 *     token.Status and the HTTP status (200) checked
 *     after the POST: Stall(work), the workload's "work"
 *   print  "…sent", Stall, ResetSystem(warm)
 *   on any failure: print which step and its EFI status, Stall, ResetSystem(warm)
 *
 * Structure layouts are the UEFI spec's (2.10, §29.6 EFI HTTP Protocol), 64-bit.
 */

import { utf16z } from "./app.ts";
import { buildPe32Plus } from "./pe.ts";
import {
  aluImm8, Asm, callMem, cmpMemImm8, decReg, jmpSelf, leaMem, movImm32, movImm64, movMemImm32, movMemImm8, movMemReg,
  movMemReg16, movRegMem, movRegReg, shrImm8, subImm32, testRegReg, zero,
} from "./x64.ts";

// EFI_SYSTEM_TABLE, EFI_BOOT_SERVICES, EFI_RUNTIME_SERVICES and protocol member offsets.
const ST_CON_OUT = 0x40;
const ST_RUNTIME_SERVICES = 0x58;
const ST_BOOT_SERVICES = 0x60;
const CON_OUT_OUTPUT_STRING = 0x08;
const BS_CREATE_EVENT = 0x50;
const BS_CHECK_EVENT = 0x78;
const BS_HANDLE_PROTOCOL = 0x98;
const BS_STALL = 0xf8;
const BS_LOCATE_PROTOCOL = 0x140;
const RT_RESET_SYSTEM = 0x68;
const SB_CREATE_CHILD = 0x00;
const HTTP_CONFIGURE = 0x08;
const HTTP_REQUEST = 0x10;
const HTTP_RESPONSE = 0x20;
const HTTP_POLL = 0x28;

const EFI_RESET_WARM = 1;
const HTTP_VERSION_11 = 1;
const HTTP_METHOD = { POST: 1, PUT: 6 } as const;
/** EFI_HTTP_STATUS_CODE is an enum in the spec's order: 0 unsupported, 100, 101, then 200. */
const HTTP_STATUS_200_OK = 3;
/** EFIERR(18): what the program reports when a token does not complete in time. */
const EFI_TIMEOUT = 0x8000_0000_0000_0012n;

/** EFI_GUID as stored: Data1 (u32), Data2, Data3 (u16) little-endian, then 8 bytes as written. */
function guid(d1: number, d2: number, d3: number, d4: readonly number[]): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setUint32(0, d1, true);
  v.setUint16(4, d2, true);
  v.setUint16(6, d3, true);
  out.set(d4, 8);
  return out;
}
const HTTP_SERVICE_BINDING_GUID = guid(0xbdc8e6af, 0xd9bc, 0x4379, [0xa7, 0x2a, 0xe0, 0xc4, 0xe7, 0x5d, 0xae, 0x1c]);
const HTTP_PROTOCOL_GUID = guid(0x7a59b29b, 0x910b, 0x4171, [0x82, 0x42, 0xa8, 0x5a, 0x0d, 0xf2, 0x5b, 0x5b]);

/** The stack frame, offsets from rsp once the prologue has run. */
const F = {
  arg5: 0x20, // the fifth argument of a call (CreateEvent's Event*)
  sb: 0x30,
  child: 0x38,
  http: 0x40,
  event: 0x48,
  token: 0x50, // EFI_HTTP_TOKEN { Event; Status; Message* }
  message: 0x68, // EFI_HTTP_MESSAGE { Data*; HeaderCount; Headers*; BodyLength; Body* }
  request: 0x90, // EFI_HTTP_REQUEST_DATA { Method (u32); Url* }
  response: 0xa0, // EFI_HTTP_RESPONSE_DATA { StatusCode (u32) }
  config: 0xa8, // EFI_HTTP_CONFIG_DATA { HttpVersion (u32); TimeOutMillisec (u32); LocalAddressIsIPv6; AccessPoint* }
  access: 0xc0, // EFI_HTTPv4_ACCESS_POINT { UseDefaultAddress; LocalAddress[4]; LocalSubnet[4]; LocalPort (u16 at +10) }
  headers: 0xd0, // EFI_HTTP_HEADER { FieldName*; FieldValue* } × MAX_HEADERS
  hex: 0x100, // "0123456789ABCDEF\r\n\0" as CHAR16: 19 × 2 bytes
  body: 0x140, // the response body
} as const;
const MAX_HEADERS = 3;
const BODY_BUFFER = 0x200;
/** Entry rsp is 8 mod 16 (the return address); this keeps calls 16-byte aligned. */
const FRAME = 0x348;
if (F.headers + MAX_HEADERS * 16 > F.hex || F.body + BODY_BUFFER > FRAME || FRAME % 16 !== 8) throw new Error("callback-app frame overlaps");

export interface CallbackAppOptions {
  /** Starts each line the program prints. */
  name: string;
  /** Printed first, after the name; "\r\n" is appended. */
  message: string;
  /** dispatch's boot URL as the guest reaches it, `http://IPv4:PORT/PATH` (the firmware resolves no names here). */
  url: string;
  /** The report sent with `PUT`, as `beacon report` would send it. */
  report: { title: string; body?: string; labels?: readonly string[] };
  /**
   * The guest's IPv4 address and netmask, when known (QEMU's user network always leases
   * 10.0.2.15/24); otherwise the firmware's default address is asked for, which needs an
   * address configured through EFI_IP4_CONFIG2 (HTTP boot's own DHCP may not set one).
   */
  local?: { address: string; subnet: string };
  /** How long the "work" takes between `beacon boot` and the report (BootServices->Stall). */
  workMicroseconds?: number;
  /** How long the program runs after its report before it resets (so the line can be read). */
  stallAfterMicroseconds?: number;
  /** Bound on each Request or Response, in milliseconds of polling. */
  timeoutMs?: number;
}

const ascii = (text: string): Uint8Array => {
  if (/[^\x20-\x7e]/.test(text)) throw new Error(`only printable ASCII goes into a request header: ${JSON.stringify(text)}`);
  return new TextEncoder().encode(`${text}\0`);
};

function ipv4(text: string): number {
  const parts = text.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${text}`);
  // Stored as 4 bytes in network order; written as one little-endian dword.
  return ((parts[3]! << 24) | (parts[2]! << 16) | (parts[1]! << 8) | parts[0]!) >>> 0;
}

/** Machine code and data of the program above. */
export function callbackAppCode(options: CallbackAppOptions): Uint8Array<ArrayBuffer> {
  const url = new URL(options.url);
  if (url.protocol !== "http:" || !/^\d+\.\d+\.\d+\.\d+$/.test(url.hostname)) throw new Error(`the callback URL must be http://IPv4:PORT/PATH, got ${options.url}`);
  const body = new TextEncoder().encode(JSON.stringify({ title: options.report.title, body: options.report.body, labels: options.report.labels }));
  const pollCount = options.timeoutMs ?? 30_000; // one Stall(1 ms) per poll, so about that many ms
  const stallAfter = options.stallAfterMicroseconds ?? 1_000_000;

  const a = new Asm();
  const rsp = "rsp" as const;
  /** ConOut->OutputString(ConOut, the CHAR16 string at `label`). */
  const print = (label: string) =>
    a.emit(movRegMem("rcx", "rbx", ST_CON_OUT)).leaRip("rdx", label).emit(callMem("rcx", CON_OUT_OUTPUT_STRING));
  /** Jumps to the failure handler naming `step` unless rax is EFI_SUCCESS. */
  const failures: { label: string; step: string }[] = [];
  const check = (step: string) => {
    const label = `fail_${failures.length}`;
    failures.push({ label, step });
    a.emit(testRegReg("rax")).jcc("nz", label);
  };
  /** Polls until the token's event is signalled (bounded), then checks the token's status. */
  const waitForToken = (step: string) => {
    const loop = `poll_${failures.length}`, done = `polled_${failures.length}`;
    a.emit(movImm32("r14", pollCount)).label(loop)
      .emit(movRegReg("rcx", "r13"), callMem("rcx", HTTP_POLL))
      .emit(movRegMem("rcx", rsp, F.event), callMem("r12", BS_CHECK_EVENT), testRegReg("rax")).jcc("z", done)
      .emit(movImm32("rcx", 1000), callMem("r12", BS_STALL), decReg("r14")).jcc("nz", loop)
      .emit(movImm64("rax", EFI_TIMEOUT));
    check(`${step} (timed out)`);
    a.label(done).emit(movRegMem("rax", rsp, F.token + 8));
    check(step);
  };
  const exchange = (method: keyof typeof HTTP_METHOD, headers: readonly (readonly [string, string])[], bodyLabel?: string, bodyLength = 0) => {
    // Request: token { event, status, &message }, message { &request, headers, body }.
    a.emit(movMemImm32(rsp, F.request, HTTP_METHOD[method], 32)).leaRip("rax", "url").emit(movMemReg(rsp, F.request + 8, "rax"));
    for (let i = 0; i < headers.length; i++) {
      a.leaRip("rax", `h_${method}_${i}_name`).emit(movMemReg(rsp, F.headers + i * 16, "rax"));
      a.leaRip("rax", `h_${method}_${i}_value`).emit(movMemReg(rsp, F.headers + i * 16 + 8, "rax"));
    }
    a.emit(leaMem("rax", rsp, F.request), movMemReg(rsp, F.message, "rax"))
      .emit(movMemImm32(rsp, F.message + 8, headers.length, 64), leaMem("rax", rsp, F.headers), movMemReg(rsp, F.message + 16, "rax"))
      .emit(movMemImm32(rsp, F.message + 24, bodyLength, 64));
    if (bodyLabel) a.leaRip("rax", bodyLabel).emit(movMemReg(rsp, F.message + 32, "rax"));
    else a.emit(movMemImm32(rsp, F.message + 32, 0, 64));
    a.emit(movRegMem("rax", rsp, F.event), movMemReg(rsp, F.token, "rax"), movMemImm32(rsp, F.token + 8, 0, 64))
      .emit(leaMem("rax", rsp, F.message), movMemReg(rsp, F.token + 16, "rax"))
      .emit(movRegReg("rcx", "r13"), leaMem("rdx", rsp, F.token), callMem("r13", HTTP_REQUEST));
    check(`${method} request`);
    waitForToken(`${method} sent`);
    // Response: the same token and message, now { &response, no headers, a body buffer }.
    a.emit(movMemImm32(rsp, F.response, 0, 64), leaMem("rax", rsp, F.response), movMemReg(rsp, F.message, "rax"))
      .emit(movMemImm32(rsp, F.message + 8, 0, 64), movMemImm32(rsp, F.message + 16, 0, 64))
      .emit(movMemImm32(rsp, F.message + 24, BODY_BUFFER, 64), leaMem("rax", rsp, F.body), movMemReg(rsp, F.message + 32, "rax"))
      .emit(movMemImm32(rsp, F.token + 8, 0, 64))
      .emit(movRegReg("rcx", "r13"), leaMem("rdx", rsp, F.token), callMem("r13", HTTP_RESPONSE));
    check(`${method} response`);
    waitForToken(`${method} answered`);
    a.emit(cmpMemImm8(rsp, F.response, HTTP_STATUS_200_OK));
    const label = `fail_${failures.length}`;
    failures.push({ label, step: `${method}: dispatch did not answer 200; EFI_HTTP_STATUS_CODE` });
    a.emit(movRegMem("rax", rsp, F.response)).jcc("ne", label); // mov leaves the flags alone
  };

  const hostHeader = ["Host", url.host] as const;
  const requests = {
    POST: [hostHeader, ["Content-Length", "0"]] as const,
    PUT: [hostHeader, ["Content-Type", "application/json"], ["Content-Length", String(body.length)]] as const,
  };

  // --- Prologue and lookups.
  a.emit(subImm32(rsp, FRAME), movRegReg("rbx", "rdx"), movRegMem("r12", "rbx", ST_BOOT_SERVICES));
  print("message");
  a.leaRip("rcx", "sb_guid").emit(zero("rdx"), leaMem("r8", rsp, F.sb), callMem("r12", BS_LOCATE_PROTOCOL));
  check("LocateProtocol(HTTP service binding)");
  a.emit(movMemImm32(rsp, F.child, 0, 64), movRegMem("rcx", rsp, F.sb), leaMem("rdx", rsp, F.child), callMem("rcx", SB_CREATE_CHILD));
  check("HTTP CreateChild");
  a.emit(movRegMem("rcx", rsp, F.child)).leaRip("rdx", "http_guid").emit(leaMem("r8", rsp, F.http), callMem("r12", BS_HANDLE_PROTOCOL));
  check("HandleProtocol(HTTP)");
  a.emit(movRegMem("r13", rsp, F.http));

  // --- Configure: HTTP/1.1 over IPv4 from the given (or default) address.
  a.emit(movMemImm32(rsp, F.config, HTTP_VERSION_11, 32), movMemImm32(rsp, F.config + 4, 0, 32), movMemImm32(rsp, F.config + 8, 0, 64))
    .emit(leaMem("rax", rsp, F.access), movMemReg(rsp, F.config + 16, "rax"))
    .emit(movMemImm32(rsp, F.access, 0, 64), movMemImm32(rsp, F.access + 8, 0, 64));
  if (options.local) {
    a.emit(movMemImm32(rsp, F.access + 1, ipv4(options.local.address), 32), movMemImm32(rsp, F.access + 5, ipv4(options.local.subnet), 32));
  } else {
    a.emit(movMemImm8(rsp, F.access, 1));
  }
  a.emit(movRegReg("rcx", "r13"), leaMem("rdx", rsp, F.config), callMem("r13", HTTP_CONFIGURE));
  check("HTTP Configure");
  a.emit(zero("rcx"), zero("rdx"), zero("r8"), zero("r9"), leaMem("rax", rsp, F.event), movMemReg(rsp, F.arg5, "rax"), callMem("r12", BS_CREATE_EVENT));
  check("CreateEvent");

  // --- beacon boot, then beacon report.
  exchange("POST", requests.POST);
  if (options.workMicroseconds) a.emit(movImm32("rcx", options.workMicroseconds), callMem("r12", BS_STALL));
  exchange("PUT", requests.PUT, "body", body.length);
  print("sent");
  a.emit(movImm32("rcx", stallAfter), callMem("r12", BS_STALL)).label("reset")
    .emit(movRegMem("rax", "rbx", ST_RUNTIME_SERVICES), movImm32("rcx", EFI_RESET_WARM), zero("rdx"), zero("r8"), zero("r9"))
    .emit(callMem("rax", RT_RESET_SYSTEM), jmpSelf());

  // --- Failures: "<step> failed: EFI status 0x" + 16 hex digits, a pause, then the reset all the same.
  for (const { label } of failures) a.label(label).emit(movRegReg("r14", "rax")).leaRip("rdx", `${label}_text`).jmp("fail");
  a.label("fail").emit(movRegMem("rcx", "rbx", ST_CON_OUT), callMem("rcx", CON_OUT_OUTPUT_STRING));
  // hex[15..0] from the low nibble up; hex[16..18] = "\r\n\0".
  a.emit(movMemImm32(rsp, F.hex + 32, 0x000a000d, 32), movMemImm32(rsp, F.hex + 36, 0, 32));
  a.emit(movRegReg("rax", "r14"), leaMem("rdx", rsp, F.hex + 32), movImm32("r8", 16)).label("digit")
    .emit(movRegReg("rcx", "rax"), aluImm8("and", "rcx", 0xf), aluImm8("cmp", "rcx", 10)).jcc("b", "decimal")
    .emit(aluImm8("add", "rcx", 7)).label("decimal")
    .emit(aluImm8("add", "rcx", 0x30), aluImm8("sub", "rdx", 2), movMemReg16("rdx", 0, "rcx"), shrImm8("rax", 4), decReg("r8")).jcc("nz", "digit");
  a.emit(movRegMem("rcx", "rbx", ST_CON_OUT), leaMem("rdx", rsp, F.hex), callMem("rcx", CON_OUT_OUTPUT_STRING));
  a.emit(movImm32("rcx", 3_000_000), callMem("r12", BS_STALL)).jmp("reset");

  // --- Data.
  a.align(8).data("sb_guid", HTTP_SERVICE_BINDING_GUID).data("http_guid", HTTP_PROTOCOL_GUID);
  a.data("message", utf16z(`${options.name}: ${options.message}\r\n`)).align(2).data("url", utf16z(options.url));
  a.align(2).data("sent", utf16z(`${options.name}: beacon boot and report sent, resetting\r\n`));
  for (const { label, step } of failures) a.align(2).data(`${label}_text`, utf16z(`${options.name}: callback failed at ${step}: 0x`));
  for (const [method, headers] of Object.entries(requests)) {
    headers.forEach(([name, value], i) => a.data(`h_${method}_${i}_name`, ascii(name)).data(`h_${method}_${i}_value`, ascii(value)));
  }
  a.data("body", body);
  return a.link();
}

/** The complete PE32+ image, served as `application/efi`. */
export function callbackApp(options: CallbackAppOptions): Uint8Array<ArrayBuffer> {
  return buildPe32Plus(callbackAppCode(options));
}
