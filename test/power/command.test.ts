import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandPower } from "../../src/lab/types.ts";
import { commandDriver, stateFromOutput } from "../../src/power/command.ts";
import { PowerError } from "../../src/power/driver.ts";
import { bunRuntime } from "../../src/runtime/bun/index.ts";

// The command driver running real scripts: a small PDU that keeps its outlet's state in a
// file and records every argument list it was given.

const dir = mkdtempSync(join(tmpdir(), "dispatch-pdu-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pdu = join(dir, "pdu");
writeFileSync(
  pdu,
  `#!/bin/sh
# pdu OUTLET on|off|cycle|status|fail|hang|chatty|say WORDS…
state="${dir}/outlet-$1"
printf '%s\\n' "$*" >> "${dir}/calls"
case "$2" in
  on) echo on > "$state"; echo "Outlet $1: switched on" ;;
  off) echo off > "$state"; echo "Outlet $1: switched off" ;;
  cycle) echo on > "$state"; echo "Outlet $1: cycled" ;;
  status) echo "Outlet $1 power is $(cat "$state" 2>/dev/null || echo OFF)" ;;
  fail) echo "outlet $1: permission denied (wrong community string?)" >&2; exit 4 ;;
  hang) exec sleep 30 ;;
  chatty) head -c 1000000 /dev/zero | tr '\\0' 'x'; echo; echo "the last word" >&2; exit 1 ;;
  say) shift 2; echo "both on and off" ;;
esac
`,
);
chmodSync(pdu, 0o755);

const calls = () => (existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n") : []);
const outlet = (n: number, extra: Partial<CommandPower> = {}): CommandPower => ({
  kind: "command",
  on: `${pdu} ${n} on`,
  off: `${pdu} ${n} off`,
  cycle: `${pdu} ${n} cycle`,
  state: `${pdu} ${n} status`,
  ...extra,
});
const fail = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as PowerError);

describe("the command driver", () => {
  test("on, off and state by the command's word; a cycle of an outlet that is off switches it on", async () => {
    const log: string[] = [];
    const driver = commandDriver(outlet(1), { runtime: bunRuntime, log: (line) => log.push(line) });
    expect(driver.kind).toBe("command");
    expect(driver.bmc).toBe(`command ${pdu}`);
    expect(await driver.check()).toEqual({ power: "off", bootTarget: expect.stringContaining("DHCP"), notes: [] });
    await driver.on();
    expect(await driver.powerState()).toBe("on");
    await driver.off();
    expect(await driver.powerState()).toBe("off");
    await driver.cycle();
    expect(await driver.powerState()).toBe("on");
    await driver.cycle();
    expect(calls()).toEqual(["1 status", "1 on", "1 status", "1 off", "1 status", "1 status", "1 on", "1 status", "1 status", "1 cycle"]);
    expect(log).toContain(`power on: "${pdu} 1 on" exited 0: Outlet 1: switched on`);
  });

  test("without a state command the state is unknown, and the check says so", async () => {
    const driver = commandDriver(outlet(2, { state: undefined }), { runtime: bunRuntime });
    const check = await driver.check();
    expect(check.power).toBe("unknown");
    expect(check.notes).toEqual(["no state command: dispatch cannot see whether the server is on"]);
    await driver.cycle();
    expect(calls().at(-1)).toBe("2 cycle");
  });

  test("no shell: quotes make one argument, and a ; inside them runs nothing", async () => {
    const marker = join(dir, "should-not-exist");
    const driver = commandDriver(outlet(3, { on: `${pdu} 3 'on' "a b; touch ${marker}"` }), { runtime: bunRuntime });
    await driver.on();
    expect(calls().at(-1)).toBe(`3 on a b; touch ${marker}`);
    expect(existsSync(marker)).toBe(false);
  });

  test("a failing command: PowerError refused, with its exit status and what it printed", async () => {
    const error = await fail(commandDriver(outlet(4, { off: `${pdu} 4 fail` }), { runtime: bunRuntime }).off());
    expect(error).toBeInstanceOf(PowerError);
    expect(error!.kind).toBe("refused");
    expect(error!.message).toBe(`off: "${pdu} 4 fail" failed (exit status 4): outlet 4: permission denied (wrong community string?)`);
  });

  test("a command past its time bound is stopped: PowerError timeout", async () => {
    const error = await fail(commandDriver(outlet(5, { on: `${pdu} 5 hang` }), { runtime: bunRuntime, timeoutMs: 300 }).on());
    expect(error!.kind).toBe("timeout");
    expect(error!.message).toBe(`on: "${pdu} 5 hang" did not finish within 300ms and was stopped`);
  });

  test("a command that is not installed: PowerError unsupported", async () => {
    const error = await fail(commandDriver(outlet(6, { on: "dispatch-no-such-pdu 6 on" }), { runtime: bunRuntime }).on());
    expect(error!.kind).toBe("unsupported");
    expect(error!.message).toBe('on: "dispatch-no-such-pdu 6 on" could not be started: is dispatch-no-such-pdu installed and on PATH?');
  });

  test("a command that prints a megabyte: the message keeps a bounded tail, its last words included", async () => {
    const error = await fail(commandDriver(outlet(7, { cycle: `${pdu} 7 chatty`, state: undefined }), { runtime: bunRuntime }).cycle());
    expect(error!.kind).toBe("refused");
    expect(error!.message.length).toBeLessThan(1000);
    expect(error!.message).toEndWith("the last word");
  });

  test("a state command whose output names neither or both: PowerError, the output quoted", async () => {
    const error = await fail(commandDriver(outlet(8, { state: `${pdu} 8 say` }), { runtime: bunRuntime }).powerState());
    expect(error!.kind).toBe("refused");
    expect(error!.message).toBe(`state: "${pdu} 8 say" printed "both on and off", which says neither on nor off (or both): it should print on or off`);
  });
});

describe("reading on and off from a state command's output", () => {
  const cases: [string, "on" | "off" | undefined][] = [
    ["on", "on"],
    ["OFF\n", "off"],
    ["Chassis Power is on", "on"],
    ["Outlet 7: Off", "off"],
    ["state=on", "on"],
    ["Running", undefined],
    ["online", undefined],
    ["on/off: off", undefined],
    ["", undefined],
  ];
  for (const [output, state] of cases) test(JSON.stringify(output), () => expect(stateFromOutput(output)).toBe(state));
});
