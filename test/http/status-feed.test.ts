import { describe, expect, test } from "bun:test";
import { initialState } from "../../src/core/job.ts";
import { createStore } from "../../src/core/store.ts";
import { createStatusFeed } from "../../src/http/status-feed.ts";

const workload = (name: string) => ({ name, size: 10, bootType: "application/efi" as const, source: "x" });
const fresh = () => createStore(initialState(["a.efi", "b.efi", "c.efi"].map(workload), { downloadMs: 1000, runMs: 1000 }));

describe("the status feed", () => {
  test("a watcher that falls behind gets the jobs that changed, merged, not every change", () => {
    const store = fresh();
    const feed = createStatusFeed(store);
    const since = feed.version;
    store.dispatch({ type: "boot-requested", ip: "10.0.0.1", at: 1, download: false });
    store.dispatch({ type: "boot-requested", ip: "10.0.0.1", at: 2, download: true });
    for (let i = 0; i < 100; i++) store.dispatch({ type: "download-progressed", ip: "10.0.0.1", name: "a.efi", bytes: 1, at: 3 + i });
    store.dispatch({ type: "boot-requested", ip: "10.0.0.2", at: 200, download: false });
    expect(feed.version).toBe(since + 103);
    expect([...feed.changedSince(since)].sort()).toEqual(["a.efi", "b.efi"]);
    expect([...feed.changedSince(feed.version - 1)]).toEqual(["b.efi"]);
    expect(feed.changedSince(feed.version).size).toBe(0);
  });

  test("events that change nothing wake no one", async () => {
    const store = fresh();
    const feed = createStatusFeed(store);
    let woke = false;
    void feed.changed(feed.version).then(() => (woke = true));
    store.dispatch({ type: "tick", at: 1 }); // nothing times out
    await Bun.sleep(0);
    expect(woke).toBe(false);
    store.dispatch({ type: "boot-requested", ip: "10.0.0.1", at: 1, download: false });
    await Bun.sleep(0);
    expect(woke).toBe(true);
  });

  test("a refused beacon call changes no job but wakes watchers, who list refusals", async () => {
    const store = fresh();
    const feed = createStatusFeed(store);
    let woke = false;
    void feed.changed(feed.version).then(() => (woke = true));
    store.dispatch({ type: "booted", ip: "10.9.9.9", at: 1 }); // not a server we know
    await Bun.sleep(0);
    expect(woke).toBe(true);
    expect(feed.changedSince(0).size).toBe(0);
  });

  test("however many watchers wait, the store has one listener for them all", async () => {
    const store = fresh();
    let listeners = 0;
    const subscribe = store.subscribe.bind(store);
    const counted = { ...store, get state() { return store.state; }, dispatch: store.dispatch, subscribe: (l: Parameters<typeof subscribe>[0]) => (listeners++, subscribe(l)) };
    const feed = createStatusFeed(counted);
    const leaves = Array.from({ length: 1000 }, () => feed.watch());
    const woken = Array.from({ length: 1000 }, () => feed.changed(feed.version));
    store.dispatch({ type: "boot-requested", ip: "10.0.0.1", at: 1, download: false });
    await Promise.all(woken);
    expect(listeners).toBe(1);
    expect(feed.watchers).toBe(1000);
    for (const leave of leaves) leave();
    leaves[0]!(); // twice is harmless
    expect(feed.watchers).toBe(0);
  });
});
