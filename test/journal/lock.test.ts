import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, startProcess } from "../support/processes.ts";
import { startDispatchProcess } from "../support/dispatch-process.ts";
import { pattern } from "../support/workloads.ts";

// A stale lock (its holder killed) taken over by several starts at the same instant: exactly one
// wins, the others are refused naming it, and no lock is ever held twice.

const children: Child[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) await child.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A lock file as a dispatch that was killed leaves it: its pid no longer runs. */
async function staleLock(dir: string): Promise<void> {
  const gone = Bun.spawn(["true"]);
  await gone.exited;
  const holder = { pid: gone.pid, host: hostname(), procStart: null, since: "2026-01-01T00:00:00.000Z", command: "dispatch --dir old" };
  writeFileSync(join(dir, "lock"), `${JSON.stringify(holder)}\n`, { mode: 0o600 });
}

const script = join(import.meta.dir, "support/take-lock.ts");

test("six starts on one stale lock at the same instant, five rounds: exactly one wins each time, the others name it", async () => {
  for (let round = 0; round < 5; round++) {
    const dir = tempDir("dispatch-lock-");
    await staleLock(dir);
    const at = Date.now() + 400;
    const contenders = Array.from({ length: 6 }, () => startProcess([process.execPath, script, dir, String(at)], { name: "take-lock" }));
    children.push(...contenders);
    const outcomes = await Promise.all(contenders.map((c) => c.waitFor(/^(won|refused|error)/, 15_000)));
    expect(outcomes.filter((o) => o.startsWith("error"))).toEqual([]);
    const winners = contenders.filter((_, i) => outcomes[i] === "won");
    expect(winners).toHaveLength(1);
    for (const refused of outcomes.filter((o) => o.startsWith("refused"))) expect(refused).toContain(`pid ${winners[0]!.pid} on ${hostname()}`);
    expect(JSON.parse(readFileSync(join(dir, "lock"), "utf8")).pid).toBe(winners[0]!.pid);
    // Nothing left behind but the lock itself.
    expect(readdirSync(dir)).toEqual(["lock"]);
    for (const c of contenders) await c.stop();
    expect(readdirSync(dir)).toEqual([]);
  }
}, 90_000);

test("two dispatch processes started together on a stale lock: one serves, the other exits 2 naming it", async () => {
  const dir = tempDir("dispatch-out-");
  writeFileSync(join(dir, "a.efi"), pattern(4000, 1));
  const state = tempDir("dispatch-state-");
  await staleLock(state);
  const launch = { command: [process.execPath, "src/main.ts"], cwd: join(import.meta.dir, "../.."), env: { PATH: "/usr/bin:/bin", HOME: tmpdir() } };
  const args = ["--dir", dir, "--reports", join(tempDir("dispatch-reports-"), "r"), "--state", state, "--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain"];
  const both = await Promise.all([0, 1].map(() => startDispatchProcess(launch, args, { waitListening: false })));
  children.push(...both);
  const outcome = await Promise.all(both.map((d) => Promise.race([d.waitFor("listening on").then(() => "serving"), d.exited.then((code) => `exited ${code}`)])));
  expect([...outcome].sort()).toEqual(["exited 2", "serving"]);
  const [serving, refused] = outcome[0] === "serving" ? both : [both[1]!, both[0]!];
  expect(refused!.output()).toContain(`another dispatch is using the state folder ${state}: pid ${serving!.pid}`);
}, 30_000);
