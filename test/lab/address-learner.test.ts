import { expect, test } from "bun:test";
import { addressLearner } from "../../src/app/lab.ts";
import { initialState } from "../../src/core/job.ts";
import { defaultLabRules, initialLab } from "../../src/core/lab.ts";
import { createStore } from "../../src/core/store.ts";
import type { Neighbour } from "../../src/lab/neighbours.ts";

// A server given by `mac = …` that was off at start has no address yet: the first request from
// an address whose MAC (by the neighbour table) is its MAC makes that address its own.

const workload = { name: "a.efi", size: 1000, bootType: "application/efi" as const, source: "a" };

function store() {
  const lab = initialLab(
    [
      { name: "by-mac", ip: "", mac: "52:54:00:00:00:01", power: "off", once: false },
      { name: "by-ip", ip: "192.0.2.20", power: "off", once: false },
    ],
    defaultLabRules,
  );
  return createStore(initialState([workload], { downloadMs: 300_000, runMs: 3_600_000 }, lab));
}

test("an unknown address whose MAC is a lab server's becomes its address, once; others change nothing", async () => {
  const s = store();
  let reads = 0;
  const table: Neighbour[] = [
    { ip: "192.0.2.30", mac: "52:54:00:00:00:09", device: "lab0" },
    { ip: "192.0.2.31", mac: "52:54:00:00:00:01", device: "lab0" },
  ];
  const learn = addressLearner(s, async () => (reads++, table), () => 1000);
  await learn("192.0.2.20"); // a known lab server: the table is not even read
  expect(reads).toBe(0);
  await learn("192.0.2.30"); // a MAC no lab server has
  expect(s.state.lab!.servers[0]!.ip).toBe("");
  await learn("192.0.2.31");
  expect(s.state.lab!.servers[0]).toMatchObject({ name: "by-mac", ip: "192.0.2.31" });
  // Learned: no more reads for anyone.
  const before = reads;
  await learn("192.0.2.77");
  expect(reads).toBe(before);
  // The boot request that follows is this server's: it is up.
  s.dispatch({ type: "boot-requested", at: 1001, ip: "192.0.2.31", download: false });
  expect(s.state.lab!.servers[0]!.askedAt).toBe(1001);
});
