import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Child, startProcess } from "../../support/processes.ts";
import { run, toolEnv } from "./tools.ts";

/**
 * A lab network inside a network namespace the test makes: a bridge `br0` with the jump
 * host's address, one tap device per VM attached to it, and dnsmasq on the bridge handing out
 * addresses and the HTTP-boot URL. Nothing touches the machine's own interfaces: every name
 * below lives in the namespace and goes away with it.
 */

export type Lab = {
  readonly ns: string;
  /** `ip netns exec NS`: prefix for commands that must run in the namespace. */
  readonly exec: readonly string[];
  readonly taps: readonly string[];
  /** Starts dnsmasq on the bridge with this configuration (as in the README), leases in `dir`. */
  startDnsmasq(config: string): Promise<Child>;
  /** The address dnsmasq leased to a MAC address, once it has. */
  leasedAddress(mac: string): Promise<string | undefined>;
  /** Stops what it started and deletes the namespace with everything in it. */
  destroy(): Promise<void>;
};

export const labPrefix = "dispatch-lab-";

/** Removes namespaces left behind by earlier runs that were killed before they could clean up. */
async function removeStale(): Promise<void> {
  const listing = await run(["ip", "netns", "list"]).catch(() => "");
  for (const [, name, pid] of listing.matchAll(/^(dispatch-lab-(\d+))\b/gm)) {
    if (!isAlive(Number(pid))) await run(["ip", "netns", "del", name!]).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function createLab(options: { dir: string; address: string; taps: number }): Promise<Lab> {
  await removeStale();
  const ns = `${labPrefix}${process.pid}`;
  const ip = (...args: string[]) => run(["ip", "-n", ns, ...args]);
  const children: Child[] = [];
  const taps = Array.from({ length: options.taps }, (_, i) => `tap${i}`);
  const leases = join(options.dir, "dnsmasq.leases");

  await run(["ip", "netns", "add", ns]);
  const lab: Lab = {
    ns,
    exec: ["ip", "netns", "exec", ns],
    taps,
    async startDnsmasq(config) {
      const file = join(options.dir, "dnsmasq.conf");
      await Bun.write(file, config);
      await Bun.write(leases, "");
      const dnsmasq = startProcess(
        [
          ...lab.exec,
          "dnsmasq",
          "--no-daemon",
          `--conf-file=${file}`,
          `--dhcp-leasefile=${leases}`,
          `--pid-file=${join(options.dir, "dnsmasq.pid")}`,
          "--log-facility=-",
          "--log-dhcp",
        ],
        { name: "dnsmasq", env: toolEnv, inheritEnv: false },
      );
      children.push(dnsmasq);
      await dnsmasq.waitFor(/DHCP, IP range/, 10_000);
      return dnsmasq;
    },
    async leasedAddress(mac) {
      // One lease per line: expiry, MAC, IP, host name, client id.
      const text = await readFile(leases, "utf8").catch(() => "");
      return text
        .split("\n")
        .map((line) => line.split(" "))
        .find((fields) => fields[1]?.toLowerCase() === mac.toLowerCase())?.[2];
    },
    async destroy() {
      for (const child of children.splice(0).reverse()) await child.stop();
      for (const tap of taps) await ip("link", "del", tap).catch(() => undefined);
      await ip("link", "del", "br0").catch(() => undefined);
      await run(["ip", "netns", "del", ns]);
    },
  };
  try {
    await ip("link", "set", "lo", "up");
    await ip("link", "add", "br0", "type", "bridge");
    await ip("addr", "add", `${options.address}/24`, "dev", "br0");
    await ip("link", "set", "br0", "up");
    for (const tap of taps) {
      await ip("tuntap", "add", "dev", tap, "mode", "tap");
      await ip("link", "set", tap, "master", "br0");
      await ip("link", "set", tap, "up");
    }
  } catch (error) {
    await lab.destroy().catch(() => undefined);
    throw error;
  }
  return lab;
}
