import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../../scripts/build.ts";
import type { CreatedIssue } from "../fake-github/index.ts";
import { until } from "../support/dispatch.ts";
import { type Child, startProcess } from "../support/processes.ts";
import type { ReleaseFile } from "./support/fake-github-process.ts";
import { type Lab, createLab } from "./support/lab-network.ts";
import { type LinuxWorkload, buildLinuxWorkload, missingForLinuxWorkload } from "./support/linux-workload.ts";
import { missingForLab, qemuRequired, skipMessage } from "./support/prerequisites.ts";
import { readmeDnsmasqConfig } from "./support/readme-dnsmasq.ts";
import { run, toolEnv } from "./support/tools.ts";
import { startVm } from "./support/vm.ts";

/**
 * A real Linux workload end to end. OVMF in QEMU, on a lab bridge in a namespace, HTTP-boots a
 * unified kernel image from dispatch, its URL from dnsmasq (the README's block). The workload's
 * init runs the compiled `dispatch beacon boot`, which finds dispatch by itself, reads the
 * machine's memory, CPU and address, sends them with `dispatch beacon report`, and reboots; the
 * firmware boots again, gets poweroff.efi and switches the VM off. The issue must carry the
 * guest's own facts. Two ways of being found:
 *  - the firmware as it comes (its boot option's URI node is empty: the URL came from DHCP), so
 *    beacon falls through to mDNS, where dispatch announces on the bridge with ciao;
 *  - the firmware given a boot URI in its setup UI (test/beacon/data/ovmf-uri, made by
 *    scripts/capture-ovmf-boot-options.ts), with dispatch not announcing at all: beacon finds
 *    it in the boot option OVMF wrote, through efivarfs.
 */

const missing = [...missingForLab(), ...missingForLinuxWorkload()];
if (missing.length) console.warn(skipMessage("the QEMU Linux-workload scenarios", missing));
if (qemuRequired) test("Linux workload prerequisites are installed", () => expect(missing).toEqual([]));

const jumpHost = "192.0.2.1";
const bootUrl = `http://${jumpHost}:8080/dispatch`;
const memoryMiB = 1024;
const title = "linux workload: machine facts";
const root = join(import.meta.dir, "../..");
/** OVMF's varstore after a boot URI (bootUrl) was typed into its setup UI, for the NIC with this MAC. */
const uriVars = join(root, "test/beacon/data/ovmf-uri/OVMF_VARS.fd");
const uriVarsMac = "52:54:00:12:34:56";

