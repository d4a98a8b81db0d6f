import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POWEROFF_MESSAGE } from "../../src/efi/poweroff.ts";
import type { CreatedIssue } from "../fake-github/index.ts";
import { until } from "../support/dispatch.ts";
import { type Player, playBeacon, reportTitle, runningLine } from "./support/beacon-player.ts";
import { type Child, startProcess } from "../support/processes.ts";
import { startBunDispatch } from "./support/dispatch-process.ts";
import type { ReleaseFile } from "./support/fake-github-process.ts";
import { efiImage } from "./support/images.ts";
import { type Lab, createLab } from "./support/lab-network.ts";
import { missingForLab, qemuRequired, skipMessage } from "./support/prerequisites.ts";
import { run, toolEnv } from "./support/tools.ts";
import { readmeDnsmasqConfig } from "./support/readme-dnsmasq.ts";
import { type Vm, startVm } from "./support/vm.ts";

/**
 * A lab-shaped network: in a network namespace the test makes, a bridge with the jump host's
 * address, two OVMF VMs on tap devices attached to it, and dnsmasq on the bridge configured
 * with the very block the README's lab guide gives. dispatch and the fake GitHub run in the
 * namespace as well. Each VM gets its own address, so dispatch tells them apart and hands
 * each its own workloads; both end switched off.
 *
 * The workloads' beacon calls. The tiny EFI workloads have no network stack, so the host plays
 * beacon for them (see beacon-player.ts), and dispatch must see those calls come from the VM's
 * own address. A second host on the bridge holding that address would fight the VM for it
 * (ARP), and a socket bound to a foreign address gets its replies routed to the VM. What works:
 * while a workload runs, its VM is silent on the network (it sits in the workload's stall), so
 * for the length of the two calls the namespace takes the VM's address as a local /32 on `lo`
 * and sends them from it with curl; the address goes again before the workload resets and the
 * firmware asks DHCP for it. dispatch sees exactly what a beacon inside the VM would produce:
 * POST and PUT from the address that downloaded the workload.
 */

const missing = missingForLab();
if (missing.length) console.warn(skipMessage("the QEMU lab-network scenario", missing));
if (qemuRequired) test("lab network prerequisites are installed", () => expect(missing).toEqual([]));

const jumpHost = "192.0.2.1";
const macs = ["52:54:00:d1:5a:01", "52:54:00:d1:5a:02"];
const stall = 4_000_000;

// A hang guard, not a timing check (about 55 s on a quiet machine): emulated (TCG) firmware
// slows down with the machine's load; under load 12-15 it took 75 s.
const labBudgetMs = 400_000;

