import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { createConsoleBook } from "../../src/console/book.ts";
import { type Capture, restartBackoff, startCapture } from "../../src/console/capture.ts";
import { attemptPart, defaultBounds, noJob, readPart } from "../../src/console/kept.ts";
import type { Workload } from "../../src/core/workload.ts";
import { initialState } from "../../src/core/job.ts";
import { createStore } from "../../src/core/store.ts";
import { bunRuntime } from "../../src/runtime/bun/index.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { until } from "../support/until.ts";

// The console edge with real child processes, a real socket and real files: what it keeps of a
// server's console, split per attempt, bounded, restarted, and kept across a restart of dispatch.

const temp = tempDirs();
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(() => temp.removeAll());

const workload = (name: string): Workload => ({ name, size: 1000, bootType: "application/efi", source: `/out/${name}` });
const ip = "127.0.0.2";

function setUp(names: string[], stateDir = temp.make("dispatch-console-state-")) {
  const store = createStore(initialState(names.map(workload), { downloadMs: 300_000, runMs: 3_600_000 }));
  const book = createConsoleBook(bunRuntime.files, stateDir);
  book.register([{ name: "node-1", ip }]);
  const warnings: string[] = [];
  const log = { info: () => {}, warn: (line: string) => void warnings.push(line) };
  const capture = (command: string[], restartMs = 60_000): Capture => {
    const c = startCapture({ runtime: bunRuntime, store, book, consoles: [{ server: "node-1", ip, command }], log, now: Date.now, restartDelayMs: () => restartMs });
    cleanup.push(() => c.close());
    return c;
  };
  return { store, book, capture, warnings, stateDir, dir: join(stateDir, "consoles", "node-1") };
}