const cleanup: (() => Promise<unknown> | void)[] = [];
afterAll(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

describe.skipIf(missing.length > 0)("a Linux workload in QEMU calls back with the compiled dispatch beacon", () => {
  let dir: string;
  let workload: LinuxWorkload;
  let lab: Lab;
  let gh: Child;
  let github: { apiUrl: string; owner: string; repo: string; token: string };
  const issues = (): CreatedIssue[] => gh.lines.filter((l) => l.startsWith('{"issue"')).map((l) => JSON.parse(l).issue);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "dispatch-linux-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const t = performance.now();
    const binary = join(dir, "dispatch");
    await compile(binary, "0.0.0-linux-workload");
    workload = await buildLinuxWorkload({ dir, dispatchBinary: binary, title });
    console.log(
      `linux workload: ${mib(workload.size)} EFI image (kernel ${mib(workload.kernelSize)}, initramfs ${mib(workload.initrdSize)} zstd, ` +
        `of which dispatch ${mib(workload.dispatchSize)} uncompressed), built in ${seconds(performance.now() - t)}`,
    );

    lab = await createLab({ dir, address: jumpHost, taps: 1 });
    cleanup.push(() => lab.destroy());
    // A lab NIC has carrier (the switch is there) before any server boots; a bridge whose only
    // port is a tap gets it only once QEMU opens the tap, and dispatch looks for the interface
    // to announce on when it starts. A veth pair on the bridge stands in for the switch.
    await run(["ip", "-n", lab.ns, "link", "add", "switch0", "type", "veth", "peer", "name", "switch1"]);
    await run(["ip", "-n", lab.ns, "link", "set", "switch0", "master", "br0", "up"]);
    await run(["ip", "-n", lab.ns, "link", "set", "switch1", "up"]);

    const release: ReleaseFile = { tag: "linux", assets: [{ name: "linux-workload.efi", contentType: "application/vnd.dispatch+efi", path: workload.path }] };
    await writeFile(join(dir, "release.json"), JSON.stringify(release));
    gh = startProcess([...lab.exec, process.execPath, join(import.meta.dir, "support/fake-github-process.ts"), join(dir, "release.json")], {
      name: "fake GitHub",
      env: toolEnv,
      inheritEnv: false,
    });
    cleanup.push(() => gh.stop());
    github = JSON.parse(await gh.waitFor(/^\{"apiUrl"/, 20_000));
    // The README's dnsmasq block: the firmware and then Linux's DHCP client each get the server's address from it.
    await lab.startDnsmasq(await readmeDnsmasqConfig());
  }, 120_000);

  let current: Child | undefined;
  /**
   * dispatch as a lab runs it, on the lab NIC; a fresh state folder, so the release's one job is
   * queued again. The previous scenario's dispatch stops first: they share the address.
   */
  async function startDispatch(extra: string[]): Promise<Child> {
    await current?.stop();
    const stateDir = mkdtempSync(join(tmpdir(), "dispatch-linux-state-"));
    const dispatch = startProcess(
      [
        ...lab.exec,
        process.execPath,
        join(root, "src/main.ts"),
        ...["--owner", github.owner, "--repo", github.repo, "--tag", "linux", "--api-url", github.apiUrl],
        ...["--bind", `${jumpHost}:8080`, "--state", stateDir, "--log-format", "plain", ...extra],
      ],
      // The token by environment, as a user passes it; nothing else of this process's.
      { name: "dispatch", cwd: root, env: { ...toolEnv, GITHUB_TOKEN: github.token }, inheritEnv: false },
    );
    cleanup.push(() => rmSync(stateDir, { recursive: true, force: true }));
    cleanup.push(() => dispatch.stop());
    current = dispatch;
    await dispatch.waitFor(/^\S+ listening on /, 20_000);
    return dispatch;
  }

  /** One VM from power-on to powered off; its serial console, and the one new issue with the facts it reported. */
  async function runVm(name: string, mac: string, dispatch: Child, varsFrom?: string) {
    const before = issues().length;
    const t = performance.now();
    const vm = await startVm({ name, dir, network: { kind: "tap", ifname: lab.taps[0]!, mac }, wrap: lab.exec, memoryMiB, ...(varsFrom && { varsFrom }) });
    cleanup.push(() => vm.kill());
    const budgetMs = 300_000;
    const code = await Promise.race([vm.exited, Bun.sleep(budgetMs).then(() => "timeout" as const)]);
    const serial = await vm.serial();
    const context = () => `serial log:\n${serial.filter((l) => !l.startsWith("Downloading")).join("\n")}\n\ndispatch log:\n${dispatch.lines.join("\n")}`;
    if (code === "timeout") throw new Error(`the VM did not power off within ${budgetMs / 1000} s;\n${context()}`);
    console.log(`linux workload (${name}): from VM start to powered off in ${seconds(performance.now() - t)}`);
    const startup = serial.find((l) => l.startsWith("workload: dispatch --version:"));
    if (startup) console.log(`linux workload (${name}): ${startup.slice("workload: ".length)} of uptime, under TCG`);
    try {
      expect(code).toBe(0);
      expect(serial).toContain("workload: beacon boot exit 0");
      expect(serial).toContain("workload: beacon report exit 0");
      await until(() => issues().length > before, "the fake GitHub to print the issue", 20_000);
    } catch (error) {
      console.error(context());
      throw error;
    }
    const fresh = issues().slice(before);
    const serverIp = await lab.leasedAddress(mac);
    return { serial, serverIp, fresh, context };
  }

  /** The issue's facts are the guest's own view of the VM the test made. */
  function checkFacts(issue: CreatedIssue, serverIp: string | undefined) {
    expect(serverIp).toMatch(/^192\.0\.2\.(1[0-4]\d|150)$/);
    expect(issue.title).toBe(title);
    expect(issue.labels).toEqual(["linux"]);
    const facts = Object.fromEntries(
      issue.body!.split("\n").flatMap((line) => {
        const m = /^(memory|cpu|cpus|kernel|address): (.*)$/.exec(line);
        return m ? [[m[1]!, m[2]!]] : [];
      }),
    );
    // Its RAM (less what the kernel keeps), one CPU, the address dnsmasq leased to its MAC.
    const kB = Number(/^(\d+) kB$/.exec(facts.memory ?? "")?.[1]);
    expect(kB).toBeGreaterThan(memoryMiB * 1024 * 0.8);
    expect(kB).toBeLessThanOrEqual(memoryMiB * 1024);
    expect(facts.cpus).toBe("1");
    expect(facts.cpu).toMatch(/QEMU/);
    expect(facts.address).toBe(`${serverIp}/24`);
    expect(facts.kernel).toMatch(/-amd64$/);
    expect(issue.body).toContain(`Server ${serverIp};`);
  }

  test(
    "firmware that got its URL by DHCP: found by mDNS; boot, report with the guest's own facts, reboot, power off",
    async () => {
      const dispatch = await startDispatch([]);
      await dispatch.waitFor(/mDNS: announced/, 20_000);
      const mac = "52:54:00:be:ac:01";
      const { serial, serverIp, fresh, context } = await runVm("dhcp", mac, dispatch);
      try {
        // beacon looked in the firmware's variables first (the URI node was empty), then found dispatch by mDNS.
        expect(serial.join("\n")).toContain('Boot0001 "UEFI HTTPv4 (MAC:525400BEAC01)" (booted from): HTTP boot with an empty URI');
        expect(serial.find((l) => l.includes("dispatch beacon: boot taken by"))).toStartWith(`dispatch beacon: boot taken by ${bootUrl} (from mDNS "`);
        expect(fresh).toHaveLength(1);
        checkFacts(fresh[0]!, serverIp);
        // After the report the workload rebooted; the second boot got poweroff.efi.
        expect(dispatch.lines.some((l) => l.includes(`${serverIp} gets poweroff.efi`))).toBe(true);
      } catch (error) {
        console.error(context());
        throw error;
      }
    },
    420_000,
  );

  test(
    "firmware given a boot URI in its setup UI, dispatch not announcing: found through efivarfs",
    async () => {
      const dispatch = await startDispatch(["--no-mdns"]);
      const { serial, serverIp, fresh, context } = await runVm("uri", uriVarsMac, dispatch, uriVars);
      try {
        expect(serial.find((l) => l.includes("dispatch beacon: boot taken by"))).toBe(`dispatch beacon: boot taken by ${bootUrl} (from Boot0004 "UEFI HTTP")`);
        expect(serial.find((l) => l.includes("dispatch beacon: report taken by"))).toBe(`dispatch beacon: report taken by ${bootUrl} (from Boot0004 "UEFI HTTP")`);
        // mDNS was never needed.
        expect(serial.some((l) => l.includes("mDNS"))).toBe(false);
        expect(fresh).toHaveLength(1);
        checkFacts(fresh[0]!, serverIp);
        expect(dispatch.lines.some((l) => l.includes(`${serverIp} gets poweroff.efi`))).toBe(true);
      } catch (error) {
        console.error(context());
        throw error;
      }
    },
    420_000,
  );
});
