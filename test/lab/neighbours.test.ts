import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addressOf, macOf, parseIpNeigh, parseProcNetArp, readNeighbours } from "../../src/lab/neighbours.ts";
import { bunRuntime } from "../../src/runtime/bun/index.ts";
import { makeNetns, namespaceProblem, type Netns } from "../support/netns.ts";

// The neighbour table as iproute2 and the kernel print it: entries made for real in a network
// namespace the test owns (a veth link to a second one, permanent entries), read back both ways.

describe("neighbour table output of this kind of machine", () => {
  test("ip -j neigh as printed here: a STALE entry kept, a FAILED one without an address and a NOARP one dropped", () => {
    // Printed by `ip -j neigh` (iproute2 6.1) on the machine these tests were written on.
    const printed =
      '[{"dst":"0.0.0.0","dev":"lo","lladdr":"00:00:00:00:00:00","state":["NOARP"]},{"dst":"192.0.2.1","dev":"eth0","lladdr":"02:fc:00:00:00:05","state":["STALE"]},{"dst":"fd00::1","dev":"eth0","state":["FAILED"]}]';
    expect(parseIpNeigh(printed)).toEqual([{ ip: "192.0.2.1", mac: "02:fc:00:00:00:05", device: "eth0" }]);
  });
});

const problem = namespaceProblem(["ip"]);
describe.skipIf(problem !== undefined)("neighbour entries made in a namespace", () => {
  if (problem) console.warn(`skipping: ${problem}`);
  let netns: Netns;
  let ns: string;
  afterAll(() => netns?.destroy());

  beforeAll(() => {
    netns = makeNetns();
    ns = netns.add("jump");
    netns.link(ns, "lab0", "192.0.2.1/24", netns.add("rack"), { ifname: "srv0", address: "192.0.2.2/24" });
    netns.exec(ns, ["ip", "addr", "add", "2001:db8::1/64", "dev", "lab0", "nodad"]);
    for (const [ip, mac] of [
      ["192.0.2.101", "52:54:00:12:34:56"],
      ["2001:db8::101", "52:54:00:12:34:56"],
      ["fe80::5054:ff:fe12:3456", "52:54:00:12:34:56"],
      ["192.0.2.102", "52:54:00:AB:CD:EF"],
    ]) {
      netns.exec(ns, ["ip", "neigh", "add", ip!, "lladdr", mac!, "dev", "lab0", "nud", "permanent"]);
    }
  });

  test("ip -j neigh and /proc/net/arp give the same IPv4 entries; a MAC's address is its IPv4 one", () => {
    const fromIp = parseIpNeigh(netns.exec(ns, ["ip", "-j", "neigh", "show"]).stdout);
    const fromProc = parseProcNetArp(netns.exec(ns, ["cat", "/proc/net/arp"]).stdout);
    const ipv4 = [
      { ip: "192.0.2.101", mac: "52:54:00:12:34:56", device: "lab0" },
      { ip: "192.0.2.102", mac: "52:54:00:ab:cd:ef", device: "lab0" },
    ];
    const byIp = (a: { ip: string }, b: { ip: string }) => a.ip.localeCompare(b.ip);
    expect(fromProc.sort(byIp)).toEqual(ipv4);
    expect(fromIp.filter((n) => !n.ip.includes(":")).sort(byIp)).toEqual(ipv4);
    // Only the entries made here: the kernel may add its own for the peer's link-local address.
    expect(fromIp.filter((n) => n.ip.includes(":") && n.mac === "52:54:00:12:34:56").map((n) => n.ip).sort()).toEqual(["2001:db8::101", "fe80::5054:ff:fe12:3456"]);
    expect(addressOf("52-54-00-12-34-56", fromIp)).toBe("192.0.2.101");
    expect(addressOf("52:54:00:ab:cd:ef", fromIp)).toBe("192.0.2.102");
    expect(addressOf("52:54:00:00:00:99", fromIp)).toBeUndefined();
    expect(macOf("192.0.2.102", fromIp)).toBe("52:54:00:ab:cd:ef");
    expect(macOf("2001:db8::101", fromIp)).toBe("52:54:00:12:34:56");
  });

  test("an IPv6-only MAC gets its global address before its link-local one; readNeighbours runs ip -j neigh", async () => {
    netns.exec(ns, ["ip", "neigh", "del", "192.0.2.101", "dev", "lab0"]);
    // The runtime's run, with the command sent into the namespace.
    const inNamespace = { ...bunRuntime, run: (command: readonly string[], options?: Parameters<typeof bunRuntime.run>[1]) => bunRuntime.run(["ip", "netns", "exec", ns, ...command], options) };
    const table = await readNeighbours(inNamespace);
    expect(addressOf("52:54:00:12:34:56", table)).toBe("2001:db8::101");
    expect(table.map((n) => n.ip)).not.toContain("192.0.2.101");
  });
});
