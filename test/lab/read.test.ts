import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LabError, readLab } from "../../src/lab/read.ts";
import { Secret } from "../../src/lab/types.ts";
import { bunRuntime } from "../../src/runtime/bun/index.ts";

// The lab file read from disk as `--lab` reads it: real files, the real TOML parser, the
// environment given as `runtime.env` would give it.

const dir = mkdtempSync(join(tmpdir(), "dispatch-lab-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
async function read(text: string, env: Record<string, string> = {}) {
  const file = join(dir, `lab${files++}.toml`);
  writeFileSync(file, text);
  const lab = await readLab(file, { env: (name) => env[name], readText: bunRuntime.files.readText });
  return { file, lab };
}

/** The problems of a refused file, with its path shortened to "lab.toml". */
async function refused(text: string, env: Record<string, string> = {}): Promise<string[]> {
  const file = join(dir, `lab${files++}.toml`);
  writeFileSync(file, text);
  try {
    await readLab(file, { env: (name) => env[name], readText: bunRuntime.files.readText });
  } catch (error) {
    if (!(error instanceof LabError)) throw error;
    return error.problems.map((p) => p.replaceAll(file, "lab.toml"));
  }
  throw new Error(`accepted:\n${text}`);
}

const issueExample = `
[defaults]                      # any server key, for every server
power = "redfish"
user = "admin"
password_env = "BMC_PASSWORD"   # or password_file = "…"; an inline password = "…" works but warns
tls_verify = false              # BMCs ship self-signed certificates; or ca = "bmc-ca.pem"

[[server]]
name = "genoa-1"
ip = "192.0.2.101"
bmc = "https://10.0.0.101"
url = "http://192.0.2.1:8080/dispatch"

[[server]]
name = "turin-2"
ip = "192.0.2.102"
power = "ipmi"                  # through ipmitool, lanplus
bmc = "10.0.0.102"              # host[:port], 623 unless given

[[server]]
name = "bench-3"
ip = "192.0.2.103"
power = "command"               # anything else: a PDU, a smart plug, virsh
on = "pdu outlet 7 on"
off = "pdu outlet 7 off"
cycle = "pdu outlet 7 cycle"
state = "pdu outlet 7 status"   # optional; prints on/off
`;

describe("a lab file that is right", () => {
  test("the issue's example, with [defaults] given to every server and the password from the environment", async () => {
    const { file, lab } = await read(issueExample, { BMC_PASSWORD: "hunter2" });
    expect(lab.file).toBe(file);
    expect(lab.powerOnSpacingMs).toBe(5_000);
    expect(lab.quarantineAfter).toBe(2);
    expect(lab.warnings).toEqual([]);
    const [genoa, turin, bench] = lab.servers;
    expect(genoa).toEqual({
      name: "genoa-1",
      ip: "192.0.2.101",
      url: "http://192.0.2.1:8080/dispatch",
      tags: [],
      power: { kind: "redfish", bmc: "https://10.0.0.101", user: "admin", password: expect.any(Secret), tlsVerify: false },
    });
    expect(turin!.power).toEqual({ kind: "ipmi", bmc: "10.0.0.102", host: "10.0.0.102", port: 623, user: "admin", password: expect.any(Secret) });
    expect(bench!.power).toEqual({ kind: "command", on: "pdu outlet 7 on", off: "pdu outlet 7 off", cycle: "pdu outlet 7 cycle", state: "pdu outlet 7 status" });
    for (const server of [genoa, turin]) expect((server!.power as { password: Secret }).password.reveal()).toBe("hunter2");
    // The password is in memory only: printed or serialised, the lab shows none.
    expect(JSON.stringify(lab)).not.toContain("hunter2");
    expect(Bun.inspect(lab)).not.toContain("hunter2");
  });

  test("top-level settings, mac, tags, console, cipher, an IPv6 BMC with its port, a password file beside the lab file", async () => {
    writeFileSync(join(dir, "ipmi-password"), "from-a-file\n");
    const { lab } = await read(`
power_on_spacing = "1m30s"
quarantine_after = 3

[[server]]
name = "turin-2"
mac = "52-54-00-AB-CD-EF"
power = "ipmi"
bmc = "[fd00::2]:6230"
user = "ADMIN"
password_file = "ipmi-password"
cipher = 3
console = "sol"
tags = ["turin", "2p", "turin"]

[[server]]
name = "plain"
ip = "2001:db8::5"
`);
    expect(lab.powerOnSpacingMs).toBe(90_000);
    expect(lab.quarantineAfter).toBe(3);
    const [turin, plain] = lab.servers;
    expect(turin).toMatchObject({ name: "turin-2", mac: "52:54:00:ab:cd:ef", console: "sol", tags: ["turin", "2p"] });
    expect(turin!.power).toMatchObject({ kind: "ipmi", bmc: "[fd00::2]:6230", host: "fd00::2", port: 6230, cipher: 3 });
    expect((turin!.power as { password: Secret }).password.reveal()).toBe("from-a-file");
    expect(plain).toEqual({ name: "plain", ip: "2001:db8::5", tags: [] });
  });

  test("a server's own password key replaces the one in [defaults]; an inline password works and warns, naming its line", async () => {
    const { lab } = await read(
      `[defaults]
power = "redfish"
user = "admin"
password_env = "BMC_PASSWORD"

[[server]]
name = "a"
ip = "192.0.2.1"
bmc = "10.0.0.1"
password = "inline-secret"
`,
    );
    expect(lab.servers[0]!.power).toMatchObject({ kind: "redfish", bmc: "https://10.0.0.1", tlsVerify: true });
    expect((lab.servers[0]!.power as { password: Secret }).password.reveal()).toBe("inline-secret");
    expect(lab.warnings).toHaveLength(1);
    expect(lab.warnings[0]).toMatch(/lab\d+\.toml:10: \[\[server\]\] "a" has its password in the lab file: .*password_env or password_file/);
    expect(lab.warnings[0]).not.toContain("inline-secret");
  });

  test("a number of seconds for power_on_spacing; [defaults] keys a server's power kind does not use are left alone", async () => {
    const { lab } = await read(
      `power_on_spacing = 0
[defaults]
user = "admin"
password_env = "BMC_PASSWORD"
tls_verify = false
[[server]]
name = "pdu-only"
ip = "192.0.2.9"
power = "command"
on = "sh -c 'echo on > /tmp/x'"
off = "virsh -c qemu:///system destroy 'vm 1'"
cycle = "pdu cycle"
`,
    );
    expect(lab.powerOnSpacingMs).toBe(0);
    expect(lab.servers[0]!.power).toEqual({ kind: "command", on: "sh -c 'echo on > /tmp/x'", off: "virsh -c qemu:///system destroy 'vm 1'", cycle: "pdu cycle" });
  });
});

describe("[[rule]]: which server runs what (issue 20)", () => {
  const servers = `[[server]]
name = "genoa-1"
ip = "192.0.2.101"
tags = ["genoa", "2p"]

[[server]]
name = "turin-2"
ip = "192.0.2.102"
tags = ["turin"]
`;

  test("rules in the file's order, with globs, tags, servers by name or address, each, and their own limits", async () => {
    const { file, lab } = await read(`${servers}
[[rule]]
workloads = "memtest-*"
tags = ["2p"]
run_timeout = "12h"

[[rule]]
workloads = ["fw-*.efi", "bios-*.efi"]
servers = ["turin-2", "192.0.2.150"]
each = true
download_timeout = 90
retries = 0
`);
    expect(lab.rules).toEqual([
      { workloads: ["memtest-*"], origin: `${file}:11`, tags: ["2p"], runMs: 43_200_000 },
      { workloads: ["fw-*.efi", "bios-*.efi"], origin: `${file}:16`, servers: ["turin-2", "192.0.2.150"], each: true, downloadMs: 90_000, retries: 0 },
    ]);
  });

  test("a file of rules alone (servers outside it, by address) is accepted", async () => {
    const { lab } = await read(`[[rule]]\nworkloads = "*"\nservers = ["192.0.2.7"]\n`);
    expect(lab.servers).toEqual([]);
    expect(lab.rules).toHaveLength(1);
  });

  const cases: [string, string, RegExp][] = [
    ["a rule without workloads", `${servers}\n[[rule]]\ntags = ["2p"]\n`, /^lab\.toml:11: \[\[rule\]\] #1 has no workloads: add workloads = "…", a glob/],
    ["workloads not a glob", `${servers}\n[[rule]]\nworkloads = 3\n`, /^lab\.toml:12: \[\[rule\]\] #1 workloads: must be a glob on workload names, or a list of them/],
    ["an unknown key, with the near one", `${servers}\n[[rule]]\nworkloads = "*"\ntag = ["2p"]\n`, /^lab\.toml:13: \[\[rule\]\] #1 tag: unknown key in a \[\[rule\]\]: did you mean "tags"\? allowed: workloads, tags, servers, each/],
    ["a server that is not in the file", `${servers}\n[[rule]]\nworkloads = "*"\nservers = ["genoa-2"]\n`, /^lab\.toml:13: \[\[rule\]\] #1 servers: "genoa-2" is neither a \[\[server\]\] of this file nor an address: did you mean "genoa-1"\? give a server's name \(genoa-1, turin-2\) or an IP address$/],
    ["a bad duration", `${servers}\n[[rule]]\nworkloads = "*"\nrun_timeout = "12 hours"\n`, /^lab\.toml:13: \[\[rule\]\] #1 run_timeout "12 hours" is not a duration: use e\.g\. 90s, 5m or 1h30m \(or a number of seconds\)$/],
    ["negative retries", `${servers}\n[[rule]]\nworkloads = "*"\nretries = -1\n`, /^lab\.toml:13: \[\[rule\]\] #1 retries: must be 0 or more$/],
    ["each not a boolean", `${servers}\n[[rule]]\nworkloads = "*"\neach = "yes"\n`, /^lab\.toml:13: \[\[rule\]\] #1 each: must be true \(one job per matching server\) or false$/],
    ["[rule] with one bracket", `${servers}\n[rule]\nworkloads = "*"\n`, /^lab\.toml:11: write \[\[rule\]\] \(two brackets\) before each rule$/],
  ];
  for (const [what, text, message] of cases) {
    test(what, async () => {
      const problems = await refused(text);
      expect(problems.some((p) => message.test(p)), `no problem matched ${message}:\n${problems.join("\n")}`).toBe(true);
    });
  }
});

describe("a lab file that is refused names the file, the line and the key, and what is allowed", () => {
  const server = (lines: string) => `[[server]]\nname = "s1"\nip = "192.0.2.1"\n${lines}`;
  const cases: [string, string, RegExp, Record<string, string>?][] = [
    ["not TOML", `name = "x"\nip = \n`, /^lab\.toml:2:6: not valid TOML: invalid value\n/],
    ["no server", `power_on_spacing = "5s"\n`, /^lab\.toml: names no server: add a \[\[server\]\]/],
    ["an unknown top-level key, with the closest known one", `quarantin_after = 2\n${server("")}`, /^lab\.toml:1: quarantin_after: unknown key at the top level: did you mean "quarantine_after"\? allowed: power_on_spacing, quarantine_after, defaults, server, rule$/],
    ["an unknown server key, with the closest known one", server(`pasword = "x"\n`), /^lab\.toml:4: \[\[server\]\] "s1" pasword: unknown key in a \[\[server\]\]: did you mean "password"\? allowed: name, ip, mac, /],
    ["an unknown key far from any: no guess, the list", server(`colour = "red"\n`), /^lab\.toml:4: \[\[server\]\] "s1" colour: unknown key in a \[\[server\]\]: allowed: name, /],
    ["an unknown key in [defaults]", `[defaults]\ntls_verfy = false\n${server("")}`, /^lab\.toml:2: \[defaults\] tls_verfy: unknown key in \[defaults\]: did you mean "tls_verify"\?/],
    ["a per-server key in [defaults]", `[defaults]\nip = "192.0.2.1"\n${server("")}`, /^lab\.toml:2: \[defaults\] ip: belongs to one server only/],
    ["[server] with one bracket", `[server]\nname = "a"\nip = "192.0.2.1"\n`, /^lab\.toml:1: write \[\[server\]\] \(two brackets\) before each server$/],
    ["a bad duration", `power_on_spacing = "soon"\n${server("")}`, /^lab\.toml:1: power_on_spacing "soon" is not a duration: use e\.g\. 90s, 5m or 1h30m/],
    ["quarantine_after below 1", `quarantine_after = 0\n${server("")}`, /^lab\.toml:1: quarantine_after must be 1 or more$/],
    ["duplicate names", `${server("")}\n[[server]]\nname = "s1"\nip = "192.0.2.2"\n`, /^lab\.toml:6: \[\[server\]\] "s1" name: s1 is already given to server "s1" \(line 2\): each server needs its own$/],
    ["duplicate ips", `${server("")}\n[[server]]\nname = "s2"\nip = "192.0.2.1"\n`, /^lab\.toml:7: \[\[server\]\] "s2" ip: 192\.0\.2\.1 is already given to server "s1" \(line 3\)/],
    [
      "duplicate macs, written differently",
      `[[server]]\nname = "a"\nmac = "52:54:00:00:00:01"\n[[server]]\nname = "b"\nmac = "52-54-00-00-00-01"\n`,
      /^lab\.toml:6: \[\[server\]\] "b" mac: 52:54:00:00:00:01 is already given to server "a" \(line 3\)/,
    ],
    ["a bad mac", `[[server]]\nname = "a"\nmac = "52:54:00:00:01"\n`, /^lab\.toml:3: \[\[server\]\] "a" mac: must be a MAC address: six pairs of hex digits, e\.g\. "52:54:00:12:34:56"$/],
    ["a bad ip", `[[server]]\nname = "a"\nip = "192.0.2.300"\n`, /^lab\.toml:3: \[\[server\]\] "a" ip: must be an IPv4 or IPv6 address/],
    ["ip and mac both", server(`mac = "52:54:00:00:00:01"\n`), /^lab\.toml:4: \[\[server\]\] "s1" mac: give ip or mac, not both$/],
    ["neither ip nor mac", `[[server]]\nname = "a"\n`, /^lab\.toml:1: \[\[server\]\] "a" needs ip = "…" \(the address it boots from\) or mac = "…"/],
    ["no name", `[[server]]\nip = "192.0.2.1"\n`, /^lab\.toml:1: \[\[server\]\] #1 has no name: add name = "…"/],
    ["a name that cannot be in a URL", `[[server]]\nname = "a b"\nip = "192.0.2.1"\n`, /^lab\.toml:2: \[\[server\]\] "a b" name: must be letters, digits, "\.", "_" and "-" \(it names the server in URLs and file names\)/],
    ["an unknown power kind", server(`power = "wol"\n`), /^lab\.toml:4: \[\[server\]\] "s1" power: must be "redfish", "ipmi" or "command"$/],
    [
      "ipmi without user and password",
      server(`power = "ipmi"\nbmc = "10.0.0.1"\n`),
      /^lab\.toml:4: \[\[server\]\] "s1" power: "ipmi" needs bmc, user and password; missing: user and password \(a password is password_env, password_file or password\)$/,
    ],
    ["redfish without bmc", server(`power = "redfish"\nuser = "a"\npassword_env = "P"\n`), /^lab\.toml:4: \[\[server\]\] "s1" power: "redfish" needs bmc, user and password; missing: bmc$/, { P: "x" }],
    ["command without off and cycle", server(`power = "command"\non = "pdu on"\n`), /^lab\.toml:4: \[\[server\]\] "s1" power: "command" needs on, off and cycle; missing: off and cycle$/],
    [
      "password_env naming an unset variable, reported at the [defaults] line that says it",
      `[defaults]\npassword_env = "NOT_SET_ANYWHERE"\n${server(`power = "ipmi"\nbmc = "10.0.0.1"\nuser = "a"\n`)}`,
      /^lab\.toml:2: \[\[server\]\] "s1" password_env: the environment variable NOT_SET_ANYWHERE is not set: export it before starting dispatch$/,
    ],
    ["password_env set but empty", server(`power = "ipmi"\nbmc = "10.0.0.1"\nuser = "a"\npassword_env = "EMPTY"\n`), /password_env: the environment variable EMPTY is empty/, { EMPTY: "" }],
    ["a missing password file", server(`power = "ipmi"\nbmc = "10.0.0.1"\nuser = "a"\npassword_file = "nowhere"\n`), /^lab\.toml:7: \[\[server\]\] "s1" password_file: \/.*\/nowhere: no such file/],
    [
      "two password keys in one server",
      server(`power = "ipmi"\nbmc = "10.0.0.1"\nuser = "a"\npassword_env = "P"\npassword = "x"\n`),
      /^lab\.toml:8: \[\[server\]\] "s1" password: give one of password_env, password_file and password, not password_env and password$/,
      { P: "x" },
    ],
    ["an IPMI port out of range", server(`power = "ipmi"\nbmc = "10.0.0.1:70000"\nuser = "a"\npassword_env = "P"\n`), /^lab\.toml:5: \[\[server\]\] "s1" bmc: "10\.0\.0\.1:70000" is not an IPMI BMC's address: give HOST or HOST:PORT/, { P: "x" }],
    ["a Redfish BMC over plain HTTP", server(`power = "redfish"\nbmc = "http://10.0.0.1"\nuser = "a"\npassword_env = "P"\n`), /^lab\.toml:5: \[\[server\]\] "s1" bmc: "http:\/\/10\.0\.0\.1" is not a Redfish BMC's address: give https:\/\/HOST/, { P: "x" }],
    ["a Redfish BMC with a path", server(`power = "redfish"\nbmc = "https://10.0.0.1/redfish/v1"\nuser = "a"\npassword_env = "P"\n`), /^lab\.toml:5: \[\[server\]\] "s1" bmc: .* is not a Redfish BMC's address/, { P: "x" }],
    ["a missing CA file", server(`power = "redfish"\nbmc = "10.0.0.1"\nuser = "a"\npassword_env = "P"\nca = "bmc-ca.pem"\n`), /^lab\.toml:8: \[\[server\]\] "s1" ca: \/.*\/bmc-ca\.pem: no such file/, { P: "x" }],
    ["a key of another power kind in the server", server(`power = "command"\non = "a"\noff = "b"\ncycle = "c"\ncipher = 3\n`), /^lab\.toml:8: \[\[server\]\] "s1" cipher: is for power = "ipmi"; this server's power is "command"$/],
    ["a power key without power", server(`bmc = "10.0.0.1"\n`), /^lab\.toml:4: \[\[server\]\] "s1" bmc: means nothing without power: add power = "redfish", "ipmi" or "command"$/],
    ["a cipher out of range", server(`power = "ipmi"\nbmc = "h"\nuser = "a"\npassword_env = "P"\ncipher = 30\n`), /^lab\.toml:8: \[\[server\]\] "s1" cipher: must be a cipher suite from 0 to 17$/, { P: "x" }],
    ["tls_verify not a boolean", server(`tls_verify = "no"\n`), /^lab\.toml:4: \[\[server\]\] "s1" tls_verify: must be true or false$/],
    ["a pipe in a power command", server(`power = "command"\non = "pdu on | logger"\noff = "b"\ncycle = "c"\n`), /^lab\.toml:5: \[\[server\]\] "s1" on: cannot be run: "\|" needs a shell, and power commands run without one/],
    ["a variable in a power command", server(`power = "command"\non = "pdu on $OUTLET"\noff = "b"\ncycle = "c"\n`), /^lab\.toml:5: \[\[server\]\] "s1" on: cannot be run: it uses \$OUTLET: power commands run without a shell, so nothing is expanded/],
    ["an unclosed quote in a power command", server(`power = "command"\non = "a"\noff = "pdu 'off"\ncycle = "c"\n`), /^lab\.toml:6: \[\[server\]\] "s1" off: cannot be run: its single quote is never closed$/],
    ["console = sol without IPMI", server(`console = "sol"\n`), /^lab\.toml:4: \[\[server\]\] "s1" console: "sol" is IPMI's serial-over-LAN: it needs power = "ipmi"/],
    ["tags not a list of words", server(`tags = "genoa"\n`), /^lab\.toml:4: \[\[server\]\] "s1" tags: must be a list of strings, e\.g\. \["genoa", "2p"\]$/],
  ];
  for (const [what, text, message, env] of cases) {
    test(what, async () => {
      const problems = await refused(text, env);
      expect(problems.some((p) => message.test(p)), `no problem matched ${message}:\n${problems.join("\n")}`).toBe(true);
    });
  }

  test("every problem is named at once, in the order of the file", async () => {
    const problems = await refused(`quarantin_after = 1
[[server]]
name = "a"
ip = "192.0.2.1"
mac = "nope"
[[server]]
name = "a"
ip = "192.0.2.2"
`);
    expect(problems.map((p) => p.split(":")[1])).toEqual(["1", "5", "7"]);
  });

  test("a missing lab file", async () => {
    const error = await readLab(join(dir, "none.toml"), { env: () => undefined, readText: bunRuntime.files.readText }).catch((e) => e);
    expect(error).toBeInstanceOf(LabError);
    expect(error.message).toBe(`${join(dir, "none.toml")}: no such file (--lab names the lab file; the README's lab guide shows one)`);
  });
});
