// dispatch's mDNS announcement as beacon's side sees it: a real Avahi daemon on a second host.
// Everything runs in network namespaces this file makes (never on the machine's interfaces):
//
//   lab   br0 192.0.2.2/24, Avahi ── a: lab0 192.0.2.11/24 ── up0 198.51.100.1/24 ── uplink
//                                └─ b: lab0 192.0.2.12/24
//
// No namespace has a default route, as on a jump host whose lab NIC is not the uplink.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { type AvahiPeer, type Resolved, startAvahiPeer } from "../support/avahi.ts";
import { type NetnsDispatch, startDispatchIn } from "../support/dispatch-in-netns.ts";
import { type Netns, makeNetns, namespaceProblem } from "../support/netns.ts";
import { type Child, startProcess } from "../support/processes.ts";

// Each test starts processes in namespaces and waits on Avahi: room for a busy 2-core machine.
// (bunfig.toml's [test] timeout is not read by Bun 1.4.5; the default would be 5 s.)
setDefaultTimeout(45_000);

const type = "_dispatch._tcp";
const problem = namespaceProblem(["ip", "unshare", "mount", "timeout", "curl", "dbus-daemon", "avahi-daemon", "avahi-browse"]);
if (problem) console.warn(`skipping the mDNS tests with Avahi in network namespaces: ${problem}`);

// CI runs as root with the packages installed: there a skip would hide a broken setup.
if (problem && process.env.CI) {
  test("CI can run the mDNS namespace tests", () => {
    throw new Error(`the mDNS namespace tests cannot run in CI: ${problem}`);
  });
}

