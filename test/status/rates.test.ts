import { describe, expect, test } from "bun:test";
import { initialState } from "../../src/core/job.ts";
import { createStore } from "../../src/core/store.ts";
import { rateFrom, trackRates } from "../../src/status/rates.ts";

describe("download speed", () => {
  test("is measured over the window, from the last sample before it to the newest", () => {
    const samples = [0, 250, 500, 750, 1000].map((at, i) => ({ at, bytes: i * 1000 }));
    expect(rateFrom(samples, 1000, 3000)).toBe(4000);
    // With a 500 ms window the base is the sample at 500.
    expect(rateFrom(samples, 1000, 500)).toBe(4000);
    expect(rateFrom([{ at: 0, bytes: 0 }], 1000)).toBeUndefined();
    expect(rateFrom([], 1000)).toBeUndefined();
  });

  test("decays while a download stalls, and is zero once the window holds nothing new", () => {
    const samples = [
      { at: 0, bytes: 0 },
      { at: 1000, bytes: 4000 },
    ];
    expect(rateFrom(samples, 1000, 3000)).toBe(4000);
    expect(rateFrom(samples, 2000, 3000)).toBe(2000);
    expect(rateFrom(samples, 4500, 3000)).toBe(0);
  });

  test("follows the store's progress events per job, and forgets a job that leaves downloading", () => {
    const workload = { name: "a.efi", size: 100_000, bootType: "application/efi" as const, source: "x" };
    const store = createStore(initialState([workload], { downloadMs: 10_000, runMs: 60_000 }));
    const rates = trackRates(store, 3000);
    store.dispatch({ type: "boot-requested", ip: "10.0.0.1", at: 1000, download: true });
    expect(rates.rate("a.efi", 1000)).toBeUndefined();
    for (let i = 1; i <= 8; i++) store.dispatch({ type: "download-progressed", ip: "10.0.0.1", name: "a.efi", bytes: 2500, at: 1000 + i * 250 });
    // 20,000 bytes in 2 s, measured from the GET.
    expect(rates.rate("a.efi", 3000)).toBe(10_000);
    // A later reading uses only the last 3 s.
    for (let i = 9; i <= 20; i++) store.dispatch({ type: "download-progressed", ip: "10.0.0.1", name: "a.efi", bytes: 5000, at: 1000 + i * 250 });
    expect(rates.rate("a.efi", 6000)).toBe(20_000);
    store.dispatch({ type: "tick", at: 30_000 }); // quiet too long: freed
    expect(store.state.jobs[0]!.phase.state).toBe("unassigned");
    expect(rates.rate("a.efi", 30_000)).toBeUndefined();
    rates.stop();
  });
});
