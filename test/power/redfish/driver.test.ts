import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { type RedfishPower, Secret } from "../../../src/lab/types.ts";
import { PowerError } from "../../../src/power/driver.ts";
import { redfishDriver } from "../../../src/power/redfish/index.ts";
import { emulatorCertificate } from "../../redfish-emulator/certificate.ts";
import { type Quirks, type RedfishEmulator, startRedfishEmulator } from "../../redfish-emulator/index.ts";
import { type MemorySystem, memorySystem } from "../../redfish-emulator/system.ts";

/**
 * The Redfish driver against the emulator over real HTTPS on loopback (its certificate signed by
 * a CA made for this file, trusted through the lab file's `ca`): each quirk of real BMCs gives
 * the fallback and the message it should.
 */

const password = "s3cret-Pa55word!";
const user = "admin";
const bootUrl = "http://192.0.2.1:8080/dispatch";
const dhcpUrl = "http://192.0.2.1:8080/from-dhcp";
let dir: string;
let tls: Awaited<ReturnType<typeof emulatorCertificate>>;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dispatch-redfish-"));
  tls = await emulatorCertificate(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

type Setup = { bmc: RedfishEmulator; system: MemorySystem; driver: ReturnType<typeof redfishDriver>; config: RedfishPower };

async function setup(quirks: Quirks = {}, overrides: Partial<RedfishPower> = {}, initial: "On" | "Off" = "Off"): Promise<Setup> {
  const system = memorySystem(initial);
  const bmc = await startRedfishEmulator({ user, password, tls, system, quirks, dhcpBootUrl: dhcpUrl });
  cleanup.push(() => bmc.stop());
  const config: RedfishPower = { kind: "redfish", bmc: bmc.url, user, password: new Secret(password), tlsVerify: true, ca: tls.caPath, ...overrides };
  const driver = redfishDriver(config, { timeoutMs: 2_000, retries: 2, backoffMs: 5, pollMs: 5, taskTimeoutMs: 5_000 });
  cleanup.push(() => driver.close().catch(() => {}));
  return { bmc, system, driver, config };
}

const patches = (bmc: RedfishEmulator) => bmc.requests.filter((r) => r.method === "PATCH");

async function failure(promise: Promise<unknown>): Promise<PowerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PowerError);
  return error as PowerError;
}

/** The password and the basic-auth form of it, as they would show up if leaked. */
const leaks = (text: string) => text.includes(password) || text.includes(btoa(`${user}:${password}`));

