import { afterEach, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { POWEROFF_MESSAGE } from "../../src/efi/poweroff.ts";
import { demoFolder, exitStatus, reportsByWorkload, runSteps, stepsAfterBun } from "../demo/readme-demo.ts";
import type { Child } from "../support/processes.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { missingForQemu, qemuRequired, skipMessage } from "./support/prerequisites.ts";
import { toolPath } from "./support/tools.ts";
import { cleanSerial } from "./support/vm.ts";

/**
 * The README's set-up-and-run command where QEMU and OVMF are installed: `dispatch demo` boots
 * its samples on one OVMF VM, and the samples themselves call back through the firmware's HTTP
 * client (no host-side beacon here). One VM, three HTTP boots (two samples, poweroff.efi).
 */

const missing = missingForQemu();
if (missing.length) console.warn(skipMessage("the demo on a QEMU VM", missing));
if (qemuRequired) test("QEMU prerequisites are installed", () => expect(missing).toEqual([]));

const temp = tempDirs();
let child: Child | undefined;
afterEach(async () => {
  await child?.stop();
  child = undefined;
  temp.removeAll();
});

/** Processes whose command line mentions `text` (a QEMU left running would name the demo's folder). */
function processesMentioning(text: string): number[] {
  return readdirSync("/proc").flatMap((pid) => {
    if (!/^\d+$/.test(pid)) return [];
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text) ? [Number(pid)] : [];
    } catch {
      return []; // it ended meanwhile
    }
  });
}

test.skipIf(missing.length > 0)(
  "the README's run command boots both samples on a VM: each calls back by itself, the VM powers off, exit 0",
  async () => {
    const { rest } = await stepsAfterBun();
    const tmp = temp.make("demo-qemu-tmp-");
    child = runSteps(rest, { PATH: toolPath, TMPDIR: tmp });
    // A hang guard, not a timing check: about 30 s here (three TCG boots); slow CI machines take longer.
    const code = await exitStatus(child, 240_000);
    const output = child.output();
    const folder = demoFolder(tmp);
    const serial = cleanSerial(readFileSync(join(folder, "vm", "serial.log"), "latin1"));
    expect({ code, output, serial }).toMatchObject({ code: 0 });

    expect(output).toContain(`demo: booting them on a QEMU/OVMF virtual machine (its console: ${join(folder, "vm", "serial.log")})`);
    expect(output).not.toContain("no virtual machine");
    expect(output).toContain("demo: the VM: the VM powered off");
    expect(output).toContain("demo: done: every server is off; 2 of 2 workloads finished with a report, 0 failed");

    // The samples ran in the firmware and called back themselves: their lines on the console,
    // no failed callback, then poweroff.efi.
    for (const stem of ["1-hello", "2-goodbye"]) {
      expect(serial).toContain(`${stem}: a sample workload from dispatch demo is running`);
      expect(serial).toContain(`${stem}: beacon boot and report sent, resetting`);
    }
    expect(serial.filter((line) => line.includes("callback failed"))).toEqual([]);
    expect(serial).toContain(POWEROFF_MESSAGE);

    const reports = await reportsByWorkload(folder);
    expect([...reports.keys()].sort()).toEqual(["1-hello.efi", "2-goodbye.efi"]);
    for (const [workload, text] of reports) {
      expect(text).toContain(`title: "${workload} ran"`);
      expect(text).toContain('server: "127.0.0.1"'); // QEMU's user network: the guest's connections come from loopback
      // Booted and reported by the sample itself, the report at least its 3 s of work later.
      const booted = Date.parse(/^booted: "(.+)"$/m.exec(text)?.[1] ?? "");
      const reported = Date.parse(/^reported: "(.+)"$/m.exec(text)?.[1] ?? "");
      expect(reported - booted).toBeGreaterThanOrEqual(3000);
    }
    expect(processesMentioning(folder)).toEqual([]); // the VM is gone with the demo
  },
  300_000,
);
