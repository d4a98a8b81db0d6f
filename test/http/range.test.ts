import { expect, test } from "bun:test";
import { parseRange } from "../../src/http/range.ts";

test("single ranges, open-ended and suffix ranges, clamped to the size", () => {
  expect(parseRange(undefined, 100)).toEqual({ kind: "full" });
  expect(parseRange("bytes=0-9", 100)).toEqual({ kind: "partial", start: 0, end: 9 });
  expect(parseRange("bytes=90-", 100)).toEqual({ kind: "partial", start: 90, end: 99 });
  expect(parseRange("bytes=90-500", 100)).toEqual({ kind: "partial", start: 90, end: 99 });
  expect(parseRange("bytes=-10", 100)).toEqual({ kind: "partial", start: 90, end: 99 });
  expect(parseRange("bytes=-1000", 100)).toEqual({ kind: "partial", start: 0, end: 99 });
});

test("several ranges get the whole body; malformed or impossible ones are refused", () => {
  expect(parseRange("bytes=0-1,5-6", 100)).toEqual({ kind: "full" });
  for (const bad of ["bytes=100-", "bytes=5-4", "bytes=-0", "bytes=-", "items=0-1", "bytes=a-b", "bytes 0-1"]) {
    expect(parseRange(bad, 100).kind).toBe("unsatisfiable");
  }
});
