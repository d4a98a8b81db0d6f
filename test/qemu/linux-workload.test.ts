import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../../scripts/build.ts";
import type { CreatedIssue } from "../fake-github/index.ts";
import { until } from "../support/dispatch.ts";
import { type Child, startChild } from "./support/child.ts";
import type { ReleaseFile } from "./support/fake-github-process.ts";
import { createLab } from "./support/lab-network.ts";
import { buildLinuxWorkload, missingForLinuxWorkload } from "./support/linux-workload.ts";
import { missingForLab, qemuRequired, skipMessage } from "./support/prerequisites.ts";
import { readmeDnsmasqConfig } from "./support/readme-dnsmasq.ts";
import { run } from "./support/tools.ts";
import { startVm } from "./support/vm.ts";

/**
 * A real Linux workload end to end. OVMF in QEMU, on a lab bridge in a namespace, HTTP-boots a
 * unified kernel image from dispatch (its URL from dnsmasq, so its boot option's URI node is
 * empty). The workload's init runs the compiled `dispatch beacon boot`, which finds dispatch
 * by itself (efivarfs first, then mDNS on the bridge, where dispatch announces with ciao), reads
 * the machine's memory, CPU and address, sends them with `dispatch beacon report`, and reboots;
 * the firmware boots again, gets poweroff.efi and switches the VM off. The issue must carry the
 * guest's own facts.
 */

const missing = [...missingForLab(), ...missingForLinuxWorkload()];
if (missing.length) console.warn(skipMessage("the QEMU Linux-workload scenario", missing));
if (qemuRequired) test("Linux workload prerequisites are installed", () => expect(missing).toEqual([]));

const jumpHost = "192.0.2.1";
const mac = "52:54:00:be:ac:01";
const memoryMiB = 1024;
const title = "linux workload: machine facts";
const root = join(import.meta.dir, "../..");

const cleanup: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

