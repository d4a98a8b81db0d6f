import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import stringWidth from "string-width";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { labServer } from "../support/lab.ts";
import { until } from "../support/until.ts";
import { efi } from "../support/workloads.ts";

// The real CLI in a real terminal: tmux runs it, send-keys types, capture-pane reads the screen.
const tmuxPath = Bun.which("tmux");
if (!tmuxPath) {
  if (process.env.CI) throw new Error("tmux is missing: scripts/setup-test-host.sh installs it for CI");
  console.warn("skipping the terminal view test: no tmux (apt-get install tmux)");
}

const root = join(import.meta.dir, "../..");
let gh: FakeGitHub;
let dir: string;
let socket: string;

const tmux = (...args: string[]) => {
  const result = Bun.spawnSync([tmuxPath!, "-S", socket, ...args], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`tmux ${args[0]}: ${result.stderr.toString()}`);
  return result.stdout.toString();
};
/** What the pane shows; with `scrollback`, the lines that scrolled off it too. */
const screen = (scrollback = false) => tmux("capture-pane", "-p", "-t", "view", ...(scrollback ? ["-S", "-200"] : [])).replace(/\n+$/, "");

/** Polls the screen (bounded) until `check` finds what it wants there. */
async function waitForScreen<T>(check: (text: string) => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  let text = "";
  return until(() => check((text = screen())), what, { timeoutMs, everyMs: 100, context: () => `the screen:\n${text}` }) as Promise<T>;
}

beforeAll(async () => {
  if (!tmuxPath) return;
  gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a-memtest.efi", 900_000), efi("b-fw-📦-update.efi", 20_000)] }] });
  dir = mkdtempSync(join(tmpdir(), "dispatch-tty-"));
  socket = join(dir, "tmux.sock");
  const command = [
    "bun src/main.ts",
    `-o ${gh.owner} -r ${gh.repo} -t v1 --api-url ${gh.apiUrl} --token ${gh.token} --bind 127.0.0.1:0 --no-mdns --state ${join(dir, "state")}`,
    // Keeps the pane, and what dispatch left on it, after dispatch exits.
    "; echo EXIT=$?; sleep 60",
  ].join(" ");
  tmux("-f", "/dev/null", "new-session", "-d", "-s", "view", "-x", "110", "-y", "24", "-c", root, command);
});

