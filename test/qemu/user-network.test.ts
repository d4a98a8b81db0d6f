import { afterEach, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POWEROFF_MESSAGE, poweroffEfi } from "../../src/efi/poweroff.ts";
import { type FakeAsset, type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { http } from "../support/http-client.ts";
import { type Behaviour, type Player, playBeacon, reportTitle, runningLine } from "./support/beacon-player.ts";
import type { DispatchProcess } from "../support/dispatch-process.ts";
import { startBunDispatch } from "./support/dispatch-process.ts";
import { efiImage, fatDiskImage, isoImage } from "./support/images.ts";
import { missingForQemu, qemuRequired, skipMessage } from "./support/prerequisites.ts";
import { startProcess } from "../support/processes.ts";
import { toolEnv } from "./support/tools.ts";
import { cleanSerial, type Vm, startVm } from "./support/vm.ts";

/**
 * Real firmware end to end: OVMF in QEMU HTTP-boots from dispatch (a real process) over QEMU's
 * user network and boots what dispatch hands it. The guest's connections reach the host from
 * 127.0.0.1, so the beacon calls the host plays for each workload come from there too.
 */

const missing = missingForQemu();
if (missing.length) console.warn(skipMessage("the QEMU user-network scenarios", missing));
if (qemuRequired) test("QEMU prerequisites are installed", () => expect(missing).toEqual([]));

/** Long enough for the host to see the line and send both beacon calls; short, because each boot costs ~10 s already. */
const stall = 4_000_000;

// A hang guard, not a timing check: about 50 s on a quiet 2-core machine, but emulated (TCG)
// firmware slows down with the machine's load, and one full-suite run under load 12-15 took
// 148 s for the first VM and ran the second past the 150 s this was.
const vmBudgetMs = 360_000;
const workload = (asset: string, stallMicroseconds = stall) => ({ message: runningLine(asset), stallMicroseconds, reset: "warm" as const });
const efi = (asset: string, stallMicroseconds?: number): FakeAsset => ({
  name: asset,
  contentType: "application/vnd.dispatch+efi",
  data: efiImage(workload(asset, stallMicroseconds)),
});

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

type Run = { gh: FakeGitHub; dispatch: DispatchProcess; url: string; vm: Vm; player: Player; serial: string[]; seconds: number };

/** One release, one dispatch, one VM: runs until the VM powers itself off (or the budget runs out). */
async function bootUntilPoweredOff(assets: FakeAsset[], behaviour: (asset: string) => Behaviour, budgetMs: number): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), "dispatch-qemu-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const gh = await startFakeGitHub({ releases: [{ tag: "qemu", assets }] });
  cleanup.push(() => gh.stop());
  const dispatch = await startBunDispatch({ ...gh, tag: "qemu", bind: "127.0.0.1:0" });
  cleanup.push(() => dispatch.stop());
  const url = `http://127.0.0.1:${dispatch.port}/dispatch`;

  const started = Date.now();
  const vm = await startVm({ name: "vm0", dir, network: { kind: "user", bootUrl: `http://10.0.2.2:${dispatch.port}/dispatch` } });
  cleanup.push(() => vm.kill());
  const player = playBeacon(vm, {
    behaviour,
    send: async (method, body) => (await http(url, { method, from: "127.0.0.1", body, headers: { "content-type": "application/json" } })).status,
  });
  cleanup.push(() => player.stop());

  const code = await Promise.race([vm.exited, Bun.sleep(budgetMs).then(() => "timeout" as const)]);
  await player.stop();
  const serial = await vm.serial();
  const context = `serial log:\n${serial.join("\n")}\n\ndispatch log:\n${dispatch.lines.join("\n")}`;
  if (code === "timeout") throw new Error(`the VM did not power off within ${budgetMs / 1000} s; ${context}`);
  // poweroff.efi's ResetSystem(shutdown) ends QEMU on its own, with status 0.
  if (code !== 0) throw new Error(`QEMU exited ${code}; ${context}`);
  return { gh, dispatch, url, vm, player, serial, seconds: (Date.now() - started) / 1000 };
}

/** What the workloads (and poweroff.efi) printed on the console, in order. */
const printed = (serial: string[]) => serial.filter((l) => l.startsWith("dispatch-test:") || l === POWEROFF_MESSAGE);
/** The size the firmware announced for each download (from dispatch's HEAD answer). */
const announcedSizes = (serial: string[]) => serial.flatMap((l) => /^File Size: (\d+) Bytes/.exec(l)?.[1] ?? []).map(Number);

type JobView = { name: string; state: string; type: string; ip: string | null; reason: string | null };
const jobs = async (url: string): Promise<JobView[]> =>
  JSON.parse(new TextDecoder().decode((await http(url.replace(/\/dispatch$/, "/api/status"))).body)).jobs;
const finishedLine = (asset: string) => new RegExp(`^🏁 ${asset.replaceAll(".", "\\.")} finished: `);

