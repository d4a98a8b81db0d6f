import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DispatchConfig } from "../../src/app/config.ts";
import { startFakeGitHub } from "../fake-github/index.ts";
import { type TestDispatch, startTestDispatch, until } from "../support/dispatch.ts";
import { http, text } from "../support/http-client.ts";
import { pattern } from "../support/workloads.ts";
import { tempDirs } from "../support/temp-dirs.ts";

// --dir: a folder's *.efi, *.iso and *.img files are the queue, served from disk, over real
// HTTP on loopback; no fake GitHub at all (apiUrl points at a loopback port nobody serves).

const cleanup: (() => Promise<unknown> | unknown)[] = [];
const temp = tempDirs();
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  temp.removeAll();
});

function folder(files: Record<string, Uint8Array | string>): string {
  const dir = temp.make("dispatch-dir-");
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return dir;
}

/** A folder run whose state and report folders outlast each dispatch, for several starts in a row. */
function keptBetweenRuns(dir: string): Partial<DispatchConfig> {
  const state = temp.make("dispatch-state-");
  const reports = temp.make("dispatch-reports-");
  return { dir, reportsDir: reports, stateDir: state };
}

async function start(dir: string, overrides: Partial<DispatchConfig> = {}): Promise<TestDispatch> {
  const reports = temp.make("dispatch-reports-");
  const d = await startTestDispatch(undefined, { dir, reportsDir: reports, ...overrides });
  cleanup.push(() => d.stop());
  return d;
}

type Status = { jobs: { name: string; state: string; type: string; reason: string | null; downloaded: boolean; bytes: number | null }[]; run: { source: string; sink: string } };
const status = async (d: TestDispatch): Promise<Status> => JSON.parse(text(await http(d.url.replace(/\/dispatch$/, "/api/status"))));
const jobOf = async (d: TestDispatch, name: string) => (await status(d)).jobs.find((j) => j.name === name)!;

describe("the queue from a folder", () => {
  test("*.efi, *.iso, *.img in any case, in name order; the start lines say what was queued and what left out", async () => {
    const dir = folder({ "b-disk.ISO": pattern(3000, 1), "a-app.efi": pattern(2000, 2), "c-ram.Img": pattern(1000, 3), "notes.txt": "x", "efi": "no extension" });
    mkdirSync(join(dir, "build.efi")); // a folder named like a workload is not one
    const d = await start(dir);
    const s = await status(d);
    expect(s.jobs.map((j) => [j.name, j.type])).toEqual([
      ["a-app.efi", "application/efi"],
      ["b-disk.ISO", "application/vnd.efi-iso"],
      ["c-ram.Img", "application/vnd.efi-img"],
    ]);
    expect(d.lines).toContain(`folder ${dir}: 6 entries, 3 queued`);
    expect(d.lines).toContain("  ⏳ b-disk.ISO (2.9 KiB, application/vnd.efi-iso)");
    expect(d.lines).toContain("  left out: build.efi (a folder), efi (not .efi, .iso or .img), notes.txt (not .efi, .iso or .img)");
    expect(d.lines).toContain("no GitHub token needed: the workloads come from a folder and the reports go to a folder");
    expect(s.run.source).toBe(`folder ${dir}`);
    expect(s.run.sink).toStartWith("report files in ");
  });

  test("positional filters work as for a release; a symbolic link to a file counts as that file", async () => {
    const dir = folder({ "memtest.efi": pattern(100, 1), "stress.iso": pattern(100, 2), "other.efi": pattern(100, 3) });
    symlinkSync(join(dir, "memtest.efi"), join(dir, "latest-memtest.efi"));
    const d = await start(dir, { filters: ["memtest", "stress"] });
    expect((await status(d)).jobs.map((j) => j.name)).toEqual(["latest-memtest.efi", "memtest.efi", "stress.iso"]);
    expect(d.lines.some((l) => l.includes("left out: other.efi (matches no filter)"))).toBe(true);
  });

  test("a folder that is not there is a clear error", async () => {
    const missing = join(tmpdir(), `dispatch-no-such-${process.pid}`);
    await expect(startTestDispatch(undefined, { dir: missing, reportsDir: missing })).rejects.toThrow(`--dir ${missing}: no such folder`);
  });
});

