import { afterEach, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POWEROFF_MESSAGE, poweroffEfi } from "../../src/efi/poweroff.ts";
import { Secret } from "../../src/lab/types.ts";
import { redfishDriver } from "../../src/power/redfish/index.ts";
import { emulatorCertificate } from "../redfish-emulator/certificate.ts";
import { startRedfishEmulator } from "../redfish-emulator/index.ts";
import { qemuSystem } from "../redfish-emulator/qemu-system.ts";
import { until } from "../support/until.ts";
import { missingForQemu, qemuRequired, skipMessage } from "./support/prerequisites.ts";

/**
 * The Redfish driver powers a real firmware through the emulated BMC: pointAt writes
 * HttpBootUri, On starts OVMF in QEMU with that URL as its boot file, OVMF HTTP-boots
 * poweroff.efi from a server on loopback, and the guest switching itself off is Off by the BMC's
 * word. One VM boot (each costs 40 s or more under TCG).
 */

const missing = missingForQemu();
if (missing.length) console.warn(skipMessage("the Redfish QEMU scenario", missing));
if (qemuRequired) test("QEMU prerequisites are installed", () => expect(missing).toEqual([]));

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

test.skipIf(missing.length > 0)(
  "pointAt + On boot OVMF from the HttpBootUri; poweroff.efi makes the BMC say Off",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "dispatch-redfish-qemu-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const served: string[] = [];
    const files = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const path = new URL(request.url).pathname;
        served.push(`${request.method} ${path}`);
        if (path !== "/boot/poweroff.efi") return new Response("not here", { status: 404 });
        return new Response(request.method === "HEAD" ? null : poweroffEfi, {
          headers: { "content-type": "application/efi", "content-length": String(poweroffEfi.byteLength) },
        });
      },
    });
    cleanup.push(() => files.stop(true));

    const tls = await emulatorCertificate(join(dir, "tls"));
    const system = qemuSystem({ name: "redfish-vm", dir });
    cleanup.push(() => system.off());
    const bmc = await startRedfishEmulator({ user: "admin", password: "vm-password", tls, system });
    cleanup.push(() => bmc.stop());
    const driver = redfishDriver({ kind: "redfish", bmc: bmc.url, user: "admin", password: new Secret("vm-password"), tlsVerify: true, ca: tls.caPath });

    expect((await driver.check()).power).toBe("off");
    // The guest reaches the host as 10.0.2.2 on QEMU's user network.
    const url = `http://10.0.2.2:${files.port}/boot/poweroff.efi`;
    expect(await driver.pointAt(url)).toBe("UefiHttp + HttpBootUri, Continuous");
    await driver.on();
    expect(await driver.powerState()).toBe("on");

    // A hang guard, not a timing check: TCG firmware slows with the machine's load.
    await until(async () => (await driver.powerState()) === "off", "the BMC saying Off after poweroff.efi", {
      timeoutMs: 360_000,
      everyMs: 1_000,
      context: () => `served: ${served.join(", ")}`,
    });
    expect(system.exits).toEqual([0]);
    expect(served).toContain("GET /boot/poweroff.efi");
    expect(await system.vm()!.serial()).toContain(POWEROFF_MESSAGE);

    await driver.restore();
    expect(bmc.boot()).toMatchObject({ BootSourceOverrideTarget: "None", HttpBootUri: null });
    await driver.close();
    expect(bmc.sessions.live()).toBe(0);
  },
  400_000,
);