afterAll(async () => {
  if (tmuxPath && socket) {
    // The pane's process (dispatch, or the sleep after it), then tmux's own server, by pid.
    for (const format of ["#{pane_pid}", "#{pid}"]) {
      try {
        const pid = Number(tmux("display-message", "-p", "-t", "view", format).trim());
        if (pid > 0) process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  await gh?.stop();
});

describe.skipIf(!tmuxPath)("the live terminal view", () => {
  test("shows jobs moving through their states, redraws on resize, and q gives the terminal back", async () => {
    const port = await waitForScreen((s) => /boot http:\/\/127\.0\.0\.1:(\d+)\/dispatch/.exec(s)?.[1], "the boot URL in the footer");
    const url = `http://127.0.0.1:${port}/dispatch`;
    const rowOf = (s: string, name: string) => s.split("\n").find((l) => l.includes(name)) ?? "";

    const first = screen();
    expect(first).toContain("dispatch 0.1.0 · AMDEPYC/dispatch release v1 → issues of AMDEPYC/dispatch · 2 jobs");
    expect(rowOf(first, "a-memtest.efi")).toStartWith("⏳");
    expect(first).toMatch(/⏳ 2 {2}📌 0 {2}📥 0 {2}⚡ 0 {2}📝 0 {2}🏁 0 {2}❌ 0 +q quits/);

    const lab = labServer(url, "127.0.0.2");
    await lab.head();
    await waitForScreen((s) => rowOf(s, "a-memtest.efi").startsWith("📌") && rowOf(s, "a-memtest.efi").includes("127.0.0.2"), "📌 assigned");

    // A slow download: the bar and the speed show up, and the bar moves.
    gh.faults.storageBytesPerSecond = 250_000;
    const download = lab.get();
    const percent = (s: string) => Number(/(\d+)%/.exec(rowOf(s, "a-memtest.efi"))?.[1] ?? -1);
    const early = await waitForScreen((s) => (rowOf(s, "a-memtest.efi").includes("█") && /KiB\/s/.test(rowOf(s, "a-memtest.efi")) ? s : false), "a bar with a speed");
    await waitForScreen((s) => percent(s) > percent(early), "the bar to move");
    gh.faults.storageBytesPerSecond = undefined;
    await download;
    await lab.boot();
    await waitForScreen((s) => rowOf(s, "a-memtest.efi").startsWith("⚡"), "⚡ booting");
    await lab.report({ title: "memtest passed" });
    await waitForScreen((s) => rowOf(s, "a-memtest.efi").startsWith("🏁") && rowOf(s, "a-memtest.efi").includes("#1 https://"), "🏁 with the issue");

    // The emoji in a name does not push the columns out of line: both sizes end in one column.
    // (Waiting for both rows: a stray write to stderr can cover lines until the next repaint.)
    const now = await waitForScreen((s) => (rowOf(s, "b-fw-📦-update.efi") && rowOf(s, "a-memtest.efi").includes("879 KiB") ? s : false), "both rows");
    const end = (name: string, size: string) => {
      const line = rowOf(now, name);
      return stringWidth(line.slice(0, line.indexOf(size))) + stringWidth(size);
    };
    expect(end("b-fw-📦-update.efi", "20 KiB")).toBe(end("a-memtest.efi", "879 KiB"));

    // A report whose title would set the window title, clear the screen and leave the alternate
    // screen if it reached the terminal as sent: it is shown escaped, and does none of that.
    const format = (f: string) => tmux("display-message", "-p", "-t", "view", f).trim();
    const hostile = labServer(url, "127.0.0.3");
    await hostile.head();
    await hostile.get();
    await hostile.boot();
    await hostile.report({ title: "t\nfake\x1b]0;pwned\x07\x1b[2J\x1b[?1049l" });
    const shown = String.raw`reported by 127.0.0.3: "t\nfake\x1b]0;pwned\x07\x1b[2J\x1b[?1049l"`;
    await waitForScreen((s) => s.includes(shown) && rowOf(s, "b-fw-📦-update.efi").startsWith("🏁"), "the title shown escaped in the recent lines");
    expect(format("#{pane_title}")).not.toContain("pwned");
    expect(format("#{alternate_on}")).toBe("1");
    expect(rowOf(screen(), "a-memtest.efi")).toStartWith("🏁");

    tmux("resize-window", "-t", "view", "-x", "60", "-y", "12");
    // Redrawn, not cropped by tmux: the clock ends the top line again.
    const small = await waitForScreen((s) => (s.split("\n").length <= 12 && /\d\d:\d\d:\d\d$/.test(s.split("\n")[0]!) ? s : false), "a redraw at 60×12");
    for (const line of small.split("\n")) expect(stringWidth(line)).toBeLessThanOrEqual(60);
    expect(small).toContain("🏁 2");

    tmux("send-keys", "-t", "view", "q");
    const after = await waitForScreen((s) => (s.includes("EXIT=") ? s : false), "dispatch to exit");
    expect(after).toContain("EXIT=0");
    // The normal screen is back: the start-up lines, then the last log lines and the counts.
    expect(screen(true)).toContain("listening on 127.0.0.1:");
    expect(after).toContain("stopping");
    expect(after).toMatch(/⏳ 0 {2}📌 0 {2}📥 0 {2}⚡ 0 {2}📝 0 {2}🏁 2 {2}❌ 0/);
    expect(after).not.toContain("q quits");
    // The last lines printed again on the normal screen (wrapped at 60 columns) are still escaped.
    expect(after.replaceAll("\n", "")).toContain(shown);
    expect(format("#{pane_title}")).not.toContain("pwned");
  }, 90_000);
});
