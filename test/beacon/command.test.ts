import { afterEach, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dispatchPerTest, until } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";
import { denoCommand, denoEnv, recordingServer, runBeacon, startBeacon } from "./support/beacon-cli.ts";
import { efivarsDir, optionNumbers, withUri } from "./support/load-options.ts";
import { tempDirs } from "../support/temp-dirs.ts";

// The real CLI, `bun src/main.ts beacon …`, against stand-in servers and a real dispatch on loopback.

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  temp.removeAll();
});
const server = (statuses: number[]) => {
  const s = recordingServer(statuses);
  cleanup.push(s.stop);
  return s;
};
const temp = tempDirs();
const tempDir = () => temp.make("dispatch-beacon-");

describe("what goes on the wire: the earlier beacon's requests", () => {
  test("boot: a bare POST", async () => {
    const s = server([200]);
    const run = await runBeacon(["boot", "--url", s.url]);
    expect(run).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(s.requests.map((r) => [r.method, r.body, r.headers["content-type"]])).toEqual([["POST", "", undefined]]);
  });

  test.each([
    ["title only, body from an empty stdin", ["-t", "T"], "", `{"title":"T"}`],
    ["body from stdin", ["-t", "memtest"], "all good\n", `{"title":"memtest","body":"all good\\n"}`],
    ["an empty title is sent as it is", ["-t", ""], "", `{"title":""}`],
    ["repeated labels and assignees, in order", ["-t", "T", "-l", "b", "--label", "a", "-a", "x", "--assignee=y"], "", `{"title":"T","labels":["b","a"],"assignees":["x","y"]}`],
    ["-l \"\" sends [\"\"]", ["-t", "T", "-l", ""], "", `{"title":"T","labels":[""]}`],
    ["-m \"\" sends \"\"", ["-t", "T", "-m", ""], "", `{"title":"T","milestone":""}`],
    ["every field, in the earlier beacon's order", ["-m", "v2", "-a", "x", "-l", "l", "--title", "T"], "B", `{"title":"T","body":"B","labels":["l"],"assignees":["x"],"milestone":"v2"}`],
  ])("report: %s", async (_, args, stdin, json) => {
    const s = server([200]);
    const run = await runBeacon(["report", ...args, "--url", s.url], { stdin });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ method: "PUT", body: json });
    expect(s.requests[0]!.headers["content-type"]).toBe("application/json");
  });

  test("report: the body from a file (-b), not stdin; - is stdin", async () => {
    const file = join(tempDir(), "body.txt");
    writeFileSync(file, "from the file ✓\n");
    const s = server([200]);
    expect((await runBeacon(["report", "-t", "T", "-b", file, "--url", s.url], { stdin: "ignored" })).code).toBe(0);
    expect((await runBeacon(["report", "-t", "T", "-b", "-", "--url", s.url], { stdin: "piped" })).code).toBe(0);
    expect(s.requests.map((r) => JSON.parse(r.body).body)).toEqual(["from the file ✓\n", "piped"]);
  });

  test("the same requests under Deno", async () => {
    const s = server([200]);
    const deno = { command: denoCommand, env: denoEnv };
    expect(await runBeacon(["boot", "--url", s.url], deno)).toMatchObject({ code: 0, stderr: "" });
    const report = await runBeacon(["report", "-t", "T", "-l", "", "-a", "x", "-m", "", "--url", s.url], { ...deno, stdin: "B" });
    expect(report).toMatchObject({ code: 0, stderr: "" });
    expect(s.requests.map((r) => [r.method, r.body])).toEqual([
      ["POST", ""],
      ["PUT", `{"title":"T","body":"B","labels":[""],"assignees":["x"],"milestone":""}`],
    ]);
  });

  test("an unknown option is a usage error (exit 2) naming the closest known one, and nothing is sent", async () => {
    const s = server([200]);
    const label = await runBeacon(["report", "-t", "T", "--lable", "x", "--url", s.url], { stdin: "" });
    expect(label).toMatchObject({ code: 2, stdout: "" });
    expect(label.stderr).toBe("dispatch beacon: unknown option --lable (did you mean --label?); dispatch beacon report --help lists every option.\n");
    const boot = await runBeacon(["boot", "--ulr", s.url]);
    expect(boot.code).toBe(2);
    expect(boot.stderr).toContain("unknown option --ulr (did you mean --url?)");
    // An option of report is unknown to boot.
    expect((await runBeacon(["boot", "--title", "T", "--url", s.url])).code).toBe(2);
    expect(s.requests).toEqual([]);
  });

  test("DISPATCH_URL stands in for --url; --url wins", async () => {
    const a = server([200]);
    const b = server([200]);
    expect((await runBeacon(["boot"], { env: { DISPATCH_URL: a.url } })).code).toBe(0);
    expect((await runBeacon(["boot", "--url", b.url], { env: { DISPATCH_URL: a.url } })).code).toBe(0);
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
  });
});

