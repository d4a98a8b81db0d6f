import { expect, test } from "bun:test";
import { parseArgs } from "citty";
import { args } from "../../src/cli/args.ts";
import { repeatedValues } from "../../src/cli/repeated.ts";

const interfaces = (raw: string[]) => repeatedValues(raw, args, "mdns-interface");

test("--mdns-interface can be given several times, in both spellings", () => {
  expect(interfaces(["-o", "x", "-r", "y", "--mdns-interface", "eth1", "--mdns-interface=eth2", "--mdnsInterface", "eth3"])).toEqual([
    "eth1",
    "eth2",
    "eth3",
  ]);
  expect(interfaces(["-o", "x", "-r", "y"])).toEqual([]);
});

test("values of other flags and positionals are not taken for it", () => {
  const raw = ["-o", "x", "-r", "y", "--token", "--mdns-interface", "--no-mdns", "-t", "v1", "memtest", "--mdns-interface", "eth1", "--", "--mdns-interface", "x"];
  expect(interfaces(raw)).toEqual(["eth1"]);
  // citty reads the same arguments the same way; it keeps only one value of the repeated flag.
  const parsed = parseArgs(raw, args) as Record<string, unknown>;
  expect(parsed.token).toBe("--mdns-interface");
  expect(parsed.mdns).toBe(false);
});
