import { describe, expect, test } from "bun:test";
import { announceTarget, type Nics } from "../../src/mdns/interfaces.ts";

// A jump host: loopback, the uplink with the default route, a lab NIC with a second address,
// a VLAN interface, and an interface with only IPv6.
const nics: Nics = {
  lo: [
    { address: "127.0.0.1", family: "IPv4", internal: true },
    { address: "::1", family: "IPv6", internal: true },
  ],
  eth0: [
    { address: "203.0.113.5", family: "IPv4", internal: false },
    { address: "fe80::1", family: "IPv6", internal: false },
  ],
  eth1: [
    { address: "192.0.2.1", family: "IPv4", internal: false },
    { address: "192.0.2.9", family: "IPv4", internal: false },
    { address: "2001:db8::1", family: "IPv6", internal: false },
  ],
  "eth1.100": [{ address: "198.51.100.1", family: 4, internal: false }],
  v6only: [{ address: "2001:db8:1::1", family: "IPv6", internal: false }],
};
const names = (t: ReturnType<typeof announceTarget>) => t.interfaces.map((i) => i.name);

describe("where dispatch is announced", () => {
  test("0.0.0.0: every non-loopback interface with an IPv4 address, no AAAA records", () => {
    const t = announceTarget("0.0.0.0", [], nics);
    expect(t.interfaces).toEqual([
      { name: "eth0", ipv4: "203.0.113.5" },
      { name: "eth1", ipv4: "192.0.2.1" },
      { name: "eth1.100", ipv4: "198.51.100.1" },
    ]);
    expect(t.addresses).toBeUndefined();
    expect(t.ipv6).toBe(false);
    // Interfaces nobody asked for are left out quietly: a jump host may have many (containers).
    expect(t.problems).toEqual([]);
    expect(announceTarget("0.0.0.0", ["eth1", "v6only"], nics).problems).toEqual([
      "v6only has no IPv4 address, which mDNS announcements are sent from",
    ]);
  });

  test(":: is served on IPv6 too: AAAA records are announced", () => {
    const t = announceTarget("::", [], nics);
    expect(names(t)).toEqual(["eth0", "eth1", "eth1.100"]);
    expect(t.ipv6).toBe(true);
  });

  test("a specific address: only the interface holding it, and only that address", () => {
    const t = announceTarget("192.0.2.1", [], nics);
    expect(names(t)).toEqual(["eth1"]);
    expect(t.addresses).toEqual(["192.0.2.1"]);
    expect(t.problems).toEqual([]);
  });

  test("a second IPv4 address of an interface cannot be announced (ciao keeps the first)", () => {
    const t = announceTarget("192.0.2.9", [], nics);
    expect(t.interfaces).toEqual([]);
    expect(t.problems).toEqual([
      "ciao announces only the first IPv4 address of eth1 (192.0.2.1), not 192.0.2.9: bind to that or to 0.0.0.0",
    ]);
  });

  test("a specific IPv6 address: its interface, sending over that interface's IPv4", () => {
    const t = announceTarget("2001:DB8::1", [], nics);
    expect(t.interfaces).toEqual([{ name: "eth1", ipv4: "192.0.2.1" }]);
    expect(t.addresses).toEqual(["2001:DB8::1"]);
    expect(t.ipv6).toBe(true);
  });

  test("a specific IPv6 address on an interface without IPv4: says so", () => {
    expect(announceTarget("2001:db8:1::1", [], nics).problems).toEqual([
      "v6only has no IPv4 address, which mDNS announcements are sent from",
    ]);
  });

  test("loopback: nothing on the network can reach it, so nothing is announced", () => {
    const t = announceTarget("127.0.0.1", [], nics);
    expect(t.interfaces).toEqual([]);
    expect(t.problems).toEqual(["bound to loopback (127.0.0.1): nothing on the network can reach it"]);
  });

  test("--mdns-interface replaces the choice; unknown names are reported", () => {
    const t = announceTarget("0.0.0.0", ["eth1", "eth1", "wlan0"], nics);
    expect(names(t)).toEqual(["eth1"]);
    expect(t.problems).toEqual(['there is no network interface "wlan0" that is up (up: lo, eth0, eth1, eth1.100, v6only)']);
  });

  test("--mdns-interface leaving out the interface of a specific bind address", () => {
    const t = announceTarget("192.0.2.1", ["eth0"], nics);
    expect(t.interfaces).toEqual([]);
    expect(t.problems).toEqual(["the bind address 192.0.2.1 is on eth1, which --mdns-interface leaves out"]);
    expect(names(announceTarget("192.0.2.1", ["eth0", "eth1"], nics))).toEqual(["eth1"]);
  });

  test("only loopback: says so", () => {
    const t = announceTarget("0.0.0.0", [], { lo: nics.lo });
    expect(t.interfaces).toEqual([]);
    expect(t.problems).toEqual(["there is no network interface with an IPv4 address besides loopback"]);
    expect(announceTarget("0.0.0.0", [], { lo: nics.lo, v6only: nics.v6only }).problems).toEqual([
      "there is no network interface with an IPv4 address besides loopback",
    ]);
  });
});
