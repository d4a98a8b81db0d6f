import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readFileSync, readdirSync, symlinkSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { QEMU } from "../../src/demo/vm.ts";
import { type Child, startProcess } from "../support/processes.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { demoFolder, exitStatus, repoRoot, reportsByWorkload, runSteps, stepsAfterBun } from "./readme-demo.ts";

/**
 * The README's set-up-and-run command on a machine without QEMU: `dispatch demo` says so in
 * one line, plays the servers on loopback, writes both reports, and exits 0 with nothing left
 * running. (The same command with QEMU and OVMF boots a VM: test/qemu/demo.test.ts.)
 */

const temp = tempDirs();
let child: Child | undefined;
afterEach(async () => {
  await child?.stop();
  child = undefined;
  temp.removeAll();
});

/** A PATH with only Bun and a shell on it: no qemu-system-x86_64, as on a fresh machine. */
function pathWithoutQemu(): string {
  const bin = join(temp.make("demo-bin-"), "bin");
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, "bun"));
  symlinkSync("/bin/sh", join(bin, "sh"));
  expect(readdirSync(bin)).not.toContain(QEMU);
  return bin;
}

/** Whether something accepts connections on 127.0.0.1:port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

test("the README's run command, without QEMU: servers played on loopback, two reports, exit 0, nothing left running", async () => {
  const { installBun, rest } = await stepsAfterBun();
  expect(installBun).toBe(`npm install --global bun@${Bun.version}`); // the Bun this test runs on is the one it installs
  expect(rest).toBe("bun install --frozen-lockfile && bun run demo");

  const tmp = temp.make("demo-tmp-");
  child = runSteps(rest, { PATH: pathWithoutQemu(), TMPDIR: tmp });
  // A hang guard, not a timing check: the samples work 3 s each, two servers at once.
  const code = await exitStatus(child, 60_000);
  const output = child.output();
  expect({ code, output }).toMatchObject({ code: 0 });

  expect(output).toContain(`demo: no virtual machine (${QEMU} not found (Debian: qemu-system-x86)): dispatch plays 2 servers itself on loopback (127.0.0.2, 127.0.0.3)`);
  expect(output.match(/no virtual machine/g)).toHaveLength(1); // said once
  expect(output).toContain("demo: done: every server is off; 2 of 2 workloads finished with a report, 0 failed");

  const folder = demoFolder(tmp);
  expect(output).toContain(`cat ${join(folder, "reports", "*.md")}`);
  for (const name of ["1-hello.efi", "2-goodbye.efi"]) {
    expect(readFileSync(join(folder, "workloads", name)).subarray(0, 2).toString()).toBe("MZ");
  }
  const reports = await reportsByWorkload(folder);
  expect([...reports.keys()].sort()).toEqual(["1-hello.efi", "2-goodbye.efi"]);
  for (const [workload, text] of reports) {
    expect(text).toContain(`title: "${workload} ran"`);
    expect(text).toContain('labels: ["demo"]');
    expect(text).toMatch(/^server: "127\.0\.0\.[23]"$/m);
    expect(text).toContain("through the firmware's own HTTP client");
  }
  // Both played servers got a workload and then poweroff.efi.
  expect(output).toContain("🔌 127.0.0.2 gets poweroff.efi");
  expect(output).toContain("🔌 127.0.0.3 gets poweroff.efi");

  // Loopback only, and closed: the one listening line names 127.0.0.1, and nothing answers there now.
  const port = Number(/listening on 127\.0\.0\.1:(\d+);/.exec(output)?.[1]);
  expect(port).toBeGreaterThan(0);
  expect(await listening(port)).toBe(false);
  expect(output).not.toContain("mDNS");
}, 90_000);

test("dispatch demo refuses an unknown option with the closest one, exit 2", async () => {
  const { rest } = await stepsAfterBun();
  child = runSteps(`${rest.replace(/bun run demo$/, "bun run demo --no-vn")}`, { PATH: pathWithoutQemu(), TMPDIR: temp.make("demo-tmp-") });
  const code = await exitStatus(child, 30_000);
  expect(code).toBe(2);
  expect(child.output()).toContain("unknown option --no-vn (did you mean --no-vm?)");
});

test("Ctrl-C while a sample runs: dispatch demo stops its servers and itself, and the port is closed", async () => {
  const tmp = temp.make("demo-tmp-");
  child = startProcess([process.execPath, join(repoRoot, "src/main.ts"), "demo", "--no-vm", "--log-format", "plain"], { cwd: tmp, env: { TMPDIR: tmp } });
  await child.waitFor("⚡ 1-hello.efi booting", 20_000);
  const port = Number(/listening on 127\.0\.0\.1:(\d+);/.exec(child.output())?.[1]);
  await child.kill("SIGINT");
  expect(await exitStatus(child, 30_000)).toBe(0);
  expect(child.output()).toContain("stopping");
  expect(child.output()).not.toContain("demo: done");
  expect(await listening(port)).toBe(false);
});
