import { expect, test } from "bun:test";
import { addSpan, coversAll } from "../../src/core/spans.ts";

test("spans merge overlapping and touching ranges, keep gaps, ignore empty ones", () => {
  let s = addSpan([], [10, 20]);
  s = addSpan(s, [30, 40]);
  expect(s).toEqual([[10, 20], [30, 40]]);
  expect(addSpan(s, [20, 30])).toEqual([[10, 40]]);
  expect(addSpan(s, [0, 5])).toEqual([[0, 5], [10, 20], [30, 40]]);
  expect(addSpan(s, [15, 35])).toEqual([[10, 40]]);
  expect(addSpan(s, [5, 5])).toBe(s);
});

test("coversAll needs one span from 0 to the end", () => {
  expect(coversAll([[0, 100]], 100)).toBe(true);
  expect(coversAll([[0, 99]], 100)).toBe(false);
  expect(coversAll([[0, 50], [51, 100]], 100)).toBe(false);
  expect(coversAll([], 0)).toBe(true);
});