describe.skipIf(missing.length > 0)("OVMF in QEMU, user network", () => {
  test(
    "boots an EFI application, a RAM-disk image and an ISO in queue order, files each report, then powers off",
    async () => {
      // Asset names set the queue order; the release lists them out of order on purpose.
      const assets: FakeAsset[] = [
        { name: "3-disc.iso", contentType: "application/vnd.dispatch+iso", data: await isoImage(workload("3-disc.iso")) },
        efi("1-app.efi"),
        { name: "2-ramdisk.img", contentType: "application/vnd.dispatch+img", data: await fatDiskImage(workload("2-ramdisk.img")) },
      ];
      const order = ["1-app.efi", "2-ramdisk.img", "3-disc.iso"];
      const run = await bootUntilPoweredOff(assets, () => "report", vmBudgetMs);
      console.log(`user network: ${order.length} workloads, then poweroff, in ${run.seconds.toFixed(0)} s`);

      expect(printed(run.serial)).toEqual([...order.map(runningLine), POWEROFF_MESSAGE]);
      const sizeOf = (name: string) => assets.find((a) => a.name === name)!.data.length;
      expect(announcedSizes(run.serial)).toEqual([...order.map(sizeOf), poweroffEfi.length]);
      expect(run.player.calls.map((c) => `${c.method} ${c.asset} ${c.status}`)).toEqual(
        order.flatMap((a) => [`POST ${a} 200`, `PUT ${a} 200`]),
      );

      for (const asset of order) await run.dispatch.waitFor(finishedLine(asset), 15_000);
      expect(run.gh.issues.map((i) => i.title)).toEqual(order.map(reportTitle));
      for (const [i, asset] of order.entries()) {
        expect(run.gh.issues[i]!.body).toContain(`\`${asset}\``);
        expect(run.gh.issues[i]!.body).toContain("Server 127.0.0.1;");
      }
      expect((await jobs(run.url)).map((j) => [j.name, j.state, j.type])).toEqual([
        ["1-app.efi", "finished", "application/efi"],
        ["2-ramdisk.img", "finished", "application/vnd.efi-img"],
        ["3-disc.iso", "finished", "application/vnd.efi-iso"],
      ]);
      expect(run.dispatch.lines.some((l) => l.startsWith("🔌 127.0.0.1 gets poweroff.efi"))).toBe(true);
    },
    vmBudgetMs + 60_000,
  );

  test(
    "a workload that resets without reporting fails with the reason, and the server moves on",
    async () => {
      const assets = [efi("1-hangs-up.efi"), efi("2-silent.efi", 0), efi("3-reports.efi")];
      const behaviour = (asset: string): Behaviour => (asset === "1-hangs-up.efi" ? "boot-only" : asset === "2-silent.efi" ? "silent" : "report");
      const run = await bootUntilPoweredOff(assets, behaviour, vmBudgetMs);
      console.log(`user network, unreported runs: 3 workloads, then poweroff, in ${run.seconds.toFixed(0)} s`);

      expect(printed(run.serial)).toEqual([...assets.map((a) => runningLine(a.name)), POWEROFF_MESSAGE]);
      expect(run.player.calls.map((c) => `${c.method} ${c.asset} ${c.status}`)).toEqual([
        "POST 1-hangs-up.efi 200",
        "POST 3-reports.efi 200",
        "PUT 3-reports.efi 200",
      ]);
      await run.dispatch.waitFor(finishedLine("3-reports.efi"), 15_000);
      expect((await jobs(run.url)).map((j) => [j.name, j.state, j.ip, j.reason])).toEqual([
        ["1-hangs-up.efi", "failed", "127.0.0.1", "booted but never reported: the server asked for a new workload"],
        ["2-silent.efi", "failed", "127.0.0.1", "downloaded but never sent `beacon boot`: the server asked for a new workload"],
        ["3-reports.efi", "finished", "127.0.0.1", null],
      ]);
      expect(run.gh.issues.map((i) => i.title)).toEqual([reportTitle("3-reports.efi")]);
      expect(run.dispatch.lines).toContain("❌ 1-hangs-up.efi failed on 127.0.0.1: booted but never reported: the server asked for a new workload");
    },
    vmBudgetMs + 60_000,
  );

  test(
    "the README's QEMU command HTTP-boots from dispatch and ends on poweroff.efi",
    async () => {
      // The lab guide's "trying it without hardware" block, from its `cp` line on, run as written
      // but for the port: a shared machine may have 8080 taken.
      const readme = await readFile(join(import.meta.dir, "../../README.md"), "utf8");
      const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes("qemu-system-x86_64") && b.includes("dispatch -o OWNER"));
      if (!block) throw new Error("README.md has no sh block with dispatch -o OWNER … and a qemu-system-x86_64 command");
      const dir = await mkdtemp(join(tmpdir(), "dispatch-qemu-"));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const gh = await startFakeGitHub({ releases: [{ tag: "empty", assets: [] }] });
      cleanup.push(() => gh.stop());
      const dispatch = await startBunDispatch({ ...gh, tag: "empty", bind: "127.0.0.1:0" });
      cleanup.push(() => dispatch.stop());

      const script = block
        .slice(block.indexOf("\ncp ") + 1)
        .replaceAll(":8080/dispatch", `:${dispatch.port}/dispatch`)
        .replace("qemu-system-x86_64", "exec qemu-system-x86_64"); // so the pid we stop is QEMU's
      const qemu = startProcess(["sh", "-ec", script], { name: "QEMU (README command)", cwd: dir, env: toolEnv, inheritEnv: false });
      cleanup.push(() => qemu.stop());
      const code = await Promise.race([qemu.exited, Bun.sleep(vmBudgetMs).then(() => "timeout" as const)]);
      const output = cleanSerial(qemu.lines.join("\n"));
      if (code === "timeout") throw new Error(`QEMU did not power off within ${vmBudgetMs / 1000} s:\n${output.join("\n")}`);
      expect(code).toBe(0);
      expect(output).toContain(`URI: http://10.0.2.2:${dispatch.port}/dispatch`);
      expect(output.at(-1)).toBe(POWEROFF_MESSAGE);
      expect(dispatch.lines).toContain("🔌 127.0.0.1 gets poweroff.efi: nothing left in the queue for it");
    },
    vmBudgetMs + 60_000,
  );
});
