import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type IpmiPower, Secret } from "../../src/lab/types.ts";
import { PowerError } from "../../src/power/driver.ts";
import { bootFlagsFromRaw, ipmiDriver, type IpmiDriverOptions } from "../../src/power/ipmi.ts";
import { bunRuntime } from "../../src/runtime/bun/index.ts";
import { type IpmiSim, ipmiSimProblem, startIpmiSim } from "../support/ipmi-sim.ts";
import { until } from "../support/until.ts";

// The IPMI driver against a real BMC implementation: OpenIPMI's ipmi_sim on loopback, its
// "machine" a stand-in process (on while it lives), ipmitool as the client. Everything is
// checked by the BMC's word (ipmitool run by the test) and by the machine's process.

const problem = ipmiSimProblem();
if (problem) console.warn(`skipping the IPMI driver tests: ${problem}`);

describe.skipIf(problem !== undefined)("the IPMI driver against ipmi_sim", () => {
  let dir: string;
  let sim: IpmiSim;
  const log: string[] = [];
  const config = (changes: Partial<IpmiPower> = {}): IpmiPower => ({
    kind: "ipmi",
    bmc: `127.0.0.1:${sim.port}`,
    host: "127.0.0.1",
    port: sim.port,
    user: sim.user,
    password: new Secret(sim.password),
    cipher: 3,
    ...changes,
  });
  const driver = (changes: Partial<IpmiPower> = {}, options: Partial<IpmiDriverOptions> = {}) =>
    ipmiDriver(config(changes), { runtime: bunRuntime, timeoutMs: 20_000, log: (line) => log.push(line), ...options });
  const fail = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as PowerError);
  // ipmi_sim lets the machine shut down for poweroff_wait seconds before it kills it.
  const waitFor = (state: "on" | "off") => until(() => sim.power() === state, `ipmi_sim saying the power is ${state}`, 15_000);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dispatch-ipmi-"));
    sim = await startIpmiSim({ dir, poweroffWaitS: 1 });
  });
  afterAll(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("check: the power state, and that this BMC will not read back its boot flags", async () => {
    expect(sim.power()).toBe("off");
    expect(await driver().check()).toEqual({
      power: "off",
      bootTarget: "IPMI bootdev pxe (UEFI); the boot URL from DHCP",
      notes: ["the BMC does not read back its boot flags: at the end the boot override is cleared (bootdev none), not restored"],
      // ipmitool's boot device lasts one boot: dispatch arms it again after each `beacon boot`.
      once: true,
    });
  });

  test("on, off, and state, by the BMC's word and the machine's process", async () => {
    const d = driver();
    await d.on();
    await waitFor("on");
    expect(await d.powerState()).toBe("on");
    expect(sim.machinePid()).toBeNumber();
    await d.off();
    await waitFor("off");
    expect(await d.powerState()).toBe("off");
    await until(() => sim.machinePid() === undefined, "the machine's process ending");
  });

  test("cycle: a server that is off is switched on; one that is on gets a new machine", async () => {
    const d = driver();
    expect(await d.powerState()).toBe("off");
    await d.cycle();
    await waitFor("on");
    const first = await until(() => sim.machinePid(), "the machine's process");
    await d.cycle();
    const second = await until(() => {
      const pid = sim.machinePid();
      return pid !== undefined && pid !== first && pid;
    }, "a new machine process after the cycle", 15_000);
    expect(second).not.toBe(first);
    expect(sim.power()).toBe("on");
    await d.off();
    await waitFor("off");
  });

  test("pointAt on a BMC that refuses the boot device: noted, not thrown; power-on and restore then leave the boot device alone", async () => {
    const d = driver();
    const from = log.length;
    const said = await d.pointAt("http://192.0.2.1:8080/dispatch");
    expect(said).toMatch(/^boot device not set: the BMC refused it \(.*Set Chassis Boot Parameter 5 failed: Invalid data field in request\); the server boots by its own settings, its boot URL must come from DHCP$/);
    await d.rearm("http://192.0.2.1:8080/dispatch");
    await d.on();
    await waitFor("on");
    await d.restore();
    const calls = log.slice(from).map((line) => /ipmitool (.*?): (exit|timed)/.exec(line)?.[1]);
    expect(calls).toEqual(["raw 0x00 0x09 0x05 0x00 0x00", "chassis bootdev pxe options=efiboot", "chassis power on"]);
    await d.off();
    await waitFor("off");
  });

  test("a wrong password: PowerError credentials, and the password in no message or log line", async () => {
    const error = await fail(driver({ password: new Secret("not-the-password") }).powerState());
    expect(error).toBeInstanceOf(PowerError);
    expect(error!.kind).toBe("credentials");
    expect(error!.message).toBe(`127.0.0.1:${sim.port}: ipmitool chassis power status: the BMC refused the user name or password (> RAKP 2 HMAC is invalid | Error: Unable to establish IPMI v2 / RMCP+ session)`);
    const unknownUser = await fail(driver({ user: "nobody" }).powerState());
    expect(unknownUser!.kind).toBe("credentials");
    for (const text of [...log, error!.message, unknownUser!.message]) {
      expect(text).not.toContain("not-the-password");
      expect(text).not.toContain(sim.password);
    }
  });

  test("a port where no BMC answers: PowerError unreachable, within ipmitool's own bound", async () => {
    const error = await fail(driver({ port: await closedUdpPort(sim) }, { sessionTimeoutS: 1, retries: 1 }).powerState());
    expect(error!.kind).toBe("unreachable");
    expect(error!.message).toContain("no IPMI answer from the BMC");
  });

  test("a BMC that takes longer than the call's bound: PowerError timeout", async () => {
    const error = await fail(driver({ port: await closedUdpPort(sim) }, { timeoutMs: 300 }).powerState());
    expect(error!.kind).toBe("timeout");
    expect(error!.message).toBe(`127.0.0.1:${sim.port}: ipmitool chassis power status had no answer within 300ms`);
  });

  test("while ipmitool runs, its password is in its environment and in no process's command line", async () => {
    const password = `pw-${Math.random().toString(36).slice(2)}`;
    const port = await closedUdpPort(sim);
    // No BMC answers there, so ipmitool lives for about 2 s: time to look at /proc.
    const call = fail(driver({ port, password: new Secret(password) }, { sessionTimeoutS: 1, retries: 1 }).powerState());
    const pid = await until(() => processesWith(`${port}`).find((p) => p.cmdline.startsWith("ipmitool")), "ipmitool running", 5_000);
    const everyCommandLine = readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map((name) => readText(`/proc/${name}/cmdline`));
    expect(everyCommandLine.filter((cmdline) => cmdline.includes(password))).toEqual([]);
    expect(pid.cmdline).toContain(`ipmitool -I lanplus -H 127.0.0.1 -p ${port} -U ${sim.user} -E -C 3`);
    expect(readText(`/proc/${pid.pid}/environ`).split(" ")).toContain(`IPMI_PASSWORD=${password}`);
    expect((await call)!.kind).toBe("unreachable");
  });
});

