import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { fakeGitHubFlags, startDispatchProcess } from "../support/dispatch-process.ts";
import { labServer } from "../support/lab.ts";
import { until } from "../support/until.ts";
import { efi } from "../support/workloads.ts";

// The real CLI with its stdout in a pipe, as under a service manager or CI.
const root = join(import.meta.dir, "../..");
let gh: FakeGitHub;
beforeAll(async () => {
  gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a.efi", 10_000)] }] });
});
afterAll(async () => {
  await gh?.stop();
});

/** Runs dispatch with its output in a pipe, lets `act` drive it, then stops it by pid. */
async function runDispatch(extra: string[], act: (bootUrl: string, lines: () => string[]) => Promise<void>) {
  // A terminal type that supports colour, but no FORCE_COLOR: only the pipe should decide.
  const env = Object.fromEntries(Object.entries({ ...process.env, TERM: "xterm-256color" }).filter(([k, v]) => k !== "FORCE_COLOR" && v !== undefined));
  const d = await startDispatchProcess({ command: ["bun", "src/main.ts"], cwd: root, env: env as Record<string, string> }, [
    ...fakeGitHubFlags(gh),
    "--token",
    gh.token,
    ...extra,
  ]);
  let code: number;
  try {
    await act(d.url, () => d.lines.filter(Boolean));
  } finally {
    code = await d.stop();
  }
  return { out: d.lines.join("\n"), code };
}


describe("log lines in a pipe", () => {
  test("plain: one line per event, and never a terminal escape sequence", async () => {
    const { out, code } = await runDispatch([], async (url, lines) => {
      await labServer(url, "127.0.0.2").head();
      await until(() => lines().some((l) => l.includes("📌 a.efi assigned to 127.0.0.2")), "the assigned line");
    });
    expect(code).toBe(0);
    expect(out).not.toContain("\u001b");
    expect(out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 📌 a\.efi assigned to 127\.0\.0\.2$/m);
    expect(out).toMatch(/status page: http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(out).toContain("stopping");
  });

  test("plain: what a report sent cannot forge a line or act on the terminal; the issue keeps it as sent", async () => {
    const forged = "2026-01-01T00:00:00Z 🏁 forged.efi finished: https://example.invalid/1";
    // A window title (OSC), a clear screen, leaving the alternate screen, a one-byte CSI, a bidi override.
    const title = `memtest passed\n${forged}\x1b]0;pwned\x07\x1b[2J\x1b[?1049l\u009b31m\u202e`;
    const issues = gh.issues.length;
    const { out, code } = await runDispatch(["--log-format", "plain"], async (url, lines) => {
      const lab = labServer(url, "127.0.0.2");
      await lab.head();
      await lab.get();
      await lab.boot();
      expect((await lab.report({ title, body: "all good" })).status).toBe(200);
      await until(() => lines().some((l) => l.includes("🏁 a.efi finished")), "the finished line");
    });
    expect(code).toBe(0);
    for (const acting of ["\u001b", "\u0007", "\u009b", "\u202e"]) expect(out).not.toContain(acting);
    const lines = out.split("\n");
    expect(lines.filter((l) => l.startsWith(forged.slice(0, 24)))).toEqual([]);
    // Every line is dispatch's own: a timestamp first (or none at all, as the start-up lines).
    const reported = lines.find((l) => l.includes("reported by 127.0.0.2"))!;
    expect(reported).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 📝 a\.efi reported by 127\.0\.0\.2: "/);
    expect(reported).toContain(`"memtest passed\\n${forged}\\x1b]0;pwned\\x07\\x1b[2J\\x1b[?1049l\\x9b31m\\u202e"`);
    expect(gh.issues.slice(issues).map((i) => i.title)).toEqual([title]);
  });

  test("json: one object per line, with the job's facts", async () => {
    const { out, code } = await runDispatch(["--log-format", "json"], async (url, lines) => {
      await labServer(url, "127.0.0.2").head();
      await until(() => lines().some((l) => l.includes('"state":"assigned"')), "the assigned line");
    });
    expect(code).toBe(0);
    expect(out).not.toContain("\u001b");
    const objects = out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    for (const o of objects) {
      expect(new Date(o.time!).toISOString()).toBe(o.time!);
      expect(["info", "warn"]).toContain(o.level!);
      expect(typeof o.message).toBe("string");
    }
    expect(objects).toContainEqual(expect.objectContaining({ level: "info", job: "a.efi", state: "assigned", ip: "127.0.0.2", message: "📌 a.efi assigned to 127.0.0.2" }));
    expect(out).not.toContain(gh.token);
  });

  test("an unknown format is a usage error; --help in a pipe has no colours", async () => {
    const bad = Bun.spawnSync(["bun", "src/main.ts", "-o", "x", "-r", "y", "-t", "v1", "--log-format", "xml"], { cwd: root, stdout: "pipe", stderr: "pipe" });
    expect(bad.exitCode).toBe(2);
    // citty's own check of the choices (the flag is an enum); its refusal is a usage error.
    expect(bad.stderr.toString()).toContain("--log-format (xml). Expected one of: plain, json");
    const help = Bun.spawnSync(["bun", "src/main.ts", "--help"], { cwd: root, stdout: "pipe", stderr: "pipe" });
    expect(help.stdout.toString()).toContain("--log-format");
    expect(help.stdout.toString()).not.toContain("\u001b");
  });
});
