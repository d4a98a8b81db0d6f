// `dispatch beacon` finding dispatch by mDNS on its own: no Avahi, no D-Bus. Everything runs in
// network namespaces this file makes (never on the machine's interfaces):
//
//   lab   br0 192.0.2.2/24, the workload ── a: lab0 192.0.2.11/24, dispatch (ciao)
//                                       └─ b: lab0 192.0.2.12/24, dispatch (ciao)
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { usableAddress } from "../../src/beacon/discover/mdns.ts";
import { type NetnsDispatch, startDispatchIn } from "../support/dispatch-in-netns.ts";
import { type Netns, makeNetns, namespaceProblem } from "../support/netns.ts";
import { denoCommand, denoEnv, mainTs, startBeacon } from "./support/beacon-cli.ts";

setDefaultTimeout(60_000);

const problem = namespaceProblem(["ip", "curl"]);
if (problem) console.warn(`skipping beacon's mDNS tests in network namespaces: ${problem}`);
if (problem && process.env.CI) {
  test("CI can run beacon's mDNS namespace tests", () => {
    throw new Error(`beacon's mDNS namespace tests cannot run in CI: ${problem}`);
  });
}

test("loopback and link-local addresses are not candidates", () => {
  expect(["127.0.0.1", "127.1.2.3", "169.254.10.1", "::1", "fe80::1", "FE80::abcd", "0.0.0.0"].filter(usableAddress)).toEqual([]);
  expect(["192.0.2.11", "10.0.0.1", "2001:db8::1", "fd00::1"].filter(usableAddress)).toEqual(["192.0.2.11", "10.0.0.1", "2001:db8::1", "fd00::1"]);
});

describe.skipIf(!!problem)("mDNS in network namespaces: ciao announcing, beacon asking", () => {
  let netns: Netns;
  let lab: string;
  let a: string;
  let b: string;
  const running: NetnsDispatch[] = [];

  beforeAll(() => {
    netns = makeNetns();
    try {
      lab = netns.add("lab");
      a = netns.add("a");
      b = netns.add("b");
      netns.bridge(lab, "192.0.2.2/24");
      netns.link(a, "lab0", "192.0.2.11/24", lab, { ifname: "to-a", master: "br0" });
      netns.link(b, "lab0", "192.0.2.12/24", lab, { ifname: "to-b", master: "br0" });
    } catch (error) {
      netns.destroy();
      throw error;
    }
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
  });
  afterAll(() => netns?.destroy());

  const start = async (ns: string, bind: string) => {
    const d = await startDispatchIn(netns, ns, ["--bind", bind]);
    running.push(d);
    return d;
  };
  /** The lab host's firmware: HEAD and GET the boot URL, so that dispatch hands it a job. */
  const download = (url: string) => {
    expect(netns.exec(lab, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", url]).stdout).toBe("200");
  };
  /** `dispatch beacon …` on the lab host, where only mDNS can tell it where dispatch is. */
  const beacon = (args: string[], stdin?: string, runtime: readonly string[] = [process.execPath, mainTs]) =>
    startBeacon([...args, "--efivars", "/nonexistent", "-v"], { command: ["ip", "netns", "exec", lab, ...runtime], stdin, env: denoEnv }).done;

  test("one dispatch: found by its TXT path and lab address, boot and report delivered", async () => {
    const d = await start(a, "0.0.0.0:8080");
    const name = await d.announced();
    download("http://192.0.2.11:8080/dispatch");

    const boot = await beacon(["boot"]);
    expect(boot.stderr).toContain(`boot taken by http://192.0.2.11:8080/dispatch (from mDNS "${name}._dispatch._tcp.local")`);
    expect(boot.code).toBe(0);

    const report = await beacon(["report", "-t", "found by mDNS"], "no Avahi here\n");
    expect(report.code).toBe(0);
    await d.dispatch.waitFor(/found by mDNS|reported/, 20_000);
  });

  test("under Deno too (node:dgram there)", async () => {
    const d = await start(a, "0.0.0.0:8080");
    const name = await d.announced();
    download("http://192.0.2.11:8080/dispatch");
    const boot = await beacon(["boot"], undefined, denoCommand);
    expect(boot.stderr).toContain(`boot taken by http://192.0.2.11:8080/dispatch (from mDNS "${name}._dispatch._tcp.local")`);
    expect(boot.code).toBe(0);
  });

  test("two dispatch instances on one link: the one without this machine's job answers 417 and the other takes it", async () => {
    const [d1, d2] = await Promise.all([start(a, "0.0.0.0:8080"), start(b, "0.0.0.0:8090")]);
    const [n1, n2] = await Promise.all([d1.announced(), d2.announced()]);
    // beacon asks instances in name order: the job goes to the one asked second, so the first must hand over.
    const [first, second] = [
      { name: n1, url: "http://192.0.2.11:8080/dispatch" },
      { name: n2, url: "http://192.0.2.12:8090/dispatch" },
    ].sort((x, y) => (`${x.name}._dispatch._tcp.local` < `${y.name}._dispatch._tcp.local` ? -1 : 1));
    download(second!.url);

    const boot = await beacon(["boot"]);
    expect(boot.stderr).toContain(`${first!.url} answered 417`);
    expect(boot.stderr).toContain(`boot taken by ${second!.url}`);
    expect(boot.code).toBe(0);
  });

  test("no dispatch on the link: said so, and given up after --retry-for", async () => {
    const run = await beacon(["boot", "--retry-for", "2s"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("mDNS: no answer for _dispatch._tcp.local within 1500 ms on br0");
    expect(run.stderr.trim().split("\n").at(-1)).toBe("dispatch beacon: boot not delivered, gave up after 2s: found no dispatch");
  });
});
