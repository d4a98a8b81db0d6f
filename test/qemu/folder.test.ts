import { afterEach, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POWEROFF_MESSAGE } from "../../src/efi/poweroff.ts";
import { http } from "../support/http-client.ts";
import { type Player, playBeacon, reportTitle, runningLine } from "./support/beacon-player.ts";
import { type DispatchProcess } from "../support/dispatch-process.ts";
import { startProcess } from "../support/processes.ts";
import { startBunDispatch } from "./support/dispatch-process.ts";
import { toolEnv } from "./support/tools.ts";
import { efiImage, isoImage } from "./support/images.ts";
import { missingForQemu, qemuRequired, skipMessage } from "./support/prerequisites.ts";
import { cleanSerial, startVm } from "./support/vm.ts";

/**
 * A workload author's loop on real firmware, with no GitHub anywhere: the builds are files in a
 * folder (`--dir`), the reports land as files in another (`--reports`), and OVMF in QEMU boots
 * from dispatch over the user network. The beacon calls the host plays come from 127.0.0.1,
 * as the VM's own would.
 */

const missing = missingForQemu();
if (missing.length) console.warn(skipMessage("the QEMU --dir scenarios", missing));
if (qemuRequired) test("QEMU prerequisites are installed", () => expect(missing).toEqual([]));

const workload = (asset: string) => ({ message: runningLine(asset), stallMicroseconds: 4_000_000, reset: "warm" as const });

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "dispatch-qemu-dir-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The host plays each workload's `beacon boot` and `beacon report`, from 127.0.0.1 like the VM. */
function player(vm: Parameters<typeof playBeacon>[0], dispatch: DispatchProcess): Player {
  const url = `http://127.0.0.1:${dispatch.port}/dispatch`;
  const p = playBeacon(vm, {
    behaviour: () => "report",
    send: async (method, body) => (await http(url, { method, from: "127.0.0.1", body, headers: { "content-type": "application/json" } })).status,
  });
  cleanup.push(() => p.stop());
  return p;
}

/** Each report file's front matter (read as YAML, as a script would) and body. */
async function reportFiles(dir: string): Promise<{ name: string; front: Record<string, unknown>; body: string }[]> {
  // SUMMARY.md is the run's summary, not a report.
  const names = (await readdir(dir)).filter((n) => n.endsWith(".md") && n !== "SUMMARY.md").sort();
  return Promise.all(
    names.map(async (name) => {
      const [, front = "", body = ""] = /^---\n([\s\S]*?)\n---\n\n([\s\S]*)$/.exec(await readFile(join(dir, name), "utf8")) ?? [];
      return { name, front: Bun.YAML.parse(front) as Record<string, unknown>, body };
    }),
  );
}