describe("answers", () => {
  test("5xx and no answer are retried; 200 ends it", async () => {
    const s = server([503, 502, 200]);
    const run = await runBeacon(["report", "-t", "T", "--url", s.url, "-v"], { stdin: "x" });
    expect(run.code).toBe(0);
    expect(s.requests.map((r) => r.body)).toEqual(Array(3).fill(`{"title":"T","body":"x"}`));
    expect(run.stderr).toContain("503 answer 1: 503; trying again in 1s");
    expect(run.stderr).toContain("report taken by");
  });

  test("417 everywhere: retried until --retry-for is spent, then one clear line and exit 1", async () => {
    const s = server([417]);
    const run = await runBeacon(["boot", "--url", s.url, "--retry-for", "2s"]);
    expect(run.code).toBe(1);
    const last = run.stderr.trim().split("\n").at(-1);
    expect(last).toBe(`dispatch beacon: boot not delivered, gave up after 2s: ${s.url} (--url): 417 answer ${s.requests.length}: 417, not this machine's job`);
    expect(s.requests.length).toBeGreaterThanOrEqual(2);
  });

  test("any other answer (400) is retried too, until --retry-for is spent; the last line gives dispatch's reason", async () => {
    const s = server([400]);
    const run = await runBeacon(["report", "-t", "T", "--url", s.url, "--retry-for", "2s"]);
    expect(run.code).toBe(1);
    const last = run.stderr.trim().split("\n").at(-1);
    expect(last).toBe(`dispatch beacon: report not delivered, gave up after 2s: ${s.url} (--url): 400 answer ${s.requests.length}: 400`);
    expect(s.requests.length).toBeGreaterThanOrEqual(2);
  });

  test("nothing listening: retried, then given up", async () => {
    const s = server([200]);
    const url = s.url;
    await s.stop();
    const run = await runBeacon(["boot", "--url", url, "--retry-for", "1s"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/boot not delivered, gave up after 1s: .* no answer \(/);
  });

  test("usage errors say what to do, exit 2", async () => {
    const bad = await runBeacon(["boot", "--url", "192.0.2.1:8080/dispatch"]);
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr).toContain('"192.0.2.1:8080/dispatch" is not a URL: give the boot URL dispatch prints, e.g. http://192.0.2.1:8080/dispatch');
    const scheme = await runBeacon(["boot", "--url", "tftp://192.0.2.1/dispatch"]);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain("is not an http:// URL");
    const duration = await runBeacon(["boot", "--url", "http://127.0.0.1:9/", "--retry-for", "soon"]);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain('--retry-for "soon" is not a duration');
    const file = await runBeacon(["report", "-t", "T", "-b", "/nonexistent/log", "--url", "http://127.0.0.1:9/"]);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain("cannot read the body from /nonexistent/log: ENOENT");
  });
});

describe("finding dispatch in the firmware's boot options", () => {
  test("the URI of an HTTP-boot option; -v says which", async () => {
    const s = server([200]);
    const dir = efivarsDir({ Boot0004: withUri(s.url, "lab"), BootCurrent: optionNumbers(4) });
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const run = await runBeacon(["boot", "--efivars", dir, "--no-mdns", "-v"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`boot taken by ${s.url} (from Boot0004 "lab" (booted from))`);
    // OVMF's own options say why they were passed over.
    expect(run.stderr).toContain('Boot0001 "UEFI HTTPv4 (MAC:525400123456)": HTTP boot with an empty URI');
  });

  test("417 hands over to the next option's dispatch", async () => {
    const notMine = server([417]);
    const mine = server([200]);
    const dir = efivarsDir({ Boot0004: withUri(notMine.url, "first"), Boot0005: withUri(mine.url, "second"), BootOrder: optionNumbers(4, 5) });
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const run = await runBeacon(["report", "-t", "T", "--efivars", dir, "--no-mdns"], { stdin: "" });
    expect(run.code).toBe(0);
    expect([notMine.requests.length, mine.requests.length]).toEqual([1, 1]);
  });

  test("only OVMF's DHCP-booted options (empty URI) and no mDNS: nothing found, said so", async () => {
    const dir = efivarsDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const run = await runBeacon(["boot", "--efivars", dir, "--no-mdns", "--retry-for", "1s"]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n").at(-1)).toBe("dispatch beacon: boot not delivered, gave up after 1s: found no dispatch");
  });
});

describe("against dispatch", () => {
  const { start } = dispatchPerTest();

  test("boot and report from the same machine: one issue with the report's fields", async () => {
    const { gh, d } = await start({ releases: [{ tag: "v1", assets: [efi("w.efi", 4096)] }], milestones: [{ title: "v1" }, { title: "v2" }] });
    // The machine downloads its workload (the CLI's requests come from 127.0.0.1 too).
    expect((await http(d.url, { method: "HEAD" })).status).toBe(200);
    expect((await http(d.url)).status).toBe(200);
    expect((await runBeacon(["boot", "--url", d.url])).code).toBe(0);
    const run = await runBeacon(["report", "-t", "memtest passed", "-l", "ok", "-a", "octocat", "-m", "v2", "--url", d.url], { stdin: "16 GiB tested\n" });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    await until(() => gh.issues.length === 1, "the issue to be filed");
    expect(gh.issues[0]).toMatchObject({ title: "memtest passed", labels: ["ok"], assignees: ["octocat"], milestone: 2 });
    expect(gh.issues[0]!.body).toContain("16 GiB tested");
  });

  test("a whole log piped in (1.5 MiB): taken, and filed cut to what an issue holds", async () => {
    const { gh, d } = await start({ releases: [{ tag: "v1", assets: [efi("w.efi", 4096)] }] });
    expect((await http(d.url, { method: "HEAD" })).status).toBe(200);
    expect((await http(d.url)).status).toBe(200);
    expect((await runBeacon(["boot", "--url", d.url])).code).toBe(0);
    const run = await runBeacon(["report", "-t", "huge log", "--url", d.url], { stdin: "x".repeat(1.5 * 1024 * 1024) });
    expect(run.code).toBe(0);
    await until(() => gh.issues.length === 1, "the issue");
    expect(gh.issues[0]!.title).toBe("huge log");
    expect(gh.issues[0]!.body!.length).toBeLessThanOrEqual(65_536);
  });

  test("a machine without a job gets 417 and keeps trying until told to stop", async () => {
    const { d } = await start({ releases: [{ tag: "v1", assets: [efi("w.efi", 4096)] }] });
    const beacon = startBeacon(["boot", "--url", d.url, "--retry-for", "1s"]);
    const run = await beacon.done;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("417 not this dispatch's job: 127.0.0.1 was never handed a workload by this dispatch, not this machine's job");
  });
});