/** One beacon call as the VM at `ip`: the namespace holds that address on `lo` just for this call. */
async function sendAs(lab: Lab, ip: string, url: string, method: string, body?: string): Promise<number> {
  await run(["ip", "-n", lab.ns, "addr", "add", `${ip}/32`, "dev", "lo"]);
  try {
    const curl = [...lab.exec, "curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "--interface", ip, "-X", method];
    if (body !== undefined) curl.push("-H", "content-type: application/json", "--data-binary", body);
    return Number(await run([...curl, url]));
  } finally {
    await run(["ip", "-n", lab.ns, "addr", "del", `${ip}/32`, "dev", "lo"]);
  }
}

const cleanup: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe.skipIf(missing.length > 0)("OVMF in QEMU, lab network (namespace, bridge, dnsmasq)", () => {
  test(
    "two servers get addresses from the README's dnsmasq block, run their own workloads from one dispatch, and power off",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "dispatch-lab-"));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const lab = await createLab({ dir, address: jumpHost, taps: macs.length });
      cleanup.push(() => lab.destroy());

      // The fake GitHub must listen where dispatch can reach it: on the namespace's loopback.
      const names = ["lab-1.efi", "lab-2.efi", "lab-3.efi", "lab-4.efi"];
      const release: ReleaseFile = { tag: "lab", assets: [] };
      for (const name of names) {
        const path = join(dir, name);
        await writeFile(path, efiImage({ message: runningLine(name), stallMicroseconds: stall, reset: "warm" }));
        release.assets.push({ name, contentType: "application/vnd.dispatch+efi", path });
      }
      await writeFile(join(dir, "release.json"), JSON.stringify(release));
      const gh: Child = startProcess([...lab.exec, process.execPath, join(import.meta.dir, "support/fake-github-process.ts"), join(dir, "release.json")], {
        name: "fake GitHub",
        env: toolEnv,
        inheritEnv: false,
      });
      cleanup.push(() => gh.stop());
      const github = JSON.parse(await gh.waitFor(/^\{"apiUrl"/, 20_000));

      await lab.startDnsmasq(await readmeDnsmasqConfig());
      const dispatch = await startBunDispatch({ ...github, tag: "lab", bind: `${jumpHost}:8080`, wrap: lab.exec });
      cleanup.push(() => dispatch.stop());
      const url = `http://${jumpHost}:8080/dispatch`;

      const started = Date.now();
      const vms: Vm[] = [];
      const players: Player[] = [];
      for (const [i, mac] of macs.entries()) {
        const vm = await startVm({ name: `server${i}`, dir, network: { kind: "tap", ifname: lab.taps[i]!, mac }, wrap: lab.exec });
        vms.push(vm);
        cleanup.push(() => vm.kill());
        const player = playBeacon(vm, {
          behaviour: () => "report",
          send: async (method, body) => {
            const ip = await lab.leasedAddress(mac);
            if (!ip) throw new Error(`no lease for ${mac}`);
            return sendAs(lab, ip, url, method, body);
          },
        });
        players.push(player);
        cleanup.push(() => player.stop());
      }

      const budgetMs = labBudgetMs;
      const codes = await Promise.race([Promise.all(vms.map((vm) => vm.exited)), Bun.sleep(budgetMs).then(() => "timeout" as const)]);
      await Promise.all(players.map((p) => p.stop()));
      const serials = await Promise.all(vms.map((vm) => vm.serial()));
      const context = () =>
        vms.map((vm, i) => `${vm.name} serial log:\n${serials[i]!.join("\n")}`).join("\n\n") + `\n\ndispatch log:\n${dispatch.lines.join("\n")}`;
      if (codes === "timeout") throw new Error(`the VMs did not both power off within ${budgetMs / 1000} s;\n${context()}`);
      console.log(`lab network: ${names.length} workloads on ${vms.length} servers, both off in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      expect(codes).toEqual(vms.map(() => 0));

      // Each server has an address of its own from dnsmasq's range.
      const ips = await Promise.all(macs.map((mac) => lab.leasedAddress(mac)));
      for (const ip of ips) expect(ip).toMatch(/^192\.0\.2\.(1[0-4]\d|150)$/);
      expect(new Set(ips).size).toBe(macs.length);

      // Between them they ran every workload once; each ran its share in queue order, then poweroff.efi.
      const ran = players.map((p) => p.ran);
      expect(ran.flat().toSorted()).toEqual(names);
      for (const [i, list] of ran.entries()) {
        expect(list.length).toBeGreaterThan(0);
        expect(list).toEqual(list.toSorted());
        const printed = serials[i]!.filter((l) => l.startsWith("dispatch-test:") || l === POWEROFF_MESSAGE);
        expect(printed).toEqual([...list.map(runningLine), POWEROFF_MESSAGE]);
        expect(dispatch.lines).toContain(`🔌 ${ips[i]} gets poweroff.efi: nothing left in the queue for it`);
      }
      expect(players.flatMap((p) => p.calls).filter((c) => c.status !== 200)).toEqual([]);

      // dispatch held each job for the server that ran it, and filed its report.
      const serverOf = (name: string) => ips[ran.findIndex((list) => list.includes(name))];
      for (const name of names) await dispatch.waitFor(new RegExp(`^🏁 ${name.replace(".", "\\.")} finished: `), 15_000);
      const status = JSON.parse(await run([...lab.exec, "curl", "-sS", "--max-time", "10", `http://${jumpHost}:8080/api/status`]));
      expect(status.jobs.map((j: { name: string; state: string; ip: string }) => [j.name, j.state, j.ip])).toEqual(
        names.map((name) => [name, "finished", serverOf(name)]),
      );
      const issues = (): CreatedIssue[] => gh.lines.filter((l) => l.startsWith('{"issue"')).map((l) => JSON.parse(l).issue);
      await until(() => issues().length >= names.length, "the fake GitHub to print every issue", 5_000);
      expect(issues().map((i) => i.title).toSorted()).toEqual(names.map(reportTitle));
      for (const issue of issues()) {
        const name = names.find((n) => reportTitle(n) === issue.title)!;
        expect(issue.body).toContain(`Server ${serverOf(name)};`);
      }
    },
    labBudgetMs + 60_000,
  );
});