describe.skipIf(missing.length > 0)("OVMF in QEMU, workloads from a folder, reports to a folder", () => {
  test(
    "an EFI application and an ISO from --dir boot in name order, each report becomes a file in --reports, then poweroff",
    async () => {
      const root = await tempDir();
      const out = join(root, "out");
      const results = join(root, "results");
      await mkdir(out);
      await writeFile(join(out, "1-hello.efi"), efiImage(workload("1-hello.efi")));
      await writeFile(join(out, "2-disc.ISO"), await isoImage(workload("2-disc.ISO")));
      await writeFile(join(out, "build.log"), "not a workload\n");

      const dispatch = await startBunDispatch({ dir: out, reports: results, bind: "127.0.0.1:0" });
      cleanup.push(() => dispatch.stop());
      expect(dispatch.lines).toContain("no GitHub token needed: the workloads come from a folder and the reports go to a folder");
      expect(dispatch.lines).toContain("  left out: build.log (not .efi, .iso or .img)");

      const vm = await startVm({ name: "vm0", dir: root, network: { kind: "user", bootUrl: `http://10.0.2.2:${dispatch.port}/dispatch` } });
      cleanup.push(() => vm.kill());
      const beacon = player(vm, dispatch);
      const code = await Promise.race([vm.exited, Bun.sleep(150_000).then(() => "timeout" as const)]);
      await beacon.stop();
      const serial = await vm.serial();
      const context = `serial log:\n${serial.join("\n")}\n\ndispatch log:\n${dispatch.lines.join("\n")}`;
      if (code !== 0) throw new Error(`QEMU ${code === "timeout" ? "did not power off within 150 s" : `exited ${code}`}; ${context}`);

      const order = ["1-hello.efi", "2-disc.ISO"];
      expect(serial.filter((l) => l.startsWith("dispatch-test:") || l === POWEROFF_MESSAGE)).toEqual([...order.map(runningLine), POWEROFF_MESSAGE]);
      for (const name of order) await dispatch.waitFor(new RegExp(`^🏁 ${name.replace(".", "\\.")} finished: ${results}/`), 15_000);
      const files = await reportFiles(results);
      expect(files.map((f) => [f.front.workload, f.front.title, f.front.server, f.front.labels])).toEqual(order.map((n) => [n, reportTitle(n), "127.0.0.1", ["qemu"]]));
      expect(files.map((f) => f.name.replace(/^[\dT:.Z-]+_/, ""))).toEqual(order.map((n) => `${n}.md`));
      expect(files[0]!.body).toBe("1-hello.efi ran on real firmware.\n");
    },
    200_000,
  );

  test(
    "the README's \"developing a workload\" steps: dispatch --dir out --reports results, the QEMU command as written, the report file",
    async () => {
      const readme = await readFile(join(import.meta.dir, "../../README.md"), "utf8");
      const section = readme.slice(readme.indexOf("## Developing a workload"));
      const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
      if (!block) throw new Error('README.md has no sh block under "## Developing a workload"');
      const dispatchLine = block.split("\n").find((l) => l.startsWith("dispatch "));
      expect(dispatchLine).toStartWith("dispatch --dir out --reports results ");

      // The build: one EFI application in out/.
      const cwd = await tempDir();
      await mkdir(join(cwd, "out"));
      await writeFile(join(cwd, "out", "hello.efi"), efiImage(workload("hello.efi")));
      // dispatch as the README starts it, but on a free port (a shared machine may have 8080 taken).
      const dispatch = await startBunDispatch({ dir: join(cwd, "out"), reports: join(cwd, "results"), bind: "127.0.0.1:0" });
      cleanup.push(() => dispatch.stop());

      // The README's commands from its `cp` line through QEMU, run as written but for the port.
      const start = block.indexOf("\ncp ");
      const qemuEnd = block.indexOf("\n", block.indexOf("-device virtio-net-pci"));
      const script = block
        .slice(start + 1, qemuEnd)
        .replaceAll(":8080/dispatch", `:${dispatch.port}/dispatch`)
        .replace("qemu-system-x86_64", "exec qemu-system-x86_64"); // so the pid we stop is QEMU's
      const qemu = startProcess(["sh", "-ec", script], { name: "QEMU (README command)", cwd, env: toolEnv });
      cleanup.push(() => qemu.stop());
      // The host plays the beacon by watching QEMU's console (the README's command prints it to stdout).
      const vm = { exited: qemu.exited, serial: async () => cleanSerial(qemu.lines.join("\n")) } as unknown as Parameters<typeof playBeacon>[0];
      const beacon = player(vm, dispatch);
      const code = await Promise.race([qemu.exited, Bun.sleep(120_000).then(() => "timeout" as const)]);
      await beacon.stop();
      const output = cleanSerial(qemu.lines.join("\n"));
      if (code !== 0) throw new Error(`QEMU ${code === "timeout" ? "did not power off within 120 s" : `exited ${code}`}:\n${output.join("\n")}`);
      expect(output).toContain(runningLine("hello.efi"));
      expect(output.at(-1)).toBe(POWEROFF_MESSAGE);

      // "Read the result file": the README's last step.
      expect(block).toContain("cat results/*.md");
      await dispatch.waitFor(/^🏁 hello\.efi finished: /, 15_000);
      const [report] = await reportFiles(join(cwd, "results"));
      expect(report?.front).toMatchObject({ kind: "report", workload: "hello.efi", title: reportTitle("hello.efi") });
    },
    150_000,
  );
});
