import { describe, expect, test } from "bun:test";
import { type LabServer, Secret } from "../../src/lab/types.ts";
import { createDriver } from "../../src/power/create.ts";
import { bunRuntime } from "../../src/runtime/bun/index.ts";

// Which driver a lab server gets: the factory the app calls once per server at start.

const base = { name: "s", ip: "192.0.2.1", tags: [] } satisfies LabServer;
const options = { runtime: bunRuntime };

describe("createDriver", () => {
  test("no power: no driver (served as today)", () => {
    expect(createDriver(base, options)).toBeUndefined();
  });

  test("ipmi and command servers get their drivers, named by their BMC or command", () => {
    const ipmi = createDriver(
      { ...base, power: { kind: "ipmi", bmc: "10.0.0.2:6230", host: "10.0.0.2", port: 6230, user: "admin", password: new Secret("x") } },
      options,
    );
    expect([ipmi?.kind, ipmi?.bmc]).toEqual(["ipmi", "10.0.0.2:6230"]);
    const command = createDriver({ ...base, power: { kind: "command", on: "/usr/bin/pdu 1 on", off: "pdu 1 off", cycle: "pdu 1 cycle" } }, options);
    expect([command?.kind, command?.bmc]).toEqual(["command", "command /usr/bin/pdu"]);
  });
});
