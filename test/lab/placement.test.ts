import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { poweroffEfi } from "../../src/efi/poweroff.ts";
import { type RedfishEmulator, startRedfishEmulator } from "../redfish-emulator/index.ts";
import { type DispatchProcess, startDispatchProcess } from "../support/dispatch-process.ts";
import { type FirmwareServer, firmwareServer } from "../support/emulated-firmware.ts";
import { labServer } from "../support/lab.ts";
import { labRig } from "../support/lab-rig.ts";
import { pattern } from "../support/workloads.ts";

// Issue 20 through the real CLI: the lab file's [[rule]]s place workloads on emulated servers
// (firmware and workload on their own loopback addresses, Redfish BMCs from the project's
// emulator), and on servers outside the lab file by address.

const { temp, cleanup, root, tls } = labRig("place");
const password = "bmc-Pa55-placement";

/** Servers node-1… with their tags, each behind its own emulated BMC, and the rules after them. */
async function labFile(servers: { fw: FirmwareServer; tags: string[] }[], rules: string): Promise<{ file: string; bmcs: RedfishEmulator[] }> {
  const bmcs: RedfishEmulator[] = [];
  for (const { fw } of servers) {
    const bmc = await startRedfishEmulator({ user: "admin", password, tls: tls(), system: fw });
    cleanup.push(() => bmc.stop());
    cleanup.push(() => fw.off());
    bmcs.push(bmc);
  }
  const file = join(temp.make("dispatch-place-lab-"), "lab.toml");
  const text = [
    'power_on_spacing = "0s"',
    "[defaults]",
    'power = "redfish"',
    'user = "admin"',
    'password_env = "BMC_PASSWORD"',
    "tls_verify = false",
    ...servers.flatMap(({ fw, tags }, i) => ["", "[[server]]", `name = "node-${i + 1}"`, `ip = "${fw.ip}"`, `bmc = "${bmcs[i]!.url}"`, `tags = ${JSON.stringify(tags)}`]),
    "",
    rules,
  ].join("\n");
  writeFileSync(file, text);
  return { file, bmcs };
}

function workloads(names: string[]): string {
  const dir = temp.make("dispatch-place-out-");
  for (const [i, name] of names.entries()) writeFileSync(join(dir, name), pattern(3000 + i, name.length));
  return dir;
}

async function start(args: string[], { waitListening = true } = {}): Promise<DispatchProcess> {
  const d = await startDispatchProcess(
    { command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: temp.make("dispatch-home-"), BMC_PASSWORD: password } },
    ["--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain", ...args],
    { timeoutMs: 60_000, waitListening },
  );
  cleanup.push(() => d.stop());
  return d;
}

/** Each report or failure file's front matter, by its `job` (or `workload`) name. */
function filed(dir: string): Map<string, { kind: string; server: string | null; text: string }> {
  const found = new Map<string, { kind: string; server: string | null; text: string }>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".md") && n !== "SUMMARY.md")) {
    const text = readFileSync(join(dir, name), "utf8");
    const field = (key: string) => new RegExp(`^${key}: (.*)$`, "m").exec(text)?.[1];
    const job = JSON.parse(field("job") ?? field("workload")!) as string;
    found.set(job, { kind: JSON.parse(field("kind")!), server: JSON.parse(field("server") ?? "null"), text });
  }
  return found;
}

