// Run by deno.test.ts under Deno: the driver against the emulator named in argv, once per TLS
// policy, printing one JSON line each (no password in argv: it comes from the environment).
import { Secret } from "../../../src/lab/types.ts";
import { redfishDriver } from "../../../src/power/redfish/index.ts";

const [url, ca] = [String((globalThis as any).Deno.args[0]), String((globalThis as any).Deno.args[1])];
const password = new Secret(String((globalThis as any).Deno.env.get("BMC_PASSWORD")));
for (const [name, tls] of [["ca", { tlsVerify: true, ca }], ["no-verify", { tlsVerify: false }], ["system CAs", { tlsVerify: true }]] as const) {
  const driver = redfishDriver({ kind: "redfish", bmc: url, user: "admin", password, ...tls }, { retries: 0 });
  try {
    const check = await driver.check();
    const pointed = await driver.pointAt("http://192.0.2.1:8080/dispatch");
    await driver.close();
    console.log(JSON.stringify({ name, power: check.power, pointed }));
  } catch (error) {
    console.log(JSON.stringify({ name, kind: (error as { kind?: string }).kind, message: (error as Error).message }));
  }
}
