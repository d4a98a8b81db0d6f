import { afterEach, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { POWEROFF_MESSAGE } from "../../src/efi/poweroff.ts";
import { emulatorCertificate } from "../redfish-emulator/certificate.ts";
import { startRedfishEmulator } from "../redfish-emulator/index.ts";
import { qemuSystem } from "../redfish-emulator/qemu-system.ts";
import { startDispatchProcess } from "../support/dispatch-process.ts";
import { ipmiSimProblem, startIpmiSim } from "../support/ipmi-sim.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { efiImage } from "./support/images.ts";
import { missingForQemu, qemuRequired, skipMessage } from "./support/prerequisites.ts";
import { toolEnv } from "./support/tools.ts";
import { cleanSerial, ovmfVars, qemuArgs } from "./support/vm.ts";

/**
 * dispatch --lab against real firmware, through the real CLI, nobody touching anything: a BMC
 * powers OVMF in QEMU on, the firmware HTTP-boots from dispatch, runs a workload that prints and
 * resets (it never calls back: a failed job), gets poweroff.efi, switches itself off, and the BMC
 * says so. Once with OpenIPMI's ipmi_sim (ipmitool as the client, the boot URL from QEMU's DHCP),
 * once with the project's Redfish emulator (HttpBootUri becomes the VM's boot file). One VM each.
 */

const missing = [...missingForQemu(), ...(ipmiSimProblem() ? [ipmiSimProblem()!] : [])];
if (missing.length) console.warn(skipMessage("the QEMU lab scenarios", missing));
if (qemuRequired) test("QEMU and ipmi_sim prerequisites are installed", () => expect(missing).toEqual([]));

const temp = tempDirs();
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  temp.removeAll();
});

const root = new URL("../..", import.meta.url).pathname;
const password = "lab-Pa55-in-qemu";
const message = "dispatch lab test workload: printing, then resetting";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A folder with one workload that prints and resets: it never sends `beacon boot`. */
function workloads(): string {
  const dir = temp.make("dispatch-qemu-lab-out-");
  writeFileSync(join(dir, "print-and-reset.efi"), efiImage({ message, stallMicroseconds: 1_000_000, reset: "warm" }));
  return dir;
}

async function runDispatch(labFile: string, port: number) {
  const reports = temp.make("dispatch-qemu-lab-reports-");
  const d = await startDispatchProcess(
    { command: [process.execPath, "src/main.ts"], cwd: root, env: { ...toolEnv, HOME: temp.make("dispatch-home-"), BMC_PASSWORD: password } },
    [
      "--dir", workloads(), "--reports", reports, "--lab", labFile, "--bind", `127.0.0.1:${port}`, "--no-mdns", "--log-format", "plain",
      "--exit-when-done", "--retries", "0", "--file-failures", "--boot-timeout", "5m",
    ],
    { timeoutMs: 60_000 },
  );
  cleanup.push(() => d.stop());
  return { d, reports };
}

test.skipIf(missing.length > 0)(
  "IPMI (ipmi_sim): powered on, boots from dispatch, handed poweroff.efi, off by the BMC's word; the password on no command line",
  async () => {
    const dir = temp.make("dispatch-qemu-ipmi-");
    const port = await freePort();
    const vars = join(dir, "vars.fd");
    writeFileSync(vars, readFileSync(ovmfVars));
    const serial = join(dir, "serial.log");
    // The machine ipmi_sim starts at power-on: OVMF whose DHCP hands out dispatch's boot URL.
    const machine = qemuArgs({ name: "ipmi-vm", dir, network: { kind: "user", bootUrl: `http://10.0.2.2:${port}/dispatch` } }, vars, serial);
    const sim = await startIpmiSim({ dir, machine, password, poweroffWaitS: 2 });
    cleanup.push(() => sim.stop());
    const lab = join(dir, "lab.toml");
    writeFileSync(lab, `[[server]]\nname = "ipmi-vm"\nip = "127.0.0.1"\npower = "ipmi"\nbmc = "127.0.0.1:${sim.port}"\nuser = "${sim.user}"\npassword_env = "BMC_PASSWORD"\ncipher = 3\n`);

    const { d, reports } = await runDispatch(lab, port);
    await d.waitFor("🔌 ipmi-vm: powering on done", 60_000);
    expect(sim.power()).toBe("on");
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      try {
        expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(password);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT" && (error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    }
    expect(await d.exited).toBe(1); // the workload never called back: its job failed
    const output = (await d.streams).stdout;
    expect(output).toContain("ipmi-vm  127.0.0.1");
    expect(output).toContain("gets poweroff.efi");
    expect(output).toContain("💤 ipmi-vm is off (poweroff.efi), by its BMC's word");
    expect(output).not.toContain(password);
    expect(sim.power()).toBe("off");
    const lines = cleanSerial(readFileSync(serial, "latin1"));
    expect(lines).toContain(message);
    expect(lines).toContain(POWEROFF_MESSAGE);
    expect(readdirSync(reports).some((n) => n.endsWith(".failed.md"))).toBe(true);
  },
  400_000,
);

test.skipIf(missing.length > 0)(
  "Redfish (emulator): HttpBootUri set to the lab file's url, OVMF boots from dispatch, poweroff.efi makes the BMC say Off; settings restored, session ended",
  async () => {
    const dir = temp.make("dispatch-qemu-redfish-");
    const port = await freePort();
    const tls = await emulatorCertificate(join(dir, "tls"));
    const system = qemuSystem({ name: "redfish-vm", dir });
    cleanup.push(() => system.off());
    const bmc = await startRedfishEmulator({ user: "admin", password, tls, system });
    cleanup.push(() => bmc.stop());
    const lab = join(dir, "lab.toml");
    // The VM reaches the jump host as 10.0.2.2 on QEMU's user network: the lab file says so.
    writeFileSync(
      lab,
      `[[server]]\nname = "redfish-vm"\nip = "127.0.0.1"\npower = "redfish"\nbmc = "${bmc.url}"\nuser = "admin"\npassword_env = "BMC_PASSWORD"\nca = "${tls.caPath}"\nurl = "http://10.0.2.2:${port}/dispatch"\n`,
    );

    const { d, reports } = await runDispatch(lab, port);
    expect(await d.exited).toBe(1); // the workload never called back: its job failed
    const output = (await d.streams).stdout;
    expect(output).toContain("UefiHttp + HttpBootUri, Continuous");
    expect(output).toContain("💤 redfish-vm is off (poweroff.efi), by its BMC's word");
    expect(bmc.requests.some((r) => r.method === "PATCH" && r.body.includes(`"HttpBootUri":"http://10.0.2.2:${port}/dispatch"`))).toBe(true);
    expect(system.exits).toEqual([0]); // the guest switched itself off
    expect(await system.vm()!.serial()).toContain(message);
    expect(await system.vm()!.serial()).toContain(POWEROFF_MESSAGE);
    expect(bmc.boot()).toMatchObject({ BootSourceOverrideTarget: "None", HttpBootUri: null });
    expect(bmc.sessions.live()).toBe(0);
    expect(readdirSync(reports).some((n) => n.endsWith(".failed.md"))).toBe(true);
  },
  400_000,
);
