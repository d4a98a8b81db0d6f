import { expect, test } from "bun:test";
import { parseBind } from "../../src/cli/bind.ts";
import { parseDuration } from "../../src/core/duration.ts";

test("bind addresses: IPv4, IPv6 in brackets, bare port", () => {
  expect(parseBind("0.0.0.0:8080")).toEqual({ hostname: "0.0.0.0", port: 8080 });
  expect(parseBind("[::]:8080")).toEqual({ hostname: "::", port: 8080 });
  expect(parseBind("[fe80::1]:80")).toEqual({ hostname: "fe80::1", port: 80 });
  expect(parseBind("127.0.0.2:0")).toEqual({ hostname: "127.0.0.2", port: 0 });
  expect(parseBind("9000")).toEqual({ hostname: "0.0.0.0", port: 9000 });
  expect(parseBind(":9000")).toEqual({ hostname: "0.0.0.0", port: 9000 });
  for (const bad of ["", "host", "1.2.3.4:99999", "::1:80", "1.2.3.4:x"]) expect(() => parseBind(bad)).toThrow(/--bind/);
});

test("durations", () => {
  expect(parseDuration("90s", "--x")).toBe(90_000);
  expect(parseDuration("5m", "--x")).toBe(300_000);
  expect(parseDuration("1h30m", "--x")).toBe(5_400_000);
  expect(parseDuration("250ms", "--x")).toBe(250);
  expect(parseDuration("30", "--x")).toBe(30_000);
  for (const bad of ["", "5 minutes", "m5", "5m garbage"]) expect(() => parseDuration(bad, "--x")).toThrow(/--x/);
});
