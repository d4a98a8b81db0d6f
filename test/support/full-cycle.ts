import { afterAll, beforeAll, expect, test } from "bun:test";
import { poweroffEfi } from "../../src/efi/poweroff.ts";
import type { StatusView } from "../../src/status/view.ts";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { type DispatchProcess, type Launch, fakeGitHubFlags, startDispatchProcess } from "./dispatch-process.ts";
import { until } from "./dispatch.ts";
import { http, text } from "./http-client.ts";
import { efi, img, iso } from "./workloads.ts";

// Each step starts processes or waits on them: room for a busy 2-core machine.
const timeoutMs = 30_000;

/**
 * The whole run, end to end, against one way of starting dispatch (the compiled binary, Deno,
 * `bun src/main.ts`): a server boots a workload (HEAD, GET), the workload calls `beacon boot` and
 * `beacon report`, and the issue appears on the fake GitHub and in the status API. Also what differs between runtimes:
 * Content-Length on a streamed body, the client's address, a cut upstream, and SIGTERM.
 * Call inside a `describe`; `launch` runs in beforeAll and may return undefined to skip.
 */
export function fullCycleTests(launch: () => Promise<Launch | undefined>): void {
  // Bigger than one chunk of every layer (64 KiB storage chunks, socket buffers), so it streams.
  const assets = [efi("a-memtest.efi", 700_000), iso("b-disk.iso", 300_000), img("c-slow.img", 300_000)];
  let gh: FakeGitHub;
  let d: DispatchProcess | undefined;
  let skip = "";

  beforeAll(async () => {
    gh = await startFakeGitHub({ releases: [{ tag: "v1", assets }], milestones: [{ title: "lab" }] });
    const how = await launch();
    if (!how) {
      skip = "no way to start dispatch here";
      return;
    }
    d = await startDispatchProcess({ ...how, env: { ...how.env, GITHUB_TOKEN: gh.token } }, fakeGitHubFlags(gh));
  }, timeoutMs);
  afterAll(async () => {
    await d?.stop();
    await gh?.stop();
  }, timeoutMs);

  test("a server boots its workload: HEAD, then a Range GET keeps its length and offset", async () => {
    if (skip) return console.warn(`skipped: ${skip}`);
    const head = await http(d!.url, { method: "HEAD", from: "127.0.0.2" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("700000");
    expect(head.headers["content-type"]).toBe("application/efi");

    const part = await http(d!.url, { from: "127.0.0.2", headers: { range: "bytes=100000-299999" } });
    expect(part.status).toBe(206);
    expect(part.headers["content-length"]).toBe("200000");
    expect(part.headers["content-range"]).toBe("bytes 100000-299999/700000");
    expect(part.body).toEqual(assets[0]!.data.subarray(100_000, 300_000));
  }, timeoutMs);

  test("then GET streams the exact bytes with their length", async () => {
    if (skip) return;
    const get = await http(d!.url, { from: "127.0.0.2" });
    expect(get.error).toBeUndefined();
    expect(get.status).toBe(200);
    expect(get.headers["content-length"]).toBe("700000");
    expect(get.headers["transfer-encoding"]).toBeUndefined();
    expect(get.body).toEqual(assets[0]!.data);
    expect(gh.storageSawAuthorization).toBe(false);
  }, timeoutMs);

  test("beacon boot and report from the server's address file an issue", async () => {
    if (skip) return;
    expect((await http(d!.url, { method: "POST", from: "127.0.0.9" })).status).toBe(417); // another address: not mine
    const boot = await http(d!.url, { method: "POST", from: "127.0.0.2" });
    expect(boot.status).toBe(200);
    expect(text(boot)).toContain("a-memtest.efi");

    const report = { title: "memtest passed", body: "0 errors", labels: ["memtest"], milestone: "lab" };
    const put = await http(d!.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify(report), headers: { "content-type": "application/json" } });
    expect(put.status).toBe(200);
    await until(() => gh.issues.length > 0, "the issue on the fake GitHub", 15_000);
    const issue = gh.issues[0]!;
    expect(issue.title).toBe("memtest passed");
    expect(issue.labels).toEqual(["memtest"]);
    expect(issue.milestone).toBe(1);
    expect(issue.body).toContain("0 errors");
    expect(issue.body).toContain("a-memtest.efi");
    expect(issue.body).toContain("127.0.0.2");
    await until(() => d!.lines.some((l) => l.includes("🏁")), "the finished line in the log");
    const status = await http(d!.url.replace("/dispatch", "/api/status"));
    const job = (JSON.parse(text(status)) as StatusView).jobs.find((j) => j.name === "a-memtest.efi");
    expect(job).toMatchObject({ state: "finished", ip: "127.0.0.2", issue: { number: issue.number } });
  }, timeoutMs);

  test("a cut upstream breaks the download: the server sees an error, not a short body", async () => {
    if (skip) return;
    gh.faults.cutStorageAfterBytes = 100_000;
    gh.faults.cutStorageTimes = 1;
    // Where the cut lands depends on the machine's pace: after dispatch's headers went out (a
    // broken body), or before (the connection breaks with no answer). Both are errors to the
    // server; neither is a complete body.
    const cut = await http(d!.url, { from: "127.0.0.3" }).catch((e: Error) => ({ status: 0, headers: {} as Record<string, string>, body: new Uint8Array(), error: e.message }));
    if (cut.status !== 0) expect(cut.headers["content-length"]).toBe("300000");
    expect(cut.error).toBeDefined();
    expect(cut.body.byteLength).toBeLessThan(300_000);
    // GitHub failed that download, so the job went back to the queue: the next server gets it.
    await until(() => d!.lines.some((l) => l.includes("b-disk.iso freed from 127.0.0.3")), "the job freed");
    expect((await http(d!.url, { method: "HEAD", from: "127.0.0.5" })).headers["content-type"]).toBe("application/vnd.efi-iso");
  }, timeoutMs);

  test("with nothing left, a server gets poweroff.efi", async () => {
    if (skip) return;
    expect((await http(d!.url, { method: "HEAD", from: "127.0.0.6" })).headers["content-type"]).toBe("application/vnd.efi-img");
    const get = await http(d!.url, { from: "127.0.0.4" });
    expect(get.headers["content-type"]).toBe("application/efi");
    expect(get.body).toEqual(poweroffEfi);
  }, timeoutMs);

  test("SIGTERM mid-download stops it at once and cleanly; the token never showed in its output", async () => {
    if (skip) return;
    gh.faults.storageBytesPerSecond = 10_000; // 30 s for the whole asset: stop must not wait for it
    let answered = false;
    const download = http(d!.url, { from: "127.0.0.6", timeoutMs: 60_000, onResponse: () => (answered = true) });
    // Mid-download is once the answer has begun: the "📥" line comes earlier, while dispatch
    // still waits for GitHub, and a stop then cuts the connection before any answer.
    await until(() => answered, "the slow download's answer to begin");
    // stop() sends SIGTERM and falls back to SIGKILL after 5 s: a clean exit is 0.
    const code = await d!.stop();
    expect(code).toBe(0);
    expect((await download).error).toBeDefined();
    expect(d!.lines.some((l) => l.includes("stopping"))).toBe(true);
    expect(d!.lines.join("\n")).not.toContain(gh.token);
  }, timeoutMs);

  test("SIGTERM the moment it says it is listening still stops it cleanly", async () => {
    if (skip) return;
    const how = (await launch())!;
    const quick = await startDispatchProcess({ ...how, env: { ...how.env, GITHUB_TOKEN: gh.token } }, fakeGitHubFlags(gh));
    const code = await quick.stop();
    expect(quick.lines.some((l) => l.includes("stopping"))).toBe(true);
    expect(code).toBe(0);
  }, timeoutMs);
}