describe("serving from disk", () => {
  test("HEAD from the file's size, GET the whole file, Range 206 and 416, progress reaches the status", async () => {
    const bytes = pattern(3 * 1024 * 1024 + 17, 7);
    const d = await start(folder({ "w.efi": bytes }));
    const head = await http(d.url, { method: "HEAD", from: "127.0.0.2" });
    expect([head.status, head.headers["content-length"], head.headers["content-type"], head.headers["accept-ranges"]]).toEqual([200, String(bytes.length), "application/efi", "bytes"]);

    const part = await http(d.url, { from: "127.0.0.2", headers: { range: "bytes=1048570-1048589" } });
    expect(part.status).toBe(206);
    expect(part.headers["content-range"]).toBe(`bytes 1048570-1048589/${bytes.length}`);
    expect(part.headers["content-length"]).toBe("20");
    expect(part.body).toEqual(bytes.subarray(1048570, 1048590));

    const beyond = await http(d.url, { from: "127.0.0.2", headers: { range: `bytes=${bytes.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers["content-range"]).toBe(`bytes */${bytes.length}`);

    const whole = await http(d.url, { from: "127.0.0.2" });
    expect(whole.status).toBe(200);
    expect(whole.headers["content-length"]).toBe(String(bytes.length));
    expect(whole.body).toEqual(bytes);
    await until(async () => (await jobOf(d, "w.efi")).downloaded, "the download counted whole");
    expect((await jobOf(d, "w.efi")).bytes).toBe(bytes.length + 20);
  });

  test("a file replaced by another build after it was queued fails its job with the reason; the server gets the next", async () => {
    const dir = folder({ "1.efi": pattern(5000, 1), "2.efi": pattern(5000, 2) });
    const d = await start(dir);
    // The build is replaced the way build tools do it: written aside, renamed over.
    writeFileSync(join(dir, "1.efi.new"), pattern(5000, 9));
    renameSync(join(dir, "1.efi.new"), join(dir, "1.efi"));
    const reply = await http(d.url, { from: "127.0.0.2" });
    expect(reply.status).toBe(410);
    expect(text(reply)).toContain("1.efi");
    const job = await jobOf(d, "1.efi");
    expect(job.state).toBe("failed");
    expect(job.reason).toContain(`1.efi in ${dir} is not the build that was queued`);
    expect(job.reason).toContain("--fresh");
    const next = await http(d.url, { from: "127.0.0.2" });
    expect(next.status).toBe(200);
    expect(next.body).toEqual(pattern(5000, 2));
  });

  test("a file rewritten in place with the same size is a new build too", async () => {
    const dir = folder({ "1.efi": pattern(5000, 1) });
    const d = await start(dir);
    writeFileSync(join(dir, "1.efi"), pattern(5000, 3));
    // A new modification time, whatever the file system's time resolution.
    utimesSync(join(dir, "1.efi"), new Date(), new Date(Date.now() + 5000));
    expect((await http(d.url, { from: "127.0.0.2" })).status).toBe(410);
    expect((await jobOf(d, "1.efi")).reason).toContain("not the build that was queued");
  });

  test("a file removed after it was queued fails its job with the reason", async () => {
    const dir = folder({ "1.efi": pattern(5000, 1) });
    const d = await start(dir);
    rmSync(join(dir, "1.efi"));
    expect((await http(d.url, { from: "127.0.0.2" })).status).toBe(410);
    const job = await jobOf(d, "1.efi");
    expect([job.state, job.reason]).toEqual(["failed", `1.efi was removed from ${dir} after it was queued`]);
    expect(d.lines).toContain(`❌ 1.efi failed on 127.0.0.2: 1.efi was removed from ${dir} after it was queued`);
  });

  test("a file rewritten while it is downloading breaks that download (only the old build's bytes went out); the retry fails the job", async () => {
    // Large enough that the socket buffers hold only part of it while the client pauses.
    const size = 48 * 1024 * 1024;
    const old = pattern(size, 1);
    const dir = folder({ "big.iso": old });
    const d = await start(dir);
    const received: Buffer[] = [];
    const ended = new Promise<string>((resolve, reject) => {
      const req = request(d.url, { localAddress: "127.0.0.2", agent: false, timeout: 20_000 });
      req.on("error", (e) => resolve(`error: ${e.message}`));
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("response", (res) => {
        res.once("data", (chunk: Buffer) => {
          received.push(chunk);
          res.pause();
          // The build changes under the running download (same inode, same size).
          writeFileSync(join(dir, "big.iso"), pattern(size, 2));
          utimesSync(join(dir, "big.iso"), new Date(), new Date(Date.now() + 5000));
          res.on("data", (c: Buffer) => received.push(c));
          res.resume();
        });
        res.on("end", () => resolve(res.complete ? "complete" : "incomplete"));
        res.on("aborted", () => resolve("aborted"));
        res.on("error", (e) => resolve(`error: ${e.message}`));
      });
      req.end();
      void reject;
    });
    const how = await ended;
    expect(how).not.toBe("complete");
    const got = Buffer.concat(received);
    expect(got.length).toBeLessThan(size);
    expect(got.equals(Buffer.from(old.subarray(0, got.length)))).toBe(true);
    await until(() => d.warnings.some((l) => l.includes("big.iso changed on disk while being served")), "the cut download logged");
    await until(async () => (await jobOf(d, "big.iso")).state === "unassigned", "the job back in the queue");
    // The firmware tries again: now the file is not the queued build, so the job fails.
    expect((await http(d.url, { from: "127.0.0.2" })).status).toBe(410);
    expect((await jobOf(d, "big.iso")).state).toBe("failed");
  }, 30_000);
});

describe("the journal knows a folder run by its files", () => {
  test("the same folder resumes; a rebuilt file is refused with what changed and what to do", async () => {
    const dir = folder({ "1.efi": pattern(5000, 1), "2.efi": pattern(6000, 2) });
    const config = keptBetweenRuns(dir);

    const first = await startTestDispatch(undefined, config);
    expect((await http(first.url, { from: "127.0.0.2" })).status).toBe(200);
    expect((await http(first.url, { method: "POST", from: "127.0.0.2" })).status).toBe(200);
    await first.stop();

    const second = await startTestDispatch(undefined, config);
    expect(second.lines.some((l) => l.startsWith("resumed ") && l.includes("1 running"))).toBe(true);
    expect((await jobOf(second, "1.efi")).state).toBe("booting");
    await second.stop();

    utimesSync(join(dir, "2.efi"), new Date(), new Date(Date.now() + 60_000));
    const refused = startTestDispatch(undefined, config);
    await expect(refused).rejects.toThrow("the folder's workloads changed since it began");
    await expect(refused).rejects.toThrow("2.efi (6000 bytes, application/efi, modified");
    await expect(refused).rejects.toThrow("--fresh");

    const fresh = await startTestDispatch(undefined, { ...config, fresh: true });
    expect((await jobOf(fresh, "2.efi")).state).toBe("unassigned");
    await fresh.stop();
  });
});

describe("the workload author's loop: build, run, rebuild, run again", () => {
  test("a run that is over runs again on the next start, the new builds included; no --fresh needed", async () => {
    const dir = folder({ "1.efi": pattern(5000, 1) });
    const config = keptBetweenRuns(dir);

    const first = await startTestDispatch(undefined, config);
    expect((await http(first.url, { from: "127.0.0.2" })).status).toBe(200);
    expect((await http(first.url, { method: "POST", from: "127.0.0.2" })).status).toBe(200);
    const put = await http(first.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: "build 1" }), headers: { "content-type": "application/json" } });
    expect(put.status).toBe(200);
    await until(async () => (await jobOf(first, "1.efi")).state === "finished", "the first build's report filed");
    await first.stop();

    // A new build of the same file, and one more workload.
    writeFileSync(join(dir, "1.efi"), pattern(5200, 3));
    writeFileSync(join(dir, "2.efi"), pattern(4000, 4));
    const second = await startTestDispatch(undefined, config);
    cleanup.push(() => second.stop());
    expect(second.lines.some((l) => l.includes("is over (1 finished, 0 failed): starting a new run"))).toBe(true);
    expect((await jobOf(second, "1.efi")).state).toBe("unassigned");
    expect((await jobOf(second, "2.efi")).state).toBe("unassigned");
    const head = await http(second.url, { method: "HEAD", from: "127.0.0.2" });
    expect(head.headers["content-length"]).toBe("5200");
  });
});

describe("a folder's reports filed as GitHub issues", () => {
  test("the issue's footer names the folder, not a release", async () => {
    const gh = await startFakeGitHub({ releases: [] });
    cleanup.push(() => gh.stop());
    const dir = folder({ "1.efi": pattern(5000, 1) });
    const d = await startTestDispatch(gh, { dir });
    cleanup.push(() => d.stop());
    expect(d.lines).toContain(`reports go to issues of ${gh.owner}/${gh.repo}`);
    expect(d.lines.some((l) => l.includes("no GitHub token needed"))).toBe(false);
    expect((await http(d.url, { from: "127.0.0.2" })).status).toBe(200);
    expect((await http(d.url, { method: "POST", from: "127.0.0.2" })).status).toBe(200);
    const put = await http(d.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: "local build ok" }), headers: { "content-type": "application/json" } });
    expect(put.status).toBe(200);
    await until(() => gh.issues.length === 1, "the issue");
    expect(gh.issues[0]!.title).toBe("local build ok");
    expect(gh.issues[0]!.body).toContain(`Filed by dispatch for \`1.efi\` from folder \`${dir}\`.`);
    // The release was never asked for: the folder is the source.
    expect(gh.requests.filter((r) => r.path.includes("/releases"))).toEqual([]);
  });
});
