import { expect, test } from "bun:test";
import { initialState } from "../../src/core/job.ts";
import { createStore } from "../../src/core/store.ts";
import { logLines } from "../../src/ui/log-lines.ts";

test("one readable line per state change, none for changes that keep the state", () => {
  const store = createStore(initialState([{ name: "a.efi", size: 2048, bootType: "application/efi", source: "u" }], { downloadMs: 1000, runMs: 5000 }));
  const lines: string[] = [];
  store.subscribe((change) => lines.push(...logLines(change)));
  store.dispatch({ type: "boot-requested", ip: "10.0.0.7", download: false, at: 0 });
  store.dispatch({ type: "boot-requested", ip: "10.0.0.7", download: false, at: 1 }); // retry: no line
  store.dispatch({ type: "boot-requested", ip: "10.0.0.7", download: true, at: 2 });
  store.dispatch({ type: "download-progressed", ip: "10.0.0.7", name: "a.efi", bytes: 10, at: 3 }); // no line
  store.dispatch({ type: "tick", at: 5000 });
  expect(lines).toEqual([
    "📌 a.efi assigned to 10.0.0.7",
    "📥 a.efi downloading to 10.0.0.7 (2.0 KiB, application/efi)",
    "⏳ a.efi freed from 10.0.0.7 after 1s without activity: back in the queue",
  ]);
});
