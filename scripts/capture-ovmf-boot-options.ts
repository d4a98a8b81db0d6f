#!/usr/bin/env bun
/**
 * Makes the load-option test data from real firmware: boots OVMF once in QEMU (user network,
 * boot URL by DHCP) against a loopback server that hands it poweroff.efi, then reads the
 * Boot#### and BootOrder variables the firmware wrote back out of the VM's varstore file and
 * writes each as efivarfs shows it (4 bytes of attributes, then the value) into the folder given.
 *
 *   bun scripts/capture-ovmf-boot-options.ts test/beacon/data/ovmf-dhcp
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poweroffEfi } from "../src/efi/poweroff.ts";
import { readVarstore } from "../test/beacon/support/varstore.ts";
import { startVm } from "../test/qemu/support/vm.ts";

const GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
const out = process.argv[2];
if (!out) throw new Error("usage: bun scripts/capture-ovmf-boot-options.ts OUTPUT_DIR");

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req) =>
    new Response(req.method === "HEAD" ? null : poweroffEfi, {
      headers: { "content-type": "application/efi", "content-length": String(poweroffEfi.length) },
    }),
});
const dir = await mkdtemp(join(tmpdir(), "dispatch-capture-"));
try {
  const vm = await startVm({ name: "capture", dir, network: { kind: "user", bootUrl: `http://10.0.2.2:${server.port}/dispatch` } });
  const code = await Promise.race([vm.exited, Bun.sleep(120_000).then(() => "timeout" as const)]);
  if (code !== 0) {
    await vm.kill();
    throw new Error(`QEMU did not power off (${code}):\n${(await vm.serial()).join("\n")}`);
  }
  const variables = readVarstore(new Uint8Array(await readFile(join(dir, "capture-vars.fd"))));
  await mkdir(out, { recursive: true });
  for (const v of variables) {
    if (v.guid !== GLOBAL || !/^Boot([0-9A-F]{4}|Order)$/.test(v.name)) continue;
    const file = new Uint8Array(4 + v.data.length);
    new DataView(file.buffer).setUint32(0, v.attributes, true);
    file.set(v.data, 4);
    await writeFile(join(out, `${v.name}-${v.guid}`), file);
    console.log(`${v.name}: ${v.data.length} bytes`);
  }
} finally {
  server.stop(true);
  await rm(dir, { recursive: true, force: true });
}