describe.skipIf(!!problem)("mDNS, resolved by Avahi on the lab network", () => {
  let netns: Netns;
  let lab: string;
  let a: string;
  let b: string;
  let avahi: AvahiPeer;
  const running: { stop(): Promise<unknown> }[] = [];
  const children: Child[] = [];

  const start = async (ns: string, args: string[]) => {
    const d = await startDispatchIn(netns, ns, args);
    running.push(d);
    return d;
  };
  const named = (name: string) => (found: Resolved[]) => found.filter((r) => r.name === name);
  const headFromLab = (url: string) => netns.exec(lab, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-I", "--max-time", "5", url]).stdout;

  beforeAll(async () => {
    netns = makeNetns();
    try {
      lab = netns.add("lab");
      a = netns.add("a");
      b = netns.add("b");
      const uplink = netns.add("up");
      netns.bridge(lab, "192.0.2.2/24");
      netns.link(a, "lab0", "192.0.2.11/24", lab, { ifname: "to-a", master: "br0" });
      netns.link(b, "lab0", "192.0.2.12/24", lab, { ifname: "to-b", master: "br0" });
      netns.link(a, "up0", "198.51.100.1/24", uplink, { ifname: "up0", address: "198.51.100.2/24" });
      avahi = await startAvahiPeer(lab);
    } catch (error) {
      netns.destroy();
      throw error;
    }
  }, 60_000);

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await Promise.all(running.map((d) => d.stop()));
    await avahi?.stop();
    netns?.destroy();
  }, 60_000);

  /**
   * For "the lab sees nothing": a dispatch in `ns` that does announce on the lab, started after
   * the one under test. Avahi hears the lab in order, so once it has resolved this witness it
   * has heard everything the other sent before (its announcements go out within about a second
   * of its start, and the witness needs longer than that to start, probe and announce).
   * Returns everything else Avahi sees.
   */
  const besidesWitness = async (ns: string, port: string) => {
    const witness = await start(ns, ["--bind", `0.0.0.0:${port}`]);
    const name = await witness.announced();
    const found = await avahi.browseUntil(type, (f) => named(name)(f).length > 0, `the witness ${name}`);
    return found.filter((r) => r.name !== name);
  };

  const stopAll = async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
    // Wait for the goodbyes to land, so the next test starts with an empty browse.
    await avahi.browseUntil(type, (found) => found.length === 0, "every dispatch gone");
  };

  test("dispatch bound to 0.0.0.0 without a default route is resolved with its lab address, port and TXT", async () => {
    expect(netns.exec(a, ["ip", "route", "show", "default"]).stdout.trim()).toBe("");
    const d = await start(a, ["--bind", "0.0.0.0:8080"]);
    const name = await d.announced();
    expect(name).toMatch(/^dispatch-[0-9a-f]{4}$/);
    // Every non-loopback interface serves 0.0.0.0, so both are announced on.
    expect(d.dispatch.output()).toContain("on lab0 (192.0.2.11), up0 (198.51.100.1)");

    const [entry, ...others] = named(name)(await avahi.browseUntil(type, (f) => named(name)(f).length > 0, name));
    expect(others).toEqual([]);
    expect(entry).toMatchObject({ address: "192.0.2.11", port: 8080, host: `${name}.local` });
    expect(entry!.txt).toEqual({
      path: "/dispatch",
      version: pkg.version,
      description: "dispatch: workloads from AMDEPYC/dispatch release v1, reports to issues of AMDEPYC/dispatch",
    });
    // What was announced reaches dispatch: the firmware's first request, from the lab.
    expect(headFromLab(`http://${entry!.address}:${entry!.port}${entry!.txt.path}`)).toBe("200");
  });

  test("after SIGTERM the goodbye makes Avahi drop the entry at once, and dispatch exits 0", async () => {
    const [d] = running as NetnsDispatch[];
    const name = await d!.announced();
    const watch = avahi.watch(type);
    children.push(watch);
    await watch.waitFor(new RegExp(`^\\+;.*;${name};`));
    running.splice(0);
    const stopped = d!.stop();
    // Without a goodbye Avahi would keep the entry until its TTL runs out (minutes).
    await watch.waitFor(new RegExp(`^-;.*;${name};`), 5000);
    expect(await stopped).toBe(0);
    expect(d!.dispatch.output()).toContain("stopping");
    watch.kill();
    expect(avahi.browse(type)).toEqual([]);
  });

  test("two dispatch instances on one link are both found, each under its own name and address", async () => {
    const [d1, d2] = await Promise.all([start(a, ["--bind", "0.0.0.0:8080"]), start(b, ["--bind", "0.0.0.0:8090"])]);
    const [n1, n2] = await Promise.all([d1.announced(), d2.announced()]);
    expect(n1).not.toBe(n2);
    const found = await avahi.browseUntil(type, (f) => named(n1)(f).length > 0 && named(n2)(f).length > 0, `${n1} and ${n2}`);
    expect(named(n1)(found)[0]).toMatchObject({ address: "192.0.2.11", port: 8080 });
    expect(named(n2)(found)[0]).toMatchObject({ address: "192.0.2.12", port: 8090 });
    await stopAll();
  });

  test("two hosts wanting the same name: ciao's conflict handling renames one, and both are found", async () => {
    const announcer = (ns: string) => {
      const child = startProcess(["ip", "netns", "exec", ns, process.execPath, new URL("../support/mdns-announce.ts", import.meta.url).pathname, "dispatch-same", "8080"], { name: `announcer in ${ns}` });
      children.push(child);
      return child;
    };
    const first = announcer(a);
    let second: Child | undefined;
    try {
      await first.waitFor(/mDNS: announced "dispatch-same"/);
      second = announcer(b);
      await second.waitFor(/"dispatch-same" is taken on the network; now "dispatch-same \(2\)"/);
      await second.waitFor(/mDNS: announced "dispatch-same \(2\)"/);
      const found = await avahi.browseUntil(type, (f) => f.length === 2, "both announcements");
      const byName = Object.fromEntries(found.map((r) => [r.name, r.address]));
      expect(byName).toEqual({ "dispatch-same": "192.0.2.11", "dispatch-same (2)": "192.0.2.12" });
    } finally {
      first.kill();
      second?.kill();
    }
    expect(await Promise.all([first.exited, second!.exited])).toEqual([0, 0]);
    await avahi.browseUntil(type, (f) => f.length === 0, "both gone");
  });

  test("a lab NIC that comes up after dispatch started is announced on, within a bound", async () => {
    // A host with no lab link yet: nothing to announce on.
    const late = netns.add("late");
    const d = await start(late, ["--bind", "0.0.0.0:8085"]);
    await d.dispatch.waitFor(/not announcing on any interface.*dispatch announces on one that comes up/);
    netns.link(late, "lab1", "192.0.2.13/24", lab, { ifname: "to-late", master: "br0" });
    // dispatch looks every 5 s, then probes and announces (about a second).
    const name = /mDNS: announced "([^"]+)"/.exec(await d.dispatch.waitFor(/mDNS: announced "/, 20_000))![1]!;
    expect(d.dispatch.output()).toContain("mDNS: lab1 (192.0.2.13) came up; announcing there too");
    const found = named(name)(await avahi.browseUntil(type, (f) => named(name)(f).length > 0, name));
    expect(found.map((r) => [r.address, r.port])).toEqual([["192.0.2.13", 8085]]);
    expect(headFromLab(`http://192.0.2.13:8085/dispatch`)).toBe("200");
    await stopAll();
  });

  test("a second lab NIC that comes up joins the announcement beside the first", async () => {
    const two = netns.add("two");
    netns.link(two, "lab1", "192.0.2.14/24", lab, { ifname: "to-two1", master: "br0" });
    const d = await start(two, ["--bind", "0.0.0.0:8086"]);
    const name = await d.announced();
    expect(d.dispatch.output()).toContain("on lab1 (192.0.2.14)");
    netns.link(two, "lab2", "192.0.2.15/24", lab, { ifname: "to-two2", master: "br0" });
    await d.dispatch.waitFor("mDNS: lab2 (192.0.2.15) came up; announcing there too", 20_000);
    await d.dispatch.waitFor("on lab1 (192.0.2.14), lab2 (192.0.2.15)", 20_000);
    // Avahi on the lab (one link to both) resolves the name to one of its addresses: both are dispatch's.
    const [entry] = named(name)(await avahi.browseUntil(type, (f) => named(name)(f).length > 0, name));
    expect(["192.0.2.14", "192.0.2.15"]).toContain(entry!.address);
    await stopAll();
  });

  test("bound to one address, dispatch is announced on that address's interface only", async () => {
    const d = await start(a, ["--bind", "192.0.2.11:8081"]);
    const name = await d.announced();
    expect(d.dispatch.output()).toContain("on lab0 (192.0.2.11)\n");
    const found = named(name)(await avahi.browseUntil(type, (f) => named(name)(f).length > 0, name));
    expect(found.map((r) => [r.address, r.port])).toEqual([["192.0.2.11", 8081]]);
    await stopAll();
  });

  test("bound to a second address of an interface, which ciao cannot announce: a warning says why", async () => {
    netns.exec(a, ["ip", "addr", "add", "192.0.2.21/24", "dev", "lab0"]);
    try {
      const d = await start(a, ["--bind", "192.0.2.21:8081"]);
      await d.dispatch.waitFor(/not announcing on any interface/);
      expect(d.dispatch.output()).toContain("ciao announces only the first IPv4 address of lab0 (192.0.2.11), not 192.0.2.21");
      expect(headFromLab("http://192.0.2.21:8081/dispatch")).toBe("200");
      await stopAll();
    } finally {
      netns.exec(a, ["ip", "addr", "del", "192.0.2.21/24", "dev", "lab0"], { allowFailure: true });
    }
  });

  test("--mdns-interface overrides the choice: announced on up0 only, the lab does not see it", async () => {
    const d = await start(a, ["--bind", "0.0.0.0:8080", "--mdns-interface", "up0", "--mdns-interface", "nosuch0"]);
    await d.announced();
    expect(d.dispatch.output()).toContain("on up0 (198.51.100.1)");
    expect(d.dispatch.output()).toContain('there is no network interface "nosuch0"');
    expect(await besidesWitness(b, "8090")).toEqual([]);
    await stopAll();
  });

  test("--no-mdns announces nothing", async () => {
    const d = await start(b, ["--bind", "0.0.0.0:8080", "--no-mdns"]);
    expect(headFromLab("http://192.0.2.12:8080/dispatch")).toBe("200");
    expect(await besidesWitness(a, "8090")).toEqual([]);
    expect(d.dispatch.output()).not.toContain("mDNS");
    await stopAll();
  });

  test("a failure to announce is a warning with the reason, and serving goes on", async () => {
    // A program holding UDP 5353 without sharing it (no SO_REUSEADDR): ciao cannot bind it.
    const holder = startProcess([
      "ip", "netns", "exec", b, process.execPath, "-e",
      `const s = require("node:dgram").createSocket("udp4"); s.bind(5353, () => console.log("holding 5353"));`,
    ]);
    children.push(holder);
    try {
      await holder.waitFor(/holding 5353/);
      const d = await start(b, ["--bind", "0.0.0.0:8080"]);
      await d.dispatch.waitFor(/not announcing on any interface/);
      expect(d.dispatch.output()).toMatch(/mDNS: not announcing on lab0: cannot use UDP port 5353: .*EADDRINUSE/);
      expect(headFromLab("http://192.0.2.12:8080/dispatch")).toBe("200");
      expect(avahi.browse(type)).toEqual([]);
      expect(await d.stop()).toBe(0);
      running.splice(0);
    } finally {
      holder.kill("SIGKILL");
    }
  });
});
