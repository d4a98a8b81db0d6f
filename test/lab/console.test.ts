import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RedfishEmulator, startRedfishEmulator } from "../redfish-emulator/index.ts";
import { type DispatchProcess, startDispatchProcess } from "../support/dispatch-process.ts";
import { type FirmwareServer, firmwareServer } from "../support/emulated-firmware.ts";
import { labRig } from "../support/lab-rig.ts";
import { until } from "../support/until.ts";
import { pattern } from "../support/workloads.ts";

// Issue 19 through the real CLI: each lab server's serial console read by `socat` from a unix
// socket (as QEMU serves a VM's serial port), the firmware and workloads emulated (see
// emulated-firmware.ts; the real OVMF console is test/qemu/console.test.ts).

const { temp, cleanup, root, tls } = labRig("console");
const password = "bmc-Pa55-console";

async function labFile(servers: FirmwareServer[], sockets: string[]): Promise<string> {
  const bmcs: RedfishEmulator[] = [];
  for (const system of servers) {
    const bmc = await startRedfishEmulator({ user: "admin", password, tls: tls(), system });
    cleanup.push(() => bmc.stop());
    cleanup.push(() => system.off());
    cleanup.push(() => system.closeSerial());
    bmcs.push(bmc);
  }
  const file = join(temp.make("dispatch-console-lab-"), "lab.toml");
  const lines = ['power_on_spacing = "0s"', "[defaults]", 'power = "redfish"', 'user = "admin"', 'password_env = "BMC_PASSWORD"', "tls_verify = false"];
  servers.forEach((s, i) => lines.push("", "[[server]]", `name = "node-${i + 1}"`, `ip = "${s.ip}"`, `bmc = "${bmcs[i]!.url}"`, `console = "socat - UNIX-CONNECT:${sockets[i]}"`));
  writeFileSync(file, lines.join("\n"));
  return file;
}

async function start(lab: string, dir: string, reports: string, state: string, flags: string[]): Promise<DispatchProcess> {
  const d = await startDispatchProcess(
    { command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: temp.make("dispatch-home-"), BMC_PASSWORD: password } },
    ["--dir", dir, "--reports", reports, "--lab", lab, "--state", state, "--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain", ...flags],
    { timeoutMs: 60_000 },
  );
  cleanup.push(() => d.stop());
  return d;
}

describe("dispatch --lab with consoles", () => {
  test("per job, in failure reports, beside report files, in the server's row, over HTTP, and across a SIGKILL", async () => {
    const socks = temp.make("dispatch-console-socks-");
    const sockets = [join(socks, "node-1.sock"), join(socks, "node-2.sock")];
    // node-2's firmware cannot reach its boot URL: it says so on its console and never asks.
    const servers = [firmwareServer("127.0.0.2", { serial: sockets[0]! }), firmwareServer("127.0.0.3", { serial: sockets[1]!, neverAsks: true })];
    const lab = await labFile(servers, sockets);
    const dir = temp.make("dispatch-console-out-");
    // Sizes tell the jobs apart on the console ("workload of 3001 bytes").
    writeFileSync(join(dir, "a.efi"), pattern(3001, 1));
    writeFileSync(join(dir, "b.efi"), pattern(3002, 2));
    const hang = pattern(3003, 3);
    hang.set(new TextEncoder().encode("hang"));
    writeFileSync(join(dir, "c-hang.efi"), hang);
    const reports = temp.make("dispatch-console-reports-");
    const state = temp.make("dispatch-console-state-");
    const flags = ["--file-failures", "--download-timeout", "12s", "--run-timeout", "3s", "--boot-timeout", "30s", "--retries", "0"];
    const d = await start(lab, dir, reports, state, flags);

    // The server that never asks: its row names the firmware's own error line.
    await d.waitFor("node-2's firmware says: Error: Could not retrieve NBP file size from HTTP server.", 30_000);
    const status = (await (await fetch(`http://127.0.0.1:${d.port}/api/status`)).json()) as { servers: { name: string; consoleError: string | null; console: { line: string } | null }[] };
    expect(status.servers.find((s) => s.name === "node-2")!.consoleError).toBe("Error: Could not retrieve NBP file size from HTTP server.");
    expect(status.servers.find((s) => s.name === "node-1")!.consoleError).toBeNull();

    // Node-1 runs the queue. Each report file has its job's whole console beside it, and only that job's.
    const reportOf = (job: string) => readdirSync(reports).find((n) => n.endsWith(`_${job}.md`));
    const aReport = await until(() => reportOf("a.efi"), "a.efi's report", 30_000);
    const aConsole = readFileSync(join(reports, aReport.replace(/\.md$/, ".console.txt")), "utf8");
    expect(aConsole).toContain("=== attempt 1: node-1 (127.0.0.2)");
    expect(aConsole).toContain("workload of 3001 bytes on 127.0.0.2: started");
    expect(aConsole).not.toContain("3002 bytes");
    // A passing report carries no console without --console-in-reports.
    expect(readFileSync(join(reports, aReport), "utf8")).not.toContain("<details>");

    // Over HTTP: what is kept of a job on a server.
    const kept = async (port: number, job: string) => (await fetch(`http://127.0.0.1:${port}/api/servers/node-1/console?job=${job}`)).text();
    await until(() => reportOf("b.efi"), "b.efi's report", 30_000);
    const bBefore = await kept(d.port, "b.efi");
    expect(bBefore).toContain("workload of 3002 bytes");
    expect(bBefore).not.toContain("3001 bytes");
    expect((await fetch(`http://127.0.0.1:${d.port}/api/servers/nobody/console`)).status).toBe(404);

    // The hung job has printed; dispatch is killed mid-run and started again on the same state.
    await until(async () => (await kept(d.port, "c-hang.efi")).includes("hang: step 2"), "the hung job's lines captured", 30_000);
    await d.kill("SIGKILL");
    const again = await start(lab, dir, reports, state, flags);
    // What was captured is still there, and the hung job's failure, written by the second
    // process, ends with the lines the first one captured (escapes gone).
    expect(await kept(again.port, "b.efi")).toStartWith(bBefore.trimEnd());
    const failedFile = await until(() => readdirSync(reports).find((n) => n.endsWith("c-hang.efi.failed.md")), "the hung job's failure file", 60_000);
    const failed = readFileSync(join(reports, failedFile), "utf8");
    expect(failed).toContain("<details><summary>Console of attempt 1 on node-1 (127.0.0.2)");
    expect(failed).toMatch(/Z workload of 3003 bytes on 127\.0\.0\.2: started\n.*Z hang: step 1\n.*Z hang: step 2\n/);
    expect(failed).not.toContain("\x1b");
    expect(failed).not.toContain("3001 bytes");
    // The console folder is the owner's alone; the password is in none of it.
    for (const name of readdirSync(join(state, "consoles"), { recursive: true }) as string[]) {
      const path = join(state, "consoles", name);
      if (!name.endsWith(".txt")) continue;
      expect(readFileSync(path, "utf8")).not.toContain(password);
    }
  }, 120_000);
});
