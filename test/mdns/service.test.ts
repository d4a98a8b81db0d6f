import { expect, test } from "bun:test";
import { instanceName, serviceTxt } from "../../src/mdns/service.ts";

test("instance names are dispatch- and four random hex digits", () => {
  expect(instanceName((b) => b.fill(0xab))).toBe("dispatch-abab");
  expect(instanceName((b) => (b.set([0x01, 0xf0]), b))).toBe("dispatch-01f0");
  const seen = new Set(Array.from({ length: 50 }, () => instanceName()));
  for (const name of seen) expect(name).toMatch(/^dispatch-[0-9a-f]{4}$/);
  expect(seen.size).toBeGreaterThan(40);
});

test("TXT: path, version and a one-line description that fits a DNS character-string", () => {
  expect(serviceTxt("/dispatch", "0.1.0", "dispatch:\n  workloads\tof a/b")).toEqual({
    path: "/dispatch",
    version: "0.1.0",
    description: "dispatch: workloads of a/b",
  });
  const long = serviceTxt("/dispatch", "1", "ä".repeat(300)).description!;
  expect(new TextEncoder().encode(`description=${long}`).length).toBeLessThanOrEqual(255);
  expect(long.endsWith("...")).toBe(true);
  expect(long).not.toContain("\uFFFD");
});
