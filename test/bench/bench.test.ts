import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The bench's smoke test: `bun run bench --quick` end to end (nginx plain and HTTPS, HAProxy, the
// API stand-ins, dispatch as its own process, curl clients), checking that it produces every
// figure. No timing assertions: this machine is shared, and the figures are for people to read.
const root = join(import.meta.dir, "..", "..");
const there = (name: string) => ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"].some((dir) => existsSync(join(dir, name)));
const canRun = process.platform === "linux" && (["nginx", "haproxy", "openssl"].every(there) || process.getuid?.() === 0);
if (!canRun) console.warn("bench smoke test skipped: needs Linux, nginx, haproxy and openssl (scripts/setup-test-host.sh installs them as root)");

// Asked of dispatch itself, not of the bench: once `--dir` lands, its column must be measured.
const help = Bun.spawnSync([process.execPath, "src/main.ts", "--help"], { cwd: root });
const servesFolders = /--dir[=\s]/.test(help.stdout.toString() + help.stderr.toString());

const dir = mkdtempSync(join(tmpdir(), "bench-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The bench's temporary folders go here (its TMPDIR), not among those of other runs on the
// machine, which come and go in /tmp while this runs. nginx workers may be another user.
const benchTmp = join(dir, "tmp");
mkdirSync(benchTmp, { mode: 0o755 });
chmodSync(dir, 0o755);

test.skipIf(!canRun)(
  "bun run bench --quick measures every figure, writes them as JSON, and cleans up",
  async () => {
    const out = join(dir, "results.json");
    const child = Bun.spawn([process.execPath, "scripts/bench.ts", "--quick", "--out", out], {
      cwd: root,
      env: { ...process.env, TMPDIR: benchTmp },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    expect({ code: await child.exited, stderr: stderr.slice(-2000) }).toMatchObject({ code: 0 });

    // The table names each measurement and the machine it ran on.
    for (const row of ["1 stream of 16 MiB", "4 streams of 4 MiB at once", "server CPU per GiB sent", "ratio to HAProxy over the same storage", "dispatch, HTTPS storage", "nginx proxy, HTTPS storage", "HAProxy, HTTPS storage", "direct over HTTPS", "dispatch --dir", "peak RSS, 1 client", "HEAD p50 / p99", "machine:"]) {
      expect(stdout).toContain(row);
    }
    const json = JSON.parse(readFileSync(out, "utf8"));
    expect(json.mode).toBe("quick");
    expect(json.failures).toEqual([]);
    expect(json.machine.cpus).toBeGreaterThan(0);
    const { single, multi, slowOne, slowMany, growthSmall, growthBig, head, headPaced } = json.results;
    const measured = ["dispatch", "dispatchTls", "nginx", "nginxTls", "haproxy", "haproxyTls", "direct", "directTls", ...(servesFolders ? ["dispatchDir"] : [])];
    for (const result of [single, multi]) {
      for (const path of measured) {
        expect(result.speed[path].length).toBeGreaterThan(0);
        for (const speed of result.speed[path]) expect(speed).toBeGreaterThan(0);
        expect(result.ratio[path]).toBeGreaterThan(0);
      }
      for (const path of ["dispatch", "dispatchTls"]) expect(result.toHaproxy[path]).toBeGreaterThan(0);
      for (const path of ["dispatchTls", "nginxTls", "haproxyTls"]) expect(result.toDirectTls[path]).toBeGreaterThan(0);
      // CPU per GiB for every server measured, the HTTPS proxies included (at these sizes a
      // server may use less than the kernel's 10 ms tick: zero, but measured).
      for (const path of measured) expect(result.cpuPerGiB[path]).toBeGreaterThanOrEqual(0);
      // The column is skipped, with its reason, exactly when this dispatch has no --dir.
      expect(result.skipped.dispatchDir === undefined).toBe(servesFolders);
      if (!servesFolders) expect(result.speed.dispatchDir).toBeUndefined();
    }
    // Every download of the HTTPS column came from the HTTPS storage host to dispatch (one per
    // round and client), over TLS 1.2 or 1.3; curl's direct downloads over HTTPS are counted apart,
    // and the two proxies decrypting it pass curl's user agent on: three times as many.
    const overTls = Object.entries(json.tlsStorageDownloads as Record<string, number>);
    for (const [how] of overTls) expect(how).toMatch(/^\S+ TLSv1\.[23] \S+$/);
    const expected = json.plan.single.rounds + json.plan.multi.clients * json.plan.multi.rounds;
    const by = (agent: string) => overTls.filter(([how]) => how.startsWith(agent)).reduce((sum, [, n]) => sum + n, 0);
    expect(by("dispatch/")).toBeGreaterThanOrEqual(expected);
    expect(by("curl/")).toBeGreaterThanOrEqual(3 * expected);
    const localChecks = json.checks.filter((c: { what: string }) => c.what.startsWith("local file"));
    expect(localChecks).toHaveLength(2);
    for (const c of localChecks) expect(c.met === null).toBe(!servesFolders);
    expect(slowMany.clients).toBe(4);
    for (const memory of [slowOne, slowMany, growthSmall, growthBig]) {
      // dispatch's own resident memory, read from /proc: more than nothing, less than the machine.
      expect(memory.peak).toBeGreaterThan(10 * 2 ** 20);
      expect(memory.peak).toBeGreaterThanOrEqual(memory.idle * 0.5);
      expect(memory.failures).toEqual([]);
    }
    for (const h of [head, headPaced]) {
      expect(h.requests).toBe(200);
      expect(h.p99).toBeGreaterThanOrEqual(h.p50);
      expect(h.downloadsRunningAtEnd).toBe(4);
    }
    expect(json.checks).toHaveLength(11);

    // Its temporary files and servers are gone (the folder holds nginx's pid files and logs).
    expect(readdirSync(benchTmp).filter((name) => name.startsWith("dispatch-bench-"))).toEqual([]);
  },
  180_000,
);

test.skipIf(!canRun)(
  "scripts/bench-memory.ts measures the memory rows alone, and every download completes",
  async () => {
    const child = Bun.spawn([process.execPath, "scripts/bench-memory.ts", "--size-mib", "8", "--clients", "3", "--rate", "8M"], {
      cwd: root,
      env: { ...process.env, TMPDIR: benchTmp },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    expect({ code: await child.exited, stderr: stderr.slice(-2000) }).toMatchObject({ code: 0 });
    const rows = [...stderr.matchAll(/round 1: (\d+) client\(s\) at 8MB\/s, 8 MiB each: idle (\d+) MiB, peak (\d+) MiB/g)];
    expect(rows.map((r) => Number(r[1]))).toEqual([1, 3]);
    for (const [, , idle, peak] of rows) expect(Number(peak)).toBeGreaterThanOrEqual(Number(idle));
    expect(stderr).not.toContain("failures:");
    expect(readdirSync(benchTmp)).toEqual([]);
  },
  60_000,
);
