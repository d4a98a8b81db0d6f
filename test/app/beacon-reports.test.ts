import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { beaconBoot, beaconPut, beaconReport } from "../support/beacon.ts";
import { status } from "../support/cycle.ts";
import { type DispatchProcess, fakeGitHubFlags, startDispatchProcess } from "../support/dispatch-process.ts";
import { until } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";

// Every report the earlier dispatch's beacon can send, sent as beacon sends it, to the real
// command line, filed into a fake GitHub that refuses what GitHub refuses (a blank title, a
// title over 256 characters, a body over 65,536).

let gh: FakeGitHub | undefined;
let cli: DispatchProcess | undefined;
let state: string | undefined;
afterEach(async () => {
  await cli?.stop();
  await gh?.stop();
  if (state) rmSync(state, { recursive: true, force: true });
  cli = gh = state = undefined;
});

/** The real CLI spaces issue creations 3 s apart, as GitHub asks: a few issues take seconds. */
const slow = 90_000;

async function start(assets: number) {
  gh = await startFakeGitHub({
    releases: [{ tag: "v1", assets: Array.from({ length: assets }, (_, i) => efi(`w${i}.efi`, 2000 + i)) }],
    milestones: [{ title: "m1" }],
  });
  state = mkdtempSync(join(tmpdir(), "dispatch-reports-"));
  const env = { ...process.env, NO_COLOR: "1", GITHUB_TOKEN: gh.token } as Record<string, string>;
  cli = await startDispatchProcess({ command: ["bun", new URL("../../src/main.ts", import.meta.url).pathname], env }, [...fakeGitHubFlags(gh), "--state", state]);
  return { gh, cli, state };
}

/** The firmware downloads the next workload, then the workload says `beacon boot`. */
async function boot(url: string, from: string) {
  expect((await http(url, { method: "HEAD", from })).status).toBe(200);
  expect((await http(url, { from })).status).toBe(200);
  expect((await beaconBoot(url, from)).status).toBe(200);
}

const jobOf = async (port: number, ip: string) => (await status(port)).find((j) => j.ip === ip)!;
const issueOf = (gh: FakeGitHub, number: number) => gh.issues.find((i) => i.number === number)!;

async function filed(gh: FakeGitHub, cli: DispatchProcess, ip: string) {
  await until(async () => (await jobOf(cli.port, ip)).state === "finished", `the issue for ${ip}`, 60_000);
  return issueOf(gh, (await jobOf(cli.port, ip)).issue!.number);
}

describe("every report beacon can send is taken and filed", () => {
  test(
    '-m "", -l "", -a "", -t "", a title over 256 characters, unknown fields and nulls',
    async () => {
      const { gh, cli } = await start(4);
      await boot(cli.url, "127.0.0.2");
      await boot(cli.url, "127.0.0.3");
      await boot(cli.url, "127.0.0.4");
      await boot(cli.url, "127.0.0.5");

      const a = await beaconReport(cli.url, "127.0.0.2", { title: "memtest passed", body: "ok", labels: ["", "lab"], assignees: [""], milestone: "" });
      expect(a).toMatchObject({ status: 200 });
      const b = await beaconReport(cli.url, "127.0.0.3", { title: "" });
      expect(b.status).toBe(200);
      const long = `${"é".repeat(150)} ${"burn-in ".repeat(30)}`.trim();
      const c = await beaconReport(cli.url, "127.0.0.4", { title: long, body: "all cores ok", milestone: "m1" });
      expect(c.status).toBe(200);
      const d = await beaconPut(cli.url, "127.0.0.5", '{"title":"  ","body":null,"labels":null,"assignees":[null,"octocat",7],"milestone":null,"extra":{"nested":[1,{"title":"no"}]}}');
      expect(d.status).toBe(200);

      const ia = await filed(gh, cli, "127.0.0.2");
      expect(ia.title).toBe("memtest passed");
      expect(ia.milestone).toBeNull();
      expect(ia.labels).toEqual(["lab"]);
      expect(ia.assignees).toEqual([]);

      const ib = await filed(gh, cli, "127.0.0.3");
      expect(ib.title).toContain("w1.efi");
      expect(ib.title).toContain("127.0.0.3");

      const ic = await filed(gh, cli, "127.0.0.4");
      expect([...ic.title].length).toBeLessThanOrEqual(256);
      expect(ic.title.endsWith("…")).toBe(true);
      expect(long.startsWith(ic.title.slice(0, -1))).toBe(true);
      expect(ic.body!.startsWith(`**Title:** ${long}\n\nall cores ok`)).toBe(true);
      expect(ic.milestone).toBe(1);

      const id = await filed(gh, cli, "127.0.0.5");
      expect(id.title).toContain("w3.efi");
      expect(id.assignees).toEqual(["octocat"]);
      expect(id.body).not.toContain("nested");
    },
    slow,
  );

  test(
    "a 64 MiB body: taken, kept whole in reports/ (owner only), the issue cut to what GitHub takes; sent again, recognised",
    async () => {
      const { gh, cli, state } = await start(1);
      await boot(cli.url, "127.0.0.2");
      const line = (i: number) => `[${String(i).padStart(8, "0")}] stress-ng: cpu ok, "temp" 61°C\tpass\n`;
      const lines: string[] = [];
      let size = 0;
      for (let i = 0; size < 64 * 1024 * 1024; i++) {
        lines.push(line(i));
        size += Buffer.byteLength(line(i));
      }
      const body = lines.join("");
      const report = { title: "burn-in log", body, labels: ["lab"] };

      const first = await beaconReport(cli.url, "127.0.0.2", report);
      expect(first).toMatchObject({ status: 200 });
      // beacon got no answer (say) and sends the same again: recognised, nothing new kept.
      const again = await beaconReport(cli.url, "127.0.0.2", report);
      expect(again.status).toBe(200);

      const issue = await filed(gh, cli, "127.0.0.2");
      expect(gh.issues.length).toBe(1);
      expect(issue.body!.length).toBeLessThanOrEqual(65_536);
      expect(issue.body!.startsWith(body.slice(0, 60_000))).toBe(true);
      const kept = /state folder as `(reports\/[^`]+)`/.exec(issue.body!)?.[1];
      expect(kept).toBeDefined();
      expect(issue.body).toContain(`the report had ${body.length} characters`);
      expect(issue.body).not.toContain(state); // no path of the jump host

      expect(readdirSync(join(state, "reports"))).toEqual([kept!.slice("reports/".length)]);
      expect(readFileSync(join(state, kept!), "utf8") === body).toBe(true);
      expect(statSync(join(state, kept!)).mode & 0o777).toBe(0o600);
      expect(statSync(join(state, "reports")).mode & 0o777).toBe(0o700);
      expect(statSync(join(state, "journal.jsonl")).mode & 0o777).toBe(0o600);
      // The journal carries a reference and the first part, not 64 MiB.
      expect(statSync(join(state, "journal.jsonl")).size).toBeLessThan(1024 * 1024);
    },
    slow,
  );

  test("only what cannot be a report gets 400, saying what a report is", async () => {
    const { cli } = await start(1);
    await boot(cli.url, "127.0.0.2");
    for (const json of ["{title:", '{"body":"x"}', "[]", '{"title":5}']) {
      const reply = await beaconPut(cli.url, "127.0.0.2", json);
      expect(reply.status).toBe(400);
      expect(reply.text).toContain('a report is a JSON object with a string "title"');
    }
    expect((await jobOf(cli.port, "127.0.0.2")).state).toBe("booting");
  }, slow);
});
