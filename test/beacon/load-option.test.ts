import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { fromEfivars } from "../../src/beacon/discover/efivars.ts";
import { bootVariableName, parseLoadOption, parseOptionNumbers } from "../../src/beacon/load-option.ts";
import { efivarsDir, optionNumbers, realOption, uriDir, withUri } from "./support/load-options.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const dir = (...args: Parameters<typeof efivarsDir>) => {
  const d = efivarsDir(...args);
  dirs.push(d);
  return d;
};

describe("load options OVMF wrote", () => {
  test("the HTTP-boot options end in a URI node the firmware left empty (its URL came from DHCP)", () => {
    expect(parseLoadOption(realOption("Boot0001"))).toEqual({ attributes: 1, description: "UEFI HTTPv4 (MAC:525400123456)", uri: "" });
    expect(parseLoadOption(realOption("Boot0002"))).toEqual({ attributes: 1, description: "UEFI HTTPv6 (MAC:525400123456)", uri: "" });
  });

  test("the setup UI and the shell are not HTTP boot", () => {
    expect(parseLoadOption(realOption("Boot0000"))).toEqual({ attributes: 0x109, description: "UiApp" });
    expect(parseLoadOption(realOption("Boot0003"))).toEqual({ attributes: 1, description: "EFI Internal Shell" });
  });

  test("BootOrder", () => {
    expect(parseOptionNumbers(realOption("BootOrder"))).toEqual([0, 1, 2, 3]);
    expect([0, 1, 0x1a, 0xbeef].map(bootVariableName)).toEqual(["Boot0000", "Boot0001", "Boot001A", "BootBEEF"]);
  });

  test("a boot URI set in the setup UI: OVMF's option holds it (with a NUL the parser drops)", () => {
    const bytes = realOption("Boot0004", uriDir);
    expect(bytes.at(-5)).toBe(0); // the NUL OVMF writes after the URI, before the end node
    expect(parseLoadOption(bytes)).toEqual({ attributes: 1, description: "UEFI HTTP", uri: "http://192.0.2.1:8080/dispatch" });
    expect(parseOptionNumbers(realOption("BootOrder", uriDir))).toEqual([0, 1, 2, 3, 4]);
  });

  test("the same option with another URI in its node gives that URI verbatim", () => {
    const uri = "http://192.0.2.1:8080/dispatch?x=1";
    expect(parseLoadOption(withUri(uri, "lab"))).toEqual({ attributes: 1, description: "lab", uri });
  });
});

/** A copy of `option` whose first device path node claims `length` bytes. */
function firstNodeLength(option: Uint8Array, length: number): Uint8Array {
  const bytes = option.slice();
  let at = 6;
  while (bytes[at] !== 0 || bytes[at + 1] !== 0) at += 2;
  new DataView(bytes.buffer).setUint16(at + 2 + 2, length, true);
  return bytes;
}

describe("damaged load options are refused with the reason", () => {
  const good = withUri("http://192.0.2.1/dispatch");
  test.each([
    ["too short", good.subarray(0, 5), /at least 6 bytes/],
    ["description without NUL", new Uint8Array([1, 0, 0, 0, 4, 0, 65, 0, 66]), /no terminating NUL/],
    ["path cut short", good.subarray(0, good.length - 40), /device path is said to be/],
    ["first node's length 0", firstNodeLength(withUri("http://x/"), 0), /bad length/],
    ["first node longer than the path", firstNodeLength(withUri("http://x/"), 0x7fff), /bad length/],
  ])("%s", (_, bytes, message) => {
    expect(() => parseLoadOption(bytes)).toThrow(message);
  });
});

describe("finding dispatch in efivarfs", () => {
  test("OVMF's own variables: nothing to use, and -v says why", async () => {
    const found = await fromEfivars(dir());
    expect(found.candidates).toEqual([]);
    expect(found.notes.join("\n")).toContain('Boot0001 "UEFI HTTPv4 (MAC:525400123456)": HTTP boot with an empty URI');
  });

  test("OVMF's variables with a boot URI set: that URI, from the option that holds it", async () => {
    const found = await fromEfivars(uriDir);
    expect(found.candidates).toEqual([{ url: "http://192.0.2.1:8080/dispatch", from: 'Boot0004 "UEFI HTTP"' }]);
  });

  test("the option booted from first, then BootOrder, then the rest", async () => {
    const d = dir({
      Boot0004: withUri("http://192.0.2.4:8080/dispatch", "four"),
      Boot0005: withUri("http://192.0.2.5:8080/dispatch", "five"),
      Boot0007: withUri("http://192.0.2.7:8080/dispatch", "seven"),
      BootOrder: optionNumbers(0, 5, 1, 4),
      BootCurrent: optionNumbers(7),
    });
    const found = await fromEfivars(d);
    expect(found.candidates).toEqual([
      { url: "http://192.0.2.7:8080/dispatch", from: 'Boot0007 "seven" (booted from)' },
      { url: "http://192.0.2.5:8080/dispatch", from: 'Boot0005 "five"' },
      { url: "http://192.0.2.4:8080/dispatch", from: 'Boot0004 "four"' },
    ]);
  });

  test("a damaged variable is skipped with a note, the others still count", async () => {
    const d = dir({ Boot0009: new Uint8Array([1, 0]), Boot000A: withUri("http://192.0.2.10/dispatch") });
    const found = await fromEfivars(d);
    expect(found.candidates.map((c) => c.url)).toEqual(["http://192.0.2.10/dispatch"]);
    expect(found.notes.join("\n")).toContain("Boot0009: not a load option");
  });

  test("no efivarfs mounted", async () => {
    const found = await fromEfivars("/nonexistent/efivars");
    expect(found).toEqual({ candidates: [], notes: ["no firmware variables at /nonexistent/efivars (ENOENT)"] });
  });
});
