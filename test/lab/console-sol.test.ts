import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { startDispatchProcess } from "../support/dispatch-process.ts";
import { ipmiSimProblem, startIpmiSim } from "../support/ipmi-sim.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { until } from "../support/until.ts";
import { pattern } from "../support/workloads.ts";

// `console = "sol"` against OpenIPMI's ipmi_sim: dispatch runs `ipmitool … sol activate` (after
// `sol deactivate`), ipmi_sim relays the server's serial port, which is a telnet port here as
// QEMU's `-serial telnet::PORT,server` gives it, played by this test (no VM: the firmware's
// lines are what OVMF prints when its boot URL is wrong).

const problem = ipmiSimProblem();
if (problem) console.warn(`skipping the SOL console test: ${problem}`);

const temp = tempDirs();
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(() => temp.removeAll());
const root = new URL("../..", import.meta.url).pathname;

describe.skipIf(problem !== undefined)("an IPMI server's console over SOL", () => {
  test("ipmitool sol activate through ipmi_sim: lines kept, the firmware's error in the row, the password on no command line", async () => {
    // The server's serial port: the firmware prints its boot attempt again and again, as OVMF does.
    const clients = new Set<Socket>();
    const serial = createServer((socket) => {
      clients.add(socket);
      socket.on("close", () => clients.delete(socket));
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => serial.listen(0, "127.0.0.1", resolve));
    let boot = 0;
    const firmware = setInterval(() => {
      boot++;
      for (const c of clients) c.write(`>>Start HTTP Boot over IPv4 (try ${boot})\r\n  Error: Could not retrieve NBP file size from HTTP server.\r\n`);
    }, 300);
    cleanup.push(() => new Promise<void>((resolve) => {
      clearInterval(firmware);
      for (const c of clients) c.destroy();
      serial.close(() => resolve());
    }));
    const password = "sol-Pa55-secret";
    const sim = await startIpmiSim({ dir: temp.make("dispatch-sol-sim-"), password, sol: `telnet:localhost:${(serial.address() as { port: number }).port}` });
    cleanup.push(() => sim.stop());

    const lab = join(temp.make("dispatch-sol-lab-"), "lab.toml");
    writeFileSync(
      lab,
      ['power_on_spacing = "0s"', "[[server]]", 'name = "node-1"', 'ip = "127.0.0.9"', 'power = "ipmi"', `bmc = "127.0.0.1:${sim.port}"`, 'user = "admin"', 'password_env = "BMC_PASSWORD"', "cipher = 3", 'console = "sol"'].join("\n"),
    );
    const dir = temp.make("dispatch-sol-out-");
    writeFileSync(join(dir, "a.efi"), pattern(1000, 1));
    const d = await startDispatchProcess(
      { command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: `/usr/bin:/bin:/usr/sbin:/sbin`, HOME: temp.make("dispatch-home-"), BMC_PASSWORD: password } },
      ["--dir", dir, "--reports", temp.make("dispatch-sol-reports-"), "--lab", lab, "--state", temp.make("dispatch-sol-state-"), "--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain"],
      { timeoutMs: 60_000 },
    );
    cleanup.push(() => d.stop());

    await d.waitFor("node-1's firmware says: Error: Could not retrieve NBP file size from HTTP server.", 60_000);
    const status = (await (await fetch(`http://127.0.0.1:${d.port}/api/status`)).json()) as { servers: { name: string; consoleError: string | null }[] };
    expect(status.servers[0]!.consoleError).toBe("Error: Could not retrieve NBP file size from HTTP server.");
    const kept = await until(async () => {
      const text = await (await fetch(`http://127.0.0.1:${d.port}/api/servers/node-1/console`)).text();
      return /Z >>Start HTTP Boot over IPv4 \(try \d+\)\n.*Z   Error: Could not retrieve NBP/.test(text) && text;
    }, "the SOL lines kept");
    expect(kept).not.toContain("\r");

    // While it runs: ipmitool sol activate is there, and no command line holds the password.
    let sol = "";
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      } catch {
        continue; // gone meanwhile
      }
      expect(cmdline).not.toContain(password);
      if (cmdline.includes("sol activate") && cmdline.includes(String(sim.port))) sol = cmdline;
    }
    expect(sol).toContain("-E");
    expect(sol).toContain("-C 3");
    await d.stop();
    expect((await d.streams).stdout).not.toContain(password);
  }, 90_000);
});
