import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { beaconBoot, beaconReport } from "../support/beacon.ts";
import { type DispatchProcess, type Launch, fakeGitHubFlags, runDispatch, startDispatchProcess } from "../support/dispatch-process.ts";
import { until } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";

// The state folder's runtime parts (file modes, the body streamed to a file, the lock and its
// take-over after SIGKILL) under each runtime: only src/runtime differs between them.

const root = join(import.meta.dir, "../..");
const deno = join(root, "node_modules/@deno/linux-x64-glibc/deno");
const launches: [string, () => Launch | undefined][] = [
  ["bun src/main.ts", () => ({ command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" } })],
  [
    "deno run -A src/main.ts",
    () =>
      process.platform === "linux" && process.arch === "x64"
        ? { command: [deno, "run", "-A", "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", DENO_NO_UPDATE_CHECK: "1" } }
        : undefined,
  ],
];

let gh: FakeGitHub | undefined;
const clis: DispatchProcess[] = [];
let state: string | undefined;
afterEach(async () => {
  for (const cli of clis.splice(0)) await cli.kill("SIGKILL");
  await gh?.stop();
  if (state) rmSync(state, { recursive: true, force: true });
  gh = state = undefined;
});

for (const [name, launchOf] of launches) {
  describe(name, () => {
    test("owner-only files, a long body kept whole, one process per folder, no stuck lock after SIGKILL", async () => {
      const base = launchOf();
      if (!base) return console.warn(`skipping ${name}: the pinned Deno package is for linux-x64`);
      gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a.efi", 3000), efi("b.efi", 3001)] }] });
      state = mkdtempSync(join(tmpdir(), "dispatch-state-folder-"));
      const launch = { ...base, env: { ...base.env, GITHUB_TOKEN: gh.token } };
      const args = [...fakeGitHubFlags(gh), "--state", join(state, "s")];
      const first = await startDispatchProcess(launch, args);
      clis.push(first);

      await http(first.url, { method: "HEAD", from: "127.0.0.2" });
      await http(first.url, { from: "127.0.0.2" });
      expect((await beaconBoot(first.url, "127.0.0.2")).status).toBe(200);
      const body = `${"log line\t\"ok\"\n".repeat(20_000)}end`;
      expect((await beaconReport(first.url, "127.0.0.2", { title: "long", body })).status).toBe(200);
      const dir = join(state, "s");
      const [kept] = readdirSync(join(dir, "reports"));
      expect(readFileSync(join(dir, "reports", kept!), "utf8") === body).toBe(true);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, "reports")).mode & 0o777).toBe(0o700);
      for (const file of ["journal.jsonl", "lock", `reports/${kept}`]) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);

      const second = await runDispatch(launch, args);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`pid ${first.pid}`);

      await until(() => gh!.issues.length === 1, "the issue", 15_000);
      expect(await first.kill("SIGKILL")).not.toBe(0);
      const third = await startDispatchProcess(launch, args);
      clis.push(third);
      await third.waitFor("resumed");
    }, 60_000);
  });
}
