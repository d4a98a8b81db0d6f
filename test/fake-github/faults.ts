// Fault knobs: consuming `failNext` rules.

import type { FailRule, FaultRoute, Faults } from "./types.ts";

/**
 * Takes the first live `failNext` rule for `route` (one still letting requests pass counts
 * one down and lets this one pass), decrementing its `times`
 * and removing it from the (mutable) array once used up. Rules with `times <= 0` are dropped unused.
 */
export function takeFault(faults: Faults, route: FaultRoute): FailRule | undefined {
  for (let i = 0; i < faults.failNext.length; i++) {
    const rule = faults.failNext[i]!;
    if (rule.route !== route) continue;
    if (!(rule.times > 0)) {
      faults.failNext.splice(i--, 1);
      continue;
    }
    if (rule.after !== undefined && rule.after > 0) {
      rule.after -= 1;
      continue;
    }
    rule.times -= 1;
    if (rule.times <= 0) faults.failNext.splice(i, 1);
    return rule;
  }
  return undefined;
}

/** Consumes one use of the cut fault; returns the byte count to cut a body of `length` at, if any. */
export function takeCut(faults: Faults, length: number): number | undefined {
  const cut = faults.cutStorageAfterBytes;
  if (cut === undefined || !(cut >= 0) || cut >= length) return undefined;
  if (faults.cutStorageTimes !== undefined) {
    faults.cutStorageTimes -= 1;
    if (faults.cutStorageTimes <= 0) {
      delete faults.cutStorageAfterBytes;
      delete faults.cutStorageTimes;
    }
  }
  return Math.floor(cut);
}