describe.skipIf(missing.length > 0)("a Linux workload in QEMU calls back with the compiled dispatch beacon", () => {
  test(
    "boot, report with the guest's own facts, reboot, power off",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "dispatch-linux-"));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));

      let t = performance.now();
      const binary = join(dir, "dispatch");
      await compile(binary, "0.0.0-linux-workload");
      const workload = await buildLinuxWorkload({ dir, dispatchBinary: binary, title });
      console.log(
        `linux workload: ${mib(workload.size)} EFI image (kernel ${mib(workload.kernelSize)}, initramfs ${mib(workload.initrdSize)} zstd, ` +
          `of which dispatch ${mib(workload.dispatchSize)} uncompressed), built in ${seconds(performance.now() - t)}`,
      );

      const lab = await createLab({ dir, address: jumpHost, taps: 1 });
      cleanup.push(() => lab.destroy());
      // A lab NIC has carrier (the switch is there) before any server boots; a bridge whose only
      // port is a tap gets it only once QEMU opens the tap, and dispatch looks for the interface
      // to announce on when it starts. A veth pair on the bridge stands in for the switch.
      await run(["ip", "-n", lab.ns, "link", "add", "switch0", "type", "veth", "peer", "name", "switch1"]);
      await run(["ip", "-n", lab.ns, "link", "set", "switch0", "master", "br0", "up"]);
      await run(["ip", "-n", lab.ns, "link", "set", "switch1", "up"]);
      const release: ReleaseFile = { tag: "linux", assets: [{ name: "linux-workload.efi", contentType: "application/vnd.dispatch+efi", path: workload.path }] };
      await writeFile(join(dir, "release.json"), JSON.stringify(release));
      const gh: Child = startChild({
        name: "fake GitHub",
        command: [...lab.exec, process.execPath, join(import.meta.dir, "support/fake-github-process.ts"), join(dir, "release.json")],
      });
      cleanup.push(() => gh.stop());
      const github = JSON.parse(await gh.waitForLine(/^\{"apiUrl"/, 20_000));

      // The README's dnsmasq block: the firmware and then Linux's DHCP client each get this server's address from it.
      await lab.startDnsmasq(await readmeDnsmasqConfig());
      // dispatch as a lab runs it: on the lab NIC, announcing itself with mDNS there.
      const stateDir = mkdtempSync(join(tmpdir(), "dispatch-linux-state-"));
      cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
      const dispatch = startChild({
        name: "dispatch",
        cwd: root,
        command: [
          ...lab.exec,
          process.execPath,
          join(root, "src/main.ts"),
          ...["--owner", github.owner, "--repo", github.repo, "--tag", "linux", "--api-url", github.apiUrl],
          ...["--bind", `${jumpHost}:8080`, "--state", stateDir, "--log-format", "plain"],
        ],
        env: { GITHUB_TOKEN: github.token },
      });
      cleanup.push(() => dispatch.stop());
      await dispatch.waitForLine(/mDNS: announced/, 20_000);

      t = performance.now();
      const vm = await startVm({ name: "linux", dir, network: { kind: "tap", ifname: lab.taps[0]!, mac }, wrap: lab.exec, memoryMiB });
      cleanup.push(() => vm.kill());

      const issues = (): CreatedIssue[] => gh.lines.filter((l) => l.startsWith('{"issue"')).map((l) => JSON.parse(l).issue);
      const budgetMs = 420_000;
      const code = await Promise.race([vm.exited, Bun.sleep(budgetMs).then(() => "timeout" as const)]);
      const serial = await vm.serial();
      const context = () => `serial log:\n${serial.filter((l) => !l.startsWith("Downloading")).join("\n")}\n\ndispatch log:\n${dispatch.lines.join("\n")}`;
      if (code === "timeout") throw new Error(`the VM did not power off within ${budgetMs / 1000} s;\n${context()}`);
      expect(code).toBe(0);
      console.log(`linux workload: from VM start to powered off in ${seconds(performance.now() - t)}`);
      const startup = serial.find((l) => l.startsWith("workload: dispatch --version:"));
      if (startup) console.log(`linux workload: ${startup.slice("workload: ".length)} (uptime, under TCG)`);

      // dispatch tells servers apart by address: the one dnsmasq leased to the VM's MAC.
      const serverIp = await lab.leasedAddress(mac);
      try {
        expect(serverIp).toMatch(/^192\.0\.2\.(1[0-4]\d|150)$/);
        // beacon looked in the firmware's variables first (the URI node was empty), then found dispatch by mDNS.
        expect(serial.join("\n")).toContain('Boot0001 "UEFI HTTPv4 (MAC:525400BEAC01)" (booted from): HTTP boot with an empty URI');
        expect(serial.find((l) => l.includes("dispatch beacon: boot taken by"))).toMatch(
          new RegExp(`boot taken by http://${jumpHost.replaceAll(".", "\\.")}:8080/dispatch \\(from mDNS "`),
        );
        expect(serial).toContain("workload: beacon boot exit 0");
        expect(serial).toContain("workload: beacon report exit 0");

        await until(() => issues().length > 0, "the fake GitHub to print the issue", 20_000);
        const [issue, ...more] = issues();
        expect(more).toEqual([]);
        expect(issue!.title).toBe(title);
        expect(issue!.labels).toEqual(["linux"]);
        const facts = Object.fromEntries(
          issue!.body!.split("\n").flatMap((line) => {
            const m = /^(memory|cpu|cpus|kernel|address): (.*)$/.exec(line);
            return m ? [[m[1]!, m[2]!]] : [];
          }),
        );
        // The guest's own view of the VM the test made: its RAM (less what the kernel keeps), one CPU, the address dnsmasq leased it.
        const kB = Number(/^(\d+) kB$/.exec(facts.memory ?? "")?.[1]);
        expect(kB).toBeGreaterThan(memoryMiB * 1024 * 0.8);
        expect(kB).toBeLessThanOrEqual(memoryMiB * 1024);
        expect(facts.cpus).toBe("1");
        expect(facts.cpu).toMatch(/QEMU/);
        expect(facts.address).toBe(`${serverIp}/24`);
        expect(facts.kernel).toMatch(/-amd64$/);
        expect(issue!.body).toContain(`Server ${serverIp};`);

        // After the report the workload rebooted; the second boot got poweroff.efi.
        expect(dispatch.lines.some((l) => l.includes(`${serverIp} gets poweroff.efi`))).toBe(true);
      } catch (error) {
        console.error(context());
        throw error;
      }
    },
    600_000,
  );
});