/** A serial port on a unix socket, as QEMU's `-serial unix:PATH,server` gives it: lines written to whoever is connected. */
async function serialPort(): Promise<{ path: string; write(text: string): void; connected(): boolean; server: Server }> {
  const path = join(temp.make("dispatch-console-sock-"), "serial.sock");
  const clients = new Set<Socket>();
  const server = createServer((socket) => {
    clients.add(socket);
    socket.on("close", () => clients.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanup.push(() => new Promise<void>((resolve) => {
    for (const c of clients) c.destroy();
    server.close(() => resolve());
  }));
  return { path, server, write: (text) => clients.forEach((c) => c.write(text)), connected: () => clients.size > 0 };
}

describe("the console edge", () => {
  test("two jobs on one server keep their own lines: each part runs from its boot request to the next", async () => {
    const s = setUp(["a.efi", "b.efi"]);
    const port = await serialPort();
    s.capture(["socat", "-", `UNIX-CONNECT:${port.path}`]);
    await until(port.connected, "socat connected to the serial port");
    const kept = async (part: string) => (await readPart(bunRuntime.files, s.dir, part))?.text ?? "";

    port.write("BdsDxe: loading Boot0001\r\n");
    await until(async () => (await kept(noJob)).includes("Boot0001"), "the firmware's line, before any job");
    s.store.dispatch({ type: "boot-requested", at: Date.now(), ip, download: true });
    port.write("\x1b[0mworkload a: step 1\r\nworkload a: done\r\n");
    await until(async () => (await kept(attemptPart(1))).includes("a: done"), "job a's lines");
    s.store.dispatch({ type: "booted", at: Date.now(), ip });
    s.store.dispatch({ type: "reported", at: Date.now(), ip, report: { title: "a ok" } });
    port.write("rebooting\r\n");
    await until(async () => (await kept(attemptPart(1))).includes("rebooting"), "the reboot, still job a's");
    s.store.dispatch({ type: "boot-requested", at: Date.now(), ip, download: true });
    port.write("workload b: hello\r\n");
    await until(async () => (await kept(attemptPart(2))).includes("b: hello"), "job b's lines");

    // A line not yet ended shows where it began; a boot request answered with poweroff.efi ends the part.
    port.write("workload b: waiting for a lock");
    const jobB = () => s.store.state.jobs.find((j) => j.workload.name === "b.efi")!;
    await until(async () => (await s.book.attemptTails(jobB(), 100)).some((t) => t.lines.at(-1)?.endsWith("b: waiting for a lock")), "the line still arriving");
    s.store.dispatch({ type: "download-ended", at: Date.now(), ip, name: "b.efi", start: 0, sent: 1000 });
    s.store.dispatch({ type: "booted", at: Date.now(), ip });
    s.store.dispatch({ type: "reported", at: Date.now(), ip, report: { title: "b ok" } });
    s.store.dispatch({ type: "boot-requested", at: Date.now(), ip, download: true });
    port.write("\nPoweroff: bye\n");
    await until(async () => (await kept(noJob)).includes("Poweroff: bye"), "the poweroff's lines, in no job's part");

    const a = await kept(attemptPart(1));
    const b = await kept(attemptPart(2));
    expect(b).toContain("Z workload b: waiting for a lock\n");
    expect(b).not.toContain("Poweroff");
    expect(a).not.toContain("Boot0001");
    expect(a).not.toContain("workload b");
    expect(b).not.toContain("workload a");
    expect(a).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z workload a: step 1\n/);
    // Through the book, as the sinks read it: the job's attempts.
    const jobA = s.store.state.jobs.find((j) => j.workload.name === "a.efi")!;
    const tails = await s.book.attemptTails(jobA, 100);
    expect(tails).toHaveLength(1);
    expect(tails[0]!.lines.map((l) => l.slice(25))).toEqual(["workload a: step 1", "workload a: done", "rebooting"]);
    // The folder is the owner's alone.
    expect(statSync(join(s.stateDir, "consoles")).mode & 0o077).toBe(0);
    expect(statSync(join(s.dir, `${attemptPart(1)}.head.txt`)).mode & 0o077).toBe(0);
  }, 30_000);

  test("a workload that prints 1 GiB keeps the bound: its first 1 MiB, its last 1–2 MiB, what was dropped said", async () => {
    const s = setUp(["a.efi"]);
    s.store.dispatch({ type: "boot-requested", at: Date.now(), ip, download: true });
    // 1 GiB of 64-byte lines, then a last line: a generator far faster than any serial port.
    const script = "yes 'the workload prints for ever, a line of 64 bytes: 0123456789' | head -c 1073741824; echo the very last line";
    s.capture(["sh", "-c", script]);
    await until(() => s.warnings.some((w) => w.includes("console sh ended (exit 0)")), "the generator's end", { timeoutMs: 240_000, everyMs: 200 });
    const names = readdirSync(s.dir);
    const sizes = names.map((n) => statSync(join(s.dir, n)).size);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(statSync(join(s.dir, `${attemptPart(1)}.head.txt`)).size).toBeLessThanOrEqual(defaultBounds.headBytes);
    expect(names.filter((n) => n.includes(".tail-")).length).toBeLessThanOrEqual(defaultBounds.pieces);
    expect(total).toBeLessThanOrEqual(defaultBounds.headBytes + defaultBounds.pieces * defaultBounds.pieceBytes);
    expect(total).toBeGreaterThan(defaultBounds.headBytes + defaultBounds.pieceBytes - 200);
    const kept = (await readPart(bunRuntime.files, s.dir, attemptPart(1)))!;
    // The stamps make the stored lines longer than 1 GiB of console: more than 1 GiB was dropped.
    expect(kept.droppedBytes).toBeGreaterThan(1024 ** 3);
    expect(kept.text).toContain("bytes of console dropped here");
    expect(kept.text.trimEnd().endsWith("the very last line")).toBe(true);
  }, 300_000);

  test("a console command that dies is started again, with backoff", async () => {
    const s = setUp(["a.efi"]);
    s.capture(["sh", "-c", "echo console started by $$; echo going away >&2; exit 3"], 50);
    await until(() => s.warnings.filter((w) => /ended( \(\d+ times in a row\))? \(exit 3: going away\)/.test(w)).length >= 3, "ends 1, 2 and 4");
    const text = (await readPart(bunRuntime.files, s.dir, noJob))!.text;
    const pids = new Set([...text.matchAll(/console started by (\d+)/g)].map((m) => m[1]));
    expect(pids.size).toBeGreaterThanOrEqual(4);
    expect(s.warnings.some((w) => w.includes("ended (4 times in a row) (exit 3"))).toBe(true);
    // The default backoff: 1 s, doubling, 10 s at most.
    expect([1, 2, 3, 4, 5, 20].map(restartBackoff)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  }, 30_000);

  test("dispatch started again keeps what was captured and goes on in the same part", async () => {
    const first = setUp(["a.efi"]);
    first.store.dispatch({ type: "boot-requested", at: Date.now(), ip, download: true });
    const port = await serialPort();
    const c1 = first.capture(["socat", "-", `UNIX-CONNECT:${port.path}`]);
    await until(port.connected, "socat connected");
    port.write("before the restart\n");
    const kept = async () => (await readPart(bunRuntime.files, first.dir, attemptPart(1)))?.text ?? "";
    await until(async () => (await kept()).includes("before the restart"), "the first line");
    await c1.close();
    await until(() => !port.connected(), "socat gone with its dispatch");

    // A new process: the same state folder, the state replayed (the same attempt under way).
    const second = setUp(["a.efi"], first.stateDir);
    second.store.dispatch({ type: "boot-requested", at: Date.now(), ip, download: true });
    second.capture(["socat", "-", `UNIX-CONNECT:${port.path}`]);
    await until(port.connected, "socat connected again");
    port.write("after the restart\n");
    await until(async () => (await kept()).includes("after the restart"), "the second line");
    expect((await kept()).indexOf("before the restart")).toBeLessThan((await kept()).indexOf("after the restart"));
  }, 30_000);
});