describe("the boot flags ipmitool raw prints", () => {
  // Get System Boot Options, parameter 5 (IPMI 2.0 table 28-14): version 1, parameter 5, then the
  // 5 data bytes; here "valid, persistent, EFI, force PXE".
  test("the 5 data bytes of parameter 5, locked or not", () => {
    expect(bootFlagsFromRaw(" 01 05 e0 04 00 00 00\n")).toEqual([0xe0, 0x04, 0, 0, 0]);
    expect(bootFlagsFromRaw(" 01 85 80 08 00 00 00\n")).toEqual([0x80, 0x08, 0, 0, 0]);
  });
  test("anything else is not taken for boot flags", () => {
    expect(bootFlagsFromRaw(" 01 04 00\n")).toBeUndefined();
    expect(bootFlagsFromRaw(" 00 03 09 08 02 9f 91 12 00 02 0f 00 00 00 00\n")).toBeUndefined();
  });
});

/** The command line (NULs as spaces) of every process whose command line contains `text`. */
function processesWith(text: string): { pid: number; cmdline: string }[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => ({ pid: Number(name), cmdline: readText(`/proc/${name}/cmdline`) }))
    .filter((p) => p.cmdline.includes(text));
}

function readText(path: string): string {
  try {
    return readFileSync(path).toString("latin1").replaceAll("\0", " ").trim();
  } catch {
    return ""; // The process ended meanwhile.
  }
}

/** A UDP port nobody listens on (not the simulator's). */
async function closedUdpPort(sim: IpmiSim): Promise<number> {
  const { createSocket } = await import("node:dgram");
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const socket = createSocket("udp4");
      socket.bind(0, "127.0.0.1", () => {
        const { port } = socket.address();
        socket.close(() => resolve(port));
      });
    });
    if (port !== sim.port) return port;
  }
}