describe("a BMC that follows the schema", () => {
  test("check, point, power on, restore, close: a session is opened and deleted, every PATCH carries the ETag", async () => {
    const { bmc, system, driver } = await setup();
    expect(await driver.check()).toEqual({ power: "off", bootTarget: "UefiHttp + HttpBootUri, Continuous", notes: [], once: false });
    expect(await driver.pointAt(bootUrl)).toBe("UefiHttp + HttpBootUri, Continuous");
    expect(bmc.boot()).toMatchObject({ BootSourceOverrideTarget: "UefiHttp", BootSourceOverrideEnabled: "Continuous", BootSourceOverrideMode: "UEFI", HttpBootUri: bootUrl });
    await driver.on();
    expect(system.boots).toEqual([bootUrl]);
    expect(await driver.powerState()).toBe("on");
    await driver.restore();
    expect(bmc.boot()).toMatchObject({ BootSourceOverrideTarget: "None", BootSourceOverrideEnabled: "Disabled", BootSourceOverrideMode: "Legacy", HttpBootUri: null });
    expect(bmc.sessions.created).toBe(1);
    await driver.close();
    expect(bmc.sessions).toMatchObject({ created: 1, deleted: 1 });
    expect(bmc.sessions.live()).toBe(0);

    expect(patches(bmc).length).toBe(2);
    for (const patch of patches(bmc)) expect(patch.headers["if-match"]).toMatch(/^"\d+"$/);
    // The password went once, in the login's body; every other call carried the session's token.
    const carrying = bmc.requests.filter((r) => leaks(JSON.stringify(r)));
    expect(carrying.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /redfish/v1/SessionService/Sessions"]);
    const afterLogin = bmc.requests.slice(bmc.requests.findIndex((r) => r.method === "POST") + 1);
    for (const r of afterLogin) expect(r.headers["x-auth-token"]).toMatch(/^[0-9a-f]{32}$/);
  });

  test("cycle uses PowerCycle where the BMC has it; a server that is off is switched on", async () => {
    const { bmc, system, driver } = await setup({}, {}, "On");
    await driver.check();
    await driver.cycle();
    await driver.off();
    await driver.cycle();
    const resets = bmc.requests.filter((r) => r.path.endsWith("ComputerSystem.Reset")).map((r) => JSON.parse(r.body).ResetType);
    expect(resets).toEqual(["PowerCycle", "ForceOff", "On"]);
    expect(system.boots.length).toBe(2);
  });

  test("several systems: the lab file must say which, and then that one is used", async () => {
    const { driver: unsaid } = await setup({ systems: 2 });
    const error = await failure(unsaid.check());
    expect(error.kind).toBe("unsupported");
    expect(error.message).toContain('say which with system = "…"');
    expect(error.message).toContain("/redfish/v1/Systems/2");
    const { bmc, driver } = await setup({ systems: 2 }, { system: "/redfish/v1/Systems/2" });
    await driver.check();
    expect(bmc.requests.some((r) => r.method === "GET" && r.path === "/redfish/v1/Systems/2")).toBe(true);
  });
});

describe("quirks of real BMCs", () => {
  test("428 without If-Match (Lenovo XCC, AMI, Huawei): the ETag from the GET is always sent, so no 428 is met", async () => {
    const { bmc, driver } = await setup({ requireIfMatch: true });
    await driver.check();
    await driver.pointAt(bootUrl);
    expect(bmc.boot().HttpBootUri).toBe(bootUrl);
    expect(patches(bmc).map((p) => p.headers["if-match"])).toEqual(['"1"']);
  });

  test("428 from a BMC that gives no ETag: If-Match: * and a note", async () => {
    const { bmc, driver } = await setup({ requireIfMatch: true, noEtag: true });
    await driver.check();
    const said = await driver.pointAt(bootUrl);
    expect(said).toContain("requires If-Match (428) and gives no ETag: sent If-Match: *");
    expect(patches(bmc).map((p) => p.headers["if-match"] ?? "(none)")).toEqual(["(none)", "*"]);
    expect(bmc.boot().HttpBootUri).toBe(bootUrl);
  });

  test("412 for a weak ETag: sent again without W/, and the note says so", async () => {
    const { bmc, driver } = await setup({ rejectWeakEtag: true });
    await driver.check();
    const said = await driver.pointAt(bootUrl);
    expect(said).toContain('refused its own weak ETag W/"1" in If-Match (412): sent it without W/');
    expect(patches(bmc).map((p) => p.headers["if-match"])).toEqual(['W/"1"', '"1"']);
    expect(bmc.boot().HttpBootUri).toBe(bootUrl);
  });

  test("412 because the resource changed since the GET: the fresh ETag is fetched and the PATCH sent again", async () => {
    const { bmc, driver } = await setup();
    await driver.check();
    bmc.touch(); // someone changed the system after dispatch read it
    await driver.pointAt(bootUrl);
    expect(bmc.boot().HttpBootUri).toBe(bootUrl);
    expect(patches(bmc).map((p) => p.headers["if-match"])).toEqual(['"1"', '"2"']);
  });

  test("no UefiHttp among the targets (OpenBMC): Pxe in UEFI mode, the URL from DHCP, said at check", async () => {
    const { bmc, system, driver } = await setup({ noUefiHttp: true });
    const check = await driver.check();
    expect(check.bootTarget).toBe("Pxe, URL from DHCP, Continuous");
    expect(check.notes.join("\n")).toContain("UefiHttp is not among the BMC's boot targets");
    expect(check.notes.join("\n")).toContain("OpenBMC");
    await driver.pointAt(bootUrl);
    expect(bmc.boot()).toMatchObject({ BootSourceOverrideTarget: "Pxe", BootSourceOverrideMode: "UEFI", HttpBootUri: null });
    await driver.on();
    expect(system.boots).toEqual([dhcpUrl]);
  });

  test("no HttpBootUri and no BIOS attribute: UefiHttp alone, the URL from DHCP", async () => {
    const { bmc, system, driver } = await setup({ noHttpBootUri: true });
    const check = await driver.check();
    expect(check.bootTarget).toBe("UefiHttp, URL from DHCP, Continuous");
    expect(check.notes.join("\n")).toContain("no HttpBootUri on this BMC: UefiHttp is set alone");
    await driver.pointAt(bootUrl);
    expect(bmc.boot()).toMatchObject({ BootSourceOverrideTarget: "UefiHttp", BootSourceOverrideMode: "UEFI" });
    expect(bmc.boot()).not.toHaveProperty("HttpBootUri");
    await driver.on();
    expect(system.boots).toEqual([dhcpUrl]);
  });

  test("no HttpBootUri, iDRAC's BIOS HttpDev1Uri: set through Bios/Settings, taken at the next power-on, put back at restore", async () => {
    const { bmc, system, driver } = await setup({ noHttpBootUri: true, biosHttpDevUri: true });
    const check = await driver.check();
    expect(check.bootTarget).toBe("UefiHttp + BIOS HttpDev1Uri, Continuous");
    expect(check.notes.join("\n")).toContain("the URL goes into the BIOS attribute HttpDev1Uri");
    await driver.pointAt(bootUrl);
    expect(bmc.bios().pending).toEqual({ HttpDev1EnDis: "Enabled", HttpDev1Uri: bootUrl, HttpDev1TlsMode: "None" });
    await driver.on();
    expect(system.boots).toEqual([bootUrl]);
    expect(bmc.bios().current).toMatchObject({ HttpDev1EnDis: "Enabled", HttpDev1Uri: bootUrl });
    await driver.restore();
    expect(bmc.bios().pending).toEqual({ HttpDev1EnDis: "Disabled", HttpDev1Uri: "", HttpDev1TlsMode: "OneWay" });
    for (const patch of patches(bmc)) expect(patch.headers["if-match"]).toMatch(/^"\d+"$/);
  });

  test("HttpBootUri shown but not writable (HPE iLO): refused once, then UefiHttp alone, and the note names the refusal", async () => {
    const { bmc, driver } = await setup({ readOnlyHttpBootUri: true });
    expect((await driver.check()).bootTarget).toBe("UefiHttp + HttpBootUri, Continuous");
    const said = await driver.pointAt(bootUrl);
    expect(said).toContain("the BMC refused HttpBootUri (HPE iLO does): UefiHttp is set alone and the URL comes from DHCP");
    expect(said.startsWith("UefiHttp, URL from DHCP, Continuous")).toBe(true);
    expect(bmc.boot()).toMatchObject({ BootSourceOverrideTarget: "UefiHttp", BootSourceOverrideEnabled: "Continuous", HttpBootUri: null });
  });

  test("no Continuous override: Once, consumed by the boot, armed again by rearm()", async () => {
    const { bmc, system, driver } = await setup({ noContinuous: true });
    const check = await driver.check();
    expect([check.bootTarget, check.once]).toEqual(["UefiHttp + HttpBootUri, Once", true]);
    await driver.pointAt(bootUrl);
    await driver.on();
    expect(system.boots).toEqual([bootUrl]);
    expect(bmc.boot().BootSourceOverrideEnabled).toBe("Disabled");
    await driver.rearm(bootUrl);
    expect(bmc.boot()).toMatchObject({ BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "UefiHttp", HttpBootUri: bootUrl });
  });

  test("no PowerCycle (ResetTypes in an ActionInfo): a cycle is ForceOff, Off by the BMC's word, then On", async () => {
    const { bmc, system, driver } = await setup({ noPowerCycle: true, resetActionInfo: true }, {}, "On");
    const check = await driver.check();
    expect(check.notes.join("\n")).toContain("no PowerCycle among the reset types");
    expect(bmc.requests.some((r) => r.path.endsWith("/ResetActionInfo"))).toBe(true);
    await driver.cycle();
    const resets = bmc.requests.filter((r) => r.path.endsWith("ComputerSystem.Reset")).map((r) => JSON.parse(r.body).ResetType);
    expect(resets).toEqual(["ForceOff", "On"]);
    expect(system.power()).toBe("On");
    expect(system.boots.length).toBe(1);
  });

  test("no SessionService: basic auth on every call, said at check", async () => {
    const { bmc, driver } = await setup({ noSessions: true });
    const check = await driver.check();
    expect(check.notes).toContain("no SessionService: HTTP basic authentication on every call");
    await driver.pointAt(bootUrl);
    await driver.close();
    expect(bmc.sessions.created).toBe(0);
    const authed = bmc.requests.filter((r) => r.path !== "/redfish/v1/");
    expect(authed.length).toBeGreaterThan(0);
    for (const r of authed) expect(r.headers.authorization).toBe(`Basic ${btoa(`${user}:${password}`)}`);
  });

  test("202 with a task monitor: followed until done, for the PATCH and the reset", async () => {
    const { bmc, system, driver } = await setup({ tasks: 2 });
    await driver.check();
    await driver.pointAt(bootUrl);
    expect(bmc.boot().HttpBootUri).toBe(bootUrl);
    await driver.on();
    expect(system.boots).toEqual([bootUrl]);
    expect(bmc.requests.filter((r) => r.path.includes("/TaskMonitors/")).length).toBe(6);
  });

  test("5xx bursts are retried with backoff", async () => {
    const { bmc, driver } = await setup({ failFirst: 2 });
    expect((await driver.check()).power).toBe("off");
    expect(bmc.requests.slice(0, 3).map((r) => r.path)).toEqual(["/redfish/v1/", "/redfish/v1/", "/redfish/v1/"]);
  });
});

describe("failures the core can act on, with no credential in them", () => {
  test("a BMC slower than the time bound: timeout", async () => {
    const system = memorySystem();
    const bmc = await startRedfishEmulator({ user, password, tls, system, quirks: { slowMs: 400 } });
    cleanup.push(() => bmc.stop());
    const driver = redfishDriver({ kind: "redfish", bmc: bmc.url, user, password: new Secret(password), tlsVerify: true, ca: tls.caPath }, { timeoutMs: 100, retries: 1, backoffMs: 5 });
    const error = await failure(driver.check());
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain("GET /redfish/v1/: no answer within 0.1 s");
  });

  test("wrong password: credentials, and the password is in neither the message nor the error's inspection", async () => {
    const { driver } = await setup({}, { password: new Secret(`${password}-wrong`) });
    const error = await failure(driver.check());
    expect(error.kind).toBe("credentials");
    expect(error.message).toContain("refused the user name or password");
    expect(leaks(error.message) || leaks(inspect(error)) || inspect(error).includes(`${password}-wrong`)).toBe(false);
  });

  test("wrong password without sessions (basic auth): credentials too", async () => {
    const { driver } = await setup({ noSessions: true }, { password: new Secret("nope") });
    const error = await failure(driver.check());
    expect(error.kind).toBe("credentials");
    expect(inspect(error)).not.toContain("nope");
  });

  test("nothing listening: unreachable", async () => {
    const { bmc, config } = await setup();
    await bmc.stop();
    const error = await failure(redfishDriver(config, { retries: 1, backoffMs: 5 }).check());
    expect(error.kind).toBe("unreachable");
    expect(error.message).toContain("connection refused");
  });

  test("TLS: a certificate not trusted is refused with what to do; tls_verify = false accepts it", async () => {
    const { config } = await setup();
    const error = await failure(redfishDriver({ ...config, ca: undefined }, { retries: 0 }).check());
    expect(error.kind).toBe("unreachable");
    expect(error.message).toContain('give its CA with ca = "…" in the lab file, or set tls_verify = false');
    const unverified = redfishDriver({ ...config, ca: undefined, tlsVerify: false });
    cleanup.push(() => unverified.close());
    expect((await unverified.check()).power).toBe("off");
  });

  test("a session Location on another host: refused, and that host gets no request at all", async () => {
    const other = await startRedfishEmulator({ user, password, tls, system: memorySystem() });
    cleanup.push(() => other.stop());
    const { bmc, driver } = await setup({ foreignLocation: other.url });
    const error = await failure(driver.check());
    expect(error.kind).toBe("refused");
    expect(error.message).toContain(`the BMC pointed to ${other.url}, another host`);
    expect(other.requests).toEqual([]);
    expect(bmc.requests.length).toBeGreaterThan(0);
  });

  test("a task monitor on another host: not followed, no request there", async () => {
    const other = await startRedfishEmulator({ user, password, tls, system: memorySystem() });
    cleanup.push(() => other.stop());
    const { driver } = await setup({ foreignLocation: other.url, tasks: 1, noSessions: true });
    await driver.check();
    const error = await failure(driver.pointAt(bootUrl));
    expect(error.message).toContain("another host");
    expect(leaks(error.message)).toBe(false);
    expect(other.requests).toEqual([]);
  });
});
