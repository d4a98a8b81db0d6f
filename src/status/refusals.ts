import type { Store } from "../core/store.ts";

/** A `beacon boot` or `beacon report` answered 417, as the views list it. */
export type RefusalView = { readonly at: string; readonly ip: string; readonly call: "boot" | "report"; readonly reason: string };

/** How many refusals the views keep: enough to see a pattern, little enough to send on every update. */
const kept = 20;

export type Refusals = { list(): readonly RefusalView[]; stop(): void };

/**
 * The last beacon calls refused, newest last. The reducer decides and says why (its `not-mine`
 * outcome); this only remembers the answers for people, so no 417 goes unseen.
 */
export function trackRefusals(store: Store): Refusals {
  let list: RefusalView[] = [];
  const stop = store.subscribe(({ event, outcome }) => {
    if (outcome.kind !== "not-mine" || (event.type !== "booted" && event.type !== "reported")) return;
    const call = event.type === "booted" ? "boot" : "report";
    list = [...list.slice(-(kept - 1)), { at: new Date(event.at).toISOString(), ip: event.ip, call, reason: outcome.reason }];
  });
  return { list: () => list, stop };
}