describe("which server runs what, unattended", () => {
  test("tags, a server by name, each = true and a workload no server can run, from power-on to power-off", async () => {
    const [n1, n2, n3] = [firmwareServer("127.0.0.2"), firmwareServer("127.0.0.3"), firmwareServer("127.0.0.4")];
    const lab = await labFile(
      [
        { fw: n1, tags: ["genoa", "2p"] },
        { fw: n2, tags: ["turin", "2p"] },
        { fw: n3, tags: ["genoa", "1p"] },
      ],
      [
        '[[rule]]\nworkloads = "memtest-*"\ntags = ["2p"]',
        '[[rule]]\nworkloads = "fw.efi"\nservers = ["node-3"]',
        '[[rule]]\nworkloads = "qual.efi"\neach = true\ntags = ["genoa"]',
        '[[rule]]\nworkloads = "big.efi"\ntags = ["4p"]',
      ].join("\n\n"),
    );
    const reports = temp.make("dispatch-place-reports-");
    const dir = workloads(["a.efi", "big.efi", "fw.efi", "memtest-1.efi", "memtest-2.efi", "memtest-3.efi", "qual.efi"]);
    const d = await start(["--dir", dir, "--reports", reports, "--lab", lab.file, "--exit-when-done", "--file-failures"]);

    // The plan is in the job views from the start: `servers`, null for any server.
    const status = (await (await fetch(`http://127.0.0.1:${d.port}/api/status`)).json()) as { jobs: { name: string; workload: string; servers: string[] | null }[] };
    expect(Object.fromEntries(status.jobs.map((j) => [j.name, j.servers]))).toEqual({
      "a.efi": null,
      "big.efi": [],
      "fw.efi": ["node-3"],
      "memtest-1.efi": ["node-1", "node-2"],
      "memtest-2.efi": ["node-1", "node-2"],
      "memtest-3.efi": ["node-1", "node-2"],
      "qual.efi@node-1": ["node-1"],
      "qual.efi@node-3": ["node-3"],
    });

    expect(await d.exited).toBe(1); // big.efi failed
    const { stdout, stderr } = await d.streams;
    const output = stdout + stderr;
    // At start: where each placed workload goes, and the one no server can run.
    expect(output).toContain("📍 memtest-1.efi: on node-1, node-2");
    expect(output).toContain("📍 qual.efi: one job on each of node-1, node-3");
    expect(output).toMatch(/no server can run this workload; it fails at once:\n.*❌ big\.efi: no server matches \(tags 4p, .*lab\.toml:\d+\)/);

    const files = filed(reports);
    expect([...files.keys()].sort()).toEqual(["a.efi", "big.efi", "fw.efi", "memtest-1.efi", "memtest-2.efi", "memtest-3.efi", "qual.efi@node-1", "qual.efi@node-3"]);
    for (const name of ["memtest-1.efi", "memtest-2.efi", "memtest-3.efi"]) {
      expect(files.get(name)!.kind).toBe("report");
      expect(["127.0.0.2", "127.0.0.3"]).toContain(files.get(name)!.server!);
    }
    expect(files.get("fw.efi")).toMatchObject({ kind: "report", server: "127.0.0.4" });
    expect(files.get("qual.efi@node-1")).toMatchObject({ kind: "report", server: "127.0.0.2" });
    expect(files.get("qual.efi@node-3")).toMatchObject({ kind: "report", server: "127.0.0.4" });
    expect(files.get("qual.efi@node-1")!.text).toContain('workload: "qual.efi"');
    expect(files.get("big.efi")!.kind).toBe("failure");
    expect(files.get("big.efi")!.text).toContain("no server matches (tags 4p");
    // node-3 ran only what it may: never a memtest. Once nothing fitted it, it got poweroff.efi.
    expect(n3.boots.at(-1)!.got).toBe("poweroff");
    expect(n3.boots.filter((b) => b.got !== "poweroff" && b.got !== "error")).toHaveLength(2); // fw.efi and its qual.efi
    for (const fw of [n1, n2, n3]) expect(fw.power()).toBe("Off");

    // The summary groups the jobs of qual.efi under their workload.
    const summary = readFileSync(join(reports, "SUMMARY.md"), "utf8");
    expect(summary).toMatch(/\| \*\*qual\.efi\*\* on every matching server: 2 jobs: 2 passed, 0 failed, 0 never run \|.*\n\| qual\.efi@node-1 \|.*\n\| qual\.efi@node-3 \|/);
  }, 120_000);
});

describe("rules without power control, and a changed plan on resume", () => {
  test("a rule by address places a workload on a server outside the lab file; a restart whose rules change the plan is refused until --fresh", async () => {
    const dir = workloads(["a.efi", "pinned.efi"]);
    const reports = temp.make("dispatch-place-reports-");
    const state = temp.make("dispatch-place-state-");
    const file = join(temp.make("dispatch-place-lab-"), "lab.toml");
    const rules = (ip: string) => `[[server]]\nname = "bench"\nip = "127.0.0.9"\n\n[[rule]]\nworkloads = "pinned.efi"\nservers = ["${ip}"]\nrun_timeout = "1h"\n`;
    writeFileSync(file, rules("127.0.0.5"));
    const args = ["--dir", dir, "--reports", reports, "--lab", file, "--state", state];

    const first = await start(args);
    const other = labServer(first.url, "127.0.0.6");
    const pinned = labServer(first.url, "127.0.0.5");
    // 127.0.0.6 may not run pinned.efi: it gets a.efi, then poweroff.efi while pinned.efi waits.
    expect((await other.get()).body.length).toBe(3000);
    await other.boot();
    expect((await other.report({ title: "a ran" })).status).toBe(200);
    expect(Buffer.from((await other.get()).body).equals(Buffer.from(poweroffEfi))).toBe(true);
    expect((await pinned.get()).body.length).toBe(3001);
    await first.stop();

    // The rule now names another address: the plan changed, the journal is refused.
    writeFileSync(file, rules("127.0.0.7"));
    const refused = await start(args, { waitListening: false });
    const code = await refused.exited;
    const { stderr } = await refused.streams;
    expect(code, stderr).toBe(1); // as for a changed queue
    expect(stderr).toContain("changed which server runs what");
    expect(stderr).toContain("pinned.efi on 127.0.0.5");
    expect(stderr).toContain("--fresh");

    const fresh = await start([...args, "--fresh", "--exit-when-done"]);
    const moved = labServer(fresh.url, "127.0.0.7");
    const fromA = labServer(fresh.url, "127.0.0.6");
    expect((await fromA.get()).body.length).toBe(3000);
    await fromA.boot();
    await fromA.report({ title: "a ran again" });
    expect((await moved.get()).body.length).toBe(3001);
    await moved.boot();
    await moved.report({ title: "pinned ran" });
    expect(await fresh.exited).toBe(0);
  }, 120_000);
});
