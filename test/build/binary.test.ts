import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { buildVersion } from "../../scripts/build.ts";
import { runDispatch } from "../support/dispatch-process.ts";
import { fullCycleTests } from "../support/full-cycle.ts";

// `bun run build`, then the binary alone in an empty folder, as on a jump host: no node_modules,
// no Bun, no source beside it, and an environment with next to nothing in it.
const root = join(import.meta.dir, "../..");
let folder: string;
let binary: string;

beforeAll(async () => {
  const build = Bun.spawn([process.execPath, "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
  if (code !== 0) throw new Error(`bun run build failed (${code}):\n${out}${err}`);
  folder = await mkdtemp(join(tmpdir(), "dispatch-jump-host-"));
  binary = join(folder, "dispatch");
  await copyFile(join(root, "dist/dispatch"), binary);
}, 180_000);
afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("the compiled binary, alone in an empty folder", () => {
  const bare = () => ({ command: [binary], cwd: folder, env: {} });

  test("holds nothing but itself", async () => {
    expect(await readdir(folder)).toEqual(["dispatch"]);
  });

  test("--version prints the version stamped in at build time, with an empty environment", async () => {
    const run = await runDispatch(bare(), ["--version"]);
    expect(run.code).toBe(0);
    const printed = run.stdout.trim();
    expect(printed).toBe(await buildVersion());
    expect(printed.startsWith(pkg.version)).toBe(true);
  }, 30_000);

  test("--help shows the options and examples, with an empty environment", async () => {
    const run = await runDispatch(bare(), ["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--owner");
    expect(run.stdout).toContain("Examples:");
  }, 30_000);

  test("without a token it explains how to get one, and exits 2", async () => {
    const run = await runDispatch(bare(), ["--owner", "o", "--repo", "r", "--tag", "v1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("gh auth login");
  }, 30_000);

  test("dispatch demo needs nothing beside it: the samples are generated, both reports written (servers played on loopback)", async () => {
    const demo = join(folder, "demo");
    const run = await runDispatch(bare(), ["demo", "--no-vm", "--log-format", "plain", demo]);
    expect({ code: run.code, out: run.stdout + run.stderr }).toMatchObject({ code: 0 });
    expect(run.stdout).toContain("demo: done: every server is off; 2 of 2 workloads finished with a report, 0 failed");
    expect((await readdir(join(demo, "reports"))).filter((name) => name.endsWith(".efi.md"))).toHaveLength(2);
    await rm(demo, { recursive: true });
  }, 30_000);

  describe("a full cycle against the fake GitHub", () => {
    fullCycleTests(async () => ({ command: [binary], cwd: folder, env: { PATH: "/usr/bin:/bin", HOME: folder } }));
  });
});
