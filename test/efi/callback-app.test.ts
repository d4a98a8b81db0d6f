import { describe, expect, test } from "bun:test";
import { callbackApp } from "../../src/efi/callback-app.ts";
import { disassemblePe, objdump } from "./objdump.ts";
import { parsePe } from "./parse-pe.ts";

// What the program does in firmware is proven by OVMF in QEMU (test/qemu/demo.test.ts); these
// check the image against the spec's numbers, written here independently of the generator.

const options = {
  name: "t-1",
  message: "running",
  url: "http://10.0.2.2:8080/dispatch",
  report: { title: "t-1 ran — é", body: "line 1\nline 2", labels: ["demo"] },
  local: { address: "10.0.2.15", subnet: "255.255.255.0" },
};

/** A GUID as the spec writes it, stored as EFI_GUID (first three fields little-endian). */
function guidBytes(text: string): Buffer {
  const hex = text.replaceAll("-", "");
  const le = (s: string) => Buffer.from(s, "hex").reverse();
  return Buffer.concat([le(hex.slice(0, 8)), le(hex.slice(8, 12)), le(hex.slice(12, 16)), Buffer.from(hex.slice(16), "hex")]);
}

describe("callbackApp", () => {
  const image = Buffer.from(callbackApp(options));

  test("carries the HTTP service binding and HTTP protocol GUIDs (UEFI spec 2.10, §29.6)", () => {
    expect(image.indexOf(guidBytes("bdc8e6af-d9bc-4379-a72a-e0c4e75dae1c"))).toBeGreaterThan(0);
    expect(image.indexOf(guidBytes("7a59b29b-910b-4171-8242-a85a0df25b5b"))).toBeGreaterThan(0);
  });

  test("the URL as CHAR16, the report as JSON with a Content-Length in bytes", () => {
    expect(image.indexOf(Buffer.from(`${options.url}\0`, "utf16le"))).toBeGreaterThan(0);
    const json = JSON.stringify({ title: options.report.title, body: options.report.body, labels: options.report.labels });
    const at = image.indexOf(Buffer.from(json, "utf8"));
    expect(at).toBeGreaterThan(0);
    const length = Buffer.byteLength(json);
    expect(length).toBeGreaterThan(json.length); // the é and the dash take more than one byte each
    for (const header of ["Host\0", "10.0.2.2:8080\0", "Content-Type\0", "application/json\0", `Content-Length\0${length}\0`]) {
      expect(image.indexOf(Buffer.from(header, "latin1"))).toBeGreaterThan(0);
    }
  });

  test("the lines it prints, as CHAR16", () => {
    for (const line of ["t-1: running\r\n", "t-1: beacon boot and report sent, resetting\r\n", "t-1: callback failed at POST request: 0x"]) {
      expect(image.indexOf(Buffer.from(line, "utf16le"))).toBeGreaterThan(0);
    }
  });

  test("refuses what the firmware's HTTP client could not reach or send", () => {
    expect(() => callbackApp({ ...options, url: "https://10.0.2.2/dispatch" })).toThrow("http://IPv4");
    expect(() => callbackApp({ ...options, url: "http://dispatch.example:8080/dispatch" })).toThrow("http://IPv4");
    expect(() => callbackApp({ ...options, local: { address: "10.0.2", subnet: "255.255.255.0" } })).toThrow("not an IPv4 address");
  });

  test("fits in one small section", () => {
    const text = parsePe(image).sections[0];
    expect(parsePe(image).sections).toHaveLength(1);
    expect(text?.virtualSize).toBeLessThan(0x2000);
  });
});

describe.skipIf(!objdump)("callbackApp, decoded by objdump", () => {
  const { insns, format } = disassemblePe(callbackApp(options));
  // Calls through firmware tables are `call *DISP(%REG)`: each must be one the program
  // documents, at the spec's offset. (objdump decodes the data after the code too; none of
  // these options' data reads as an indirect call.)
  const calls = new Set(insns.filter((i) => /^call \*/.test(i.text)).map((i) => i.text));

  test("a PE32+ image objdump reads", () => expect(format).toBe("pei-x86-64"));

  test("calls the firmware only through the spec's table offsets", () => {
    expect([...calls].sort()).toEqual(
      [
        "call *0x8(%rcx)", // ConOut->OutputString
        "call *0x140(%r12)", // BootServices->LocateProtocol
        "call *0x0(%rcx)", // ServiceBinding->CreateChild
        "call *0x98(%r12)", // BootServices->HandleProtocol
        "call *0x8(%r13)", // Http->Configure
        "call *0x50(%r12)", // BootServices->CreateEvent
        "call *0x10(%r13)", // Http->Request
        "call *0x28(%rcx)", // Http->Poll
        "call *0x78(%r12)", // BootServices->CheckEvent
        "call *0xf8(%r12)", // BootServices->Stall
        "call *0x20(%r13)", // Http->Response
        "call *0x68(%rax)", // RuntimeServices->ResetSystem
      ].sort(),
    );
  });

  test("configures its address as stored bytes: 10.0.2.15 and 255.255.255.0", () => {
    const texts = insns.map((i) => i.text);
    expect(texts).toContain("movl $0xf02000a,0xc1(%rsp)"); // LocalAddress: 0a 00 02 0f
    expect(texts).toContain("movl $0xffffff,0xc5(%rsp)"); // LocalSubnet: ff ff ff 00
  });
});
