import { afterAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emulatorCertificate } from "../../redfish-emulator/certificate.ts";
import { startRedfishEmulator } from "../../redfish-emulator/index.ts";
import { memorySystem } from "../../redfish-emulator/system.ts";
import { startProcess } from "../../support/processes.ts";
import { denoLaunch } from "../../runtime/deno-launch.ts";

/** Under Deno the TLS choices take other paths (an HttpClient for a CA, node:https without verification): the same driver, the same emulator. */
const launch = denoLaunch();
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

test.skipIf(!launch)("under Deno: a CA from the lab file, tls_verify = false, and an untrusted certificate refused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "dispatch-redfish-deno-"));
  dirs.push(dir);
  const tls = await emulatorCertificate(dir);
  const bmc = await startRedfishEmulator({ user: "admin", password: "deno-pw", tls, system: memorySystem() });
  try {
    const deno = startProcess([launch!.command[0]!, "run", "-A", "test/power/redfish/deno-driver.ts", bmc.url, tls.caPath], {
      cwd: launch!.cwd,
      env: { ...launch!.env, BMC_PASSWORD: "deno-pw" },
      inheritEnv: false,
    });
    expect(await deno.exited).toBe(0);
    const lines = deno.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { name: "ca", power: "off", pointed: "UefiHttp + HttpBootUri, Continuous" },
      { name: "no-verify", power: "off", pointed: "UefiHttp + HttpBootUri, Continuous" },
      { name: "system CAs", kind: "unreachable", message: expect.stringContaining("TLS certificate was not accepted") },
    ]);
    expect(bmc.sessions).toMatchObject({ created: 2, deleted: 2 });
  } finally {
    await bmc.stop();
  }
}, 60_000);
