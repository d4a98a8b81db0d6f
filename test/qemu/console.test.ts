import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { efiApp } from "../../src/efi/app.ts";
import { emulatorCertificate } from "../redfish-emulator/certificate.ts";
import { startRedfishEmulator } from "../redfish-emulator/index.ts";
import { qemuSystem } from "../redfish-emulator/qemu-system.ts";
import { startDispatchProcess } from "../support/dispatch-process.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { until } from "../support/until.ts";
import { missingForQemu, qemuRequired, skipMessage } from "./support/prerequisites.ts";

/**
 * Issue 19 against real firmware: OVMF VMs under QEMU, powered through the Redfish emulator,
 * each serial port served on a unix socket and read by the lab file's `console = "socat -
 * UNIX-CONNECT:…"`. One boot each, at the same time: node-1 runs a workload that prints and
 * hangs (its failure report ends with what it printed); node-2's boot URL is wrong (its row
 * shows OVMF's own error line).
 */

const missing = [...missingForQemu(), ...(Bun.which("socat") ? [] : ["socat"])];
if (missing.length) console.warn(skipMessage("the QEMU console scenario", missing));
if (qemuRequired) test("QEMU console prerequisites are installed", () => expect(missing).toEqual([]));

const temp = tempDirs();
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(() => temp.removeAll());
const root = new URL("../..", import.meta.url).pathname;
let tls: Awaited<ReturnType<typeof emulatorCertificate>>;
beforeAll(async () => {
  tls = await emulatorCertificate(temp.make("dispatch-qemu-console-tls-"));
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test.skipIf(missing.length > 0)(
  "OVMF consoles through socat: a hung workload's last lines in its failure report; a wrong boot URL's error in the server's row",
  async () => {
    const dir = temp.make("dispatch-qemu-console-");
    const password = "vm-console-password";
    const port = await freePort();
    const nodes = ["node-1", "node-2"].map((name) => {
      const socket = join(dir, `${name}.serial`);
      const system = qemuSystem({ name, dir, serialSocket: socket });
      cleanup.push(() => system.off());
      return { name, socket, system };
    });
    const bmcs = await Promise.all(nodes.map((n) => startRedfishEmulator({ user: "admin", password, tls, system: n.system })));
    for (const bmc of bmcs) cleanup.push(() => bmc.stop());
    // QEMU's user network: the guest reaches the host as 10.0.2.2 and dispatch sees it as 127.0.0.1.
    const lab = join(dir, "lab.toml");
    const server = (i: number, ip: string, url: string) => ["[[server]]", `name = "${nodes[i]!.name}"`, `ip = "${ip}"`, `bmc = "${bmcs[i]!.url}"`, `url = "${url}"`, `console = "socat - UNIX-CONNECT:${nodes[i]!.socket}"`, ""];
    writeFileSync(
      lab,
      [
        'power_on_spacing = "0s"',
        "[defaults]",
        'power = "redfish"',
        'user = "admin"',
        'password_env = "BMC_PASSWORD"',
        "tls_verify = false",
        "",
        ...server(0, "127.0.0.1", `http://10.0.2.2:${port}/dispatch`),
        // Port 1: nothing listens there, so OVMF cannot fetch its boot file.
        ...server(1, "127.0.0.99", "http://10.0.2.2:1/dispatch"),
      ].join("\n"),
    );
    const out = join(dir, "out");
    const reports = join(dir, "reports");
    await Bun.write(join(out, "hang.efi"), efiApp({ message: "hang.efi: step 1\r\nhang.efi: step 2\r\nhang.efi: waiting for ever", stallMicroseconds: 0xffff_ffff, reset: "cold" }));
    const d = await startDispatchProcess(
      { command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: dir, BMC_PASSWORD: password } },
      ["--dir", out, "--reports", reports, "--lab", lab, "--state", join(dir, "state"), "--bind", `127.0.0.1:${port}`, "--no-mdns", "--log-format", "plain",
        "--file-failures", "--retries", "0", "--download-timeout", "60s", "--boot-timeout", "10m"],
      { timeoutMs: 60_000 },
    );
    cleanup.push(() => d.stop());

    // Hang guards, not timing checks: TCG firmware slows with the machine's load.
    await d.waitFor("node-2's firmware says: Error: Could not retrieve NBP file size from HTTP server.", 300_000);
    const status = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { servers: { name: string; consoleError: string | null }[] };
    expect(status.servers.find((s) => s.name === "node-2")!.consoleError).toBe("Error: Could not retrieve NBP file size from HTTP server.");

    const failedFile = await until(() => (readdirSync(reports).find((n) => n.endsWith("hang.efi.failed.md"))), "the hung workload's failure file", { timeoutMs: 400_000, everyMs: 1000 });
    const failed = readFileSync(join(reports, failedFile), "utf8");
    expect(failed).toContain("<details><summary>Console of attempt 1 on node-1 (127.0.0.1)");
    // From the boot request on: OVMF's own lines (the download, starting the image), then the
    // workload's, in order. Only the start of the workload's output is asserted: under TCG on a
    // loaded machine QEMU's UART once passed on just its first bytes ("hang.efi: ") before the
    // 60 s download timeout failed the job (the rest sat in the emulated serial port while the
    // guest spun in Stall); dispatch's capture of a line cut there is what this checks.
    expect(failed).toMatch(/Z {3}URI: http:\/\/10\.0\.2\.2:\d+\/dispatch\n[\s\S]*Z BdsDxe: starting Boot\d+ [^\n]*\n.*Z hang\.efi: [^\n]*\n(.*Z hang\.efi: [^\n]*\n)*`+\n/);
    expect(failed).not.toContain("\x1b");
    // What the failure shows is the end of what is kept.
    const kept = await (await fetch(`http://127.0.0.1:${port}/api/servers/node-1/console?job=hang.efi`)).text();
    expect(kept).toMatch(/Z BdsDxe: starting Boot\d+ [^\n]*\n.*Z hang\.efi: /);
  },
  600_000,
);
