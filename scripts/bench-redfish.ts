/**
 * 24 emulated Redfish BMCs (in-memory systems, no VMs), each on its own HTTPS port: the driver
 * takes every one from check to pointed and powered on, all at once (power_on_spacing 0).
 * Prints the wall time and the BMC calls made per server. A benchmark, not a test:
 * `bun scripts/bench-redfish.ts [servers] [quirk,quirk…]`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secret } from "../src/lab/types.ts";
import { redfishDriver } from "../src/power/redfish/index.ts";
import { emulatorCertificate } from "../test/redfish-emulator/certificate.ts";
import { type Quirks, startRedfishEmulator } from "../test/redfish-emulator/index.ts";
import { memorySystem } from "../test/redfish-emulator/system.ts";

const count = Number(process.argv[2] ?? 24);
const quirks = Object.fromEntries((process.argv[3] ?? "").split(",").filter(Boolean).map((q) => [q, q === "tasks" ? 2 : true])) as Quirks;
const dir = await mkdtemp(join(tmpdir(), "dispatch-bench-redfish-"));
try {
  const tls = await emulatorCertificate(dir);
  const password = "bench-password";
  const systems = Array.from({ length: count }, () => memorySystem());
  const bmcs = await Promise.all(systems.map((system) => startRedfishEmulator({ user: "admin", password, tls, system, quirks })));
  const drivers = bmcs.map((bmc) => redfishDriver({ kind: "redfish", bmc: bmc.url, user: "admin", password: new Secret(password), tlsVerify: true, ca: tls.caPath }));
  const started = performance.now();
  const checked = await Promise.all(drivers.map((d) => d.check()));
  const afterCheck = performance.now();
  await Promise.all(drivers.map(async (d, i) => {
    await d.pointAt(`http://192.0.2.1:8080/dispatch/${i}`);
    await d.on();
  }));
  const done = performance.now();
  const on = systems.filter((s) => s.power() === "On").length;
  if (checked.some((c) => c.power !== "off")) throw new Error("every emulated server starts off");
  const calls = bmcs.map((b) => b.requests.length);
  const kinds = new Map<string, number>();
  for (const r of bmcs[0]!.requests) {
    const key = `${r.method} ${r.path.replace(/\/\d+(?=\/|$)/g, "/{id}")}`;
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
  }
  await Promise.all(drivers.map((d) => d.close()));
  const perServer = bmcs.map((b) => b.requests.length);
  console.log(`${count} emulated Redfish BMCs (HTTPS on loopback, in-memory systems${Object.keys(quirks).length ? `, quirks ${Object.keys(quirks).join(", ")}` : ""}), spacing 0`);
  console.log(`check of all:                 ${(afterCheck - started).toFixed(0)} ms`);
  console.log(`check → all pointed and on:   ${(done - started).toFixed(0)} ms (${on} servers switched on)`);
  console.log(`BMC calls per server to on:   min ${Math.min(...calls)}, max ${Math.max(...calls)}; with the session's deletion at close: ${Math.max(...perServer)}`);
  console.log("calls of one server:");
  for (const [key, n] of kinds) console.log(`  ${String(n).padStart(2)}  ${key}`);
  await Promise.all(bmcs.map((b) => b.stop()));
} finally {
  await rm(dir, { recursive: true, force: true });
}
