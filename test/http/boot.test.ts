import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { poweroffEfi } from "../../src/efi/poweroff.ts";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { status } from "../support/cycle.ts";
import { type TestDispatch, startTestDispatch, until } from "../support/dispatch.ts";
import { http, text } from "../support/http-client.ts";
import { efi, img, iso, other } from "../support/workloads.ts";

// One release, three queued workloads (names out of order on purpose) and one ignored asset.
const assets = [iso("b-disk.iso", 300_000), efi("a-test.efi", 70_000), img("c-ramdisk.img", 5_000), other("notes.txt", 100)];
const bytesOf = (name: string) => assets.find((a) => a.name === name)!.data;

let gh: FakeGitHub;
let d: TestDispatch;
beforeAll(async () => {
  gh = await startFakeGitHub({ releases: [{ tag: "v1", assets }] });
  d = await startTestDispatch(gh);
});
afterAll(async () => {
  await d?.stop();
  await gh?.stop();
});

const apiRequests = () => gh.requests.filter((r) => r.host === "api").length;

describe("boot path", () => {
  test("HEAD assigns the first job by name and answers from metadata, without asking GitHub", async () => {
    const before = gh.requests.length;
    const reply = await http(d.url, { method: "HEAD", from: "127.0.0.2" });
    expect(reply.status).toBe(200);
    expect(reply.headers["content-length"]).toBe("70000");
    expect(reply.headers["content-type"]).toBe("application/efi");
    expect(reply.headers["accept-ranges"]).toBe("bytes");
    expect(gh.requests.length).toBe(before);
  });

  test("GET streams the asset through the storage redirect, token only to the API", async () => {
    const reply = await http(d.url, { from: "127.0.0.2" });
    expect(reply.status).toBe(200);
    expect(reply.headers["content-length"]).toBe("70000");
    expect(reply.headers["content-type"]).toBe("application/efi");
    expect(reply.body).toEqual(bytesOf("a-test.efi"));
    const assetCall = gh.requests.findLast((r) => r.host === "api" && r.path.includes("/releases/assets/"))!;
    expect(assetCall.headers.accept).toBe("application/octet-stream");
    expect(assetCall.headers.authorization).toBe(`Bearer ${gh.token}`);
    expect(gh.requests.some((r) => r.host === "storage")).toBe(true);
    expect(gh.storageSawAuthorization).toBe(false);
  });

  test("a second server gets the next job, with its translated type; Range is honoured", async () => {
    const head = await http(d.url, { method: "HEAD", from: "127.0.0.3" });
    expect(head.headers["content-type"]).toBe("application/vnd.efi-iso");
    const part = await http(d.url, { from: "127.0.0.3", headers: { range: "bytes=1000-1999" } });
    expect(part.status).toBe(206);
    expect(part.headers["content-range"]).toBe("bytes 1000-1999/300000");
    expect(part.headers["content-length"]).toBe("1000");
    expect(part.body).toEqual(bytesOf("b-disk.iso").subarray(1000, 2000));
    const storageRange = gh.requests.findLast((r) => r.host === "storage")!;
    expect(storageRange.headers.range).toBe("bytes=1000-1999");

    const suffix = await http(d.url, { from: "127.0.0.3", headers: { range: "bytes=-500" } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers["content-range"]).toBe("bytes 299500-299999/300000");
    expect(suffix.body).toEqual(bytesOf("b-disk.iso").subarray(299_500));

    const bad = await http(d.url, { from: "127.0.0.3", headers: { range: "bytes=400000-" } });
    expect(bad.status).toBe(416);
    expect(bad.headers["content-range"]).toBe("bytes */300000");
    const malformed = await http(d.url, { from: "127.0.0.3", headers: { range: "pages=1-2" } });
    expect(malformed.status).toBe(416);
  });

  test("asking again mid-download is a retry: same job", async () => {
    const again = await http(d.url, { method: "HEAD", from: "127.0.0.3" });
    expect(again.headers["content-type"]).toBe("application/vnd.efi-iso");
    const status = (await (await fetch(`http://127.0.0.1:${d.port}/api/status`)).json()) as { jobs: { name: string; state: string; ip: string }[] };
    expect(status.jobs.find((j) => j.name === "b-disk.iso")).toMatchObject({ state: "downloading", ip: "127.0.0.3" });
    expect(status.jobs.find((j) => j.name === "c-ramdisk.img")).toMatchObject({ state: "unassigned" });
  });

  test("the last job goes to a third server; a fourth gets poweroff.efi on HEAD and GET", async () => {
    expect((await http(d.url, { method: "HEAD", from: "127.0.0.4" })).headers["content-type"]).toBe("application/vnd.efi-img");
    const head = await http(d.url, { method: "HEAD", from: "127.0.0.5" });
    expect(head.headers["content-type"]).toBe("application/efi");
    expect(head.headers["content-length"]).toBe(String(poweroffEfi.byteLength));
    const get = await http(d.url, { from: "127.0.0.5" });
    expect(get.body).toEqual(poweroffEfi);
    expect(d.lines.some((l) => l.includes("127.0.0.5 gets poweroff.efi"))).toBe(true);
  });
});

// What beacon's requests are answered (417, 400, 413) is tested without a socket in
// app-requests.test.ts; here the run goes on over real HTTP to a filed issue.
describe("beacon", () => {
  test("beacon boot after the download is 200 and names the workload", async () => {
    const ok = await http(d.url, { method: "POST", from: "127.0.0.2" });
    expect(ok.status).toBe(200);
    expect(text(ok)).toContain("a-test.efi");
  });

  test("only what cannot be a report gets 400, with a message, and nothing changes", async () => {
    const put = (body: string, from = "127.0.0.2") => http(d.url, { method: "PUT", from, body, headers: { "content-type": "application/json" } });
    const notJson = await put("{title:");
    expect(notJson.status).toBe(400);
    expect(text(notJson)).toContain("not valid JSON");
    for (const body of [JSON.stringify({ body: "x" }), JSON.stringify({ title: 5 }), "[]", '"title"', "", '{"title":"t"} {}']) {
      const reply = await put(body);
      expect(reply.status).toBe(400);
      expect(text(reply)).toContain("title");
    }
    expect(gh.issues.length).toBe(0);
    expect((await status(d.port)).find((j) => j.ip === "127.0.0.2")?.state).toBe("booting");
  });

  test("a report from a server that was never handed a workload is not mine (417)", async () => {
    const reply = await http(d.url, { method: "PUT", from: "127.0.0.9", body: JSON.stringify({ title: "t" }) });
    expect(reply.status).toBe(417);
  });

  test("a valid report files an issue with its fields, the milestone's number and a footer", async () => {
    const report = { title: "memtest passed", body: "all 4 DIMMs ok", labels: ["lab", "pass"], assignees: ["octocat"], milestone: null };
    const reply = await http(d.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify(report) });
    expect(reply.status).toBe(200);
    const before = apiRequests();
    await until(() => gh.issues.length === 1, "the issue");
    const issue = gh.issues[0]!;
    expect(issue.title).toBe("memtest passed");
    expect(issue.labels).toEqual(["lab", "pass"]);
    expect(issue.assignees).toEqual(["octocat"]);
    expect(issue.milestone).toBeNull();
    expect(issue.body).toStartWith("all 4 DIMMs ok\n");
    expect(issue.body).toContain("a-test.efi");
    expect(issue.body).toContain("release `v1`");
    expect(issue.body).toContain("Server 127.0.0.2");
    expect(apiRequests()).toBeGreaterThan(before);
    await until(() => d.lines.some((l) => l.includes("🏁 a-test.efi finished")), "the finished line");
  });

  test("after reporting, the same server's next boot gets poweroff.efi (queue is empty)", async () => {
    const head = await http(d.url, { method: "HEAD", from: "127.0.0.2" });
    expect(head.headers["content-length"]).toBe(String(poweroffEfi.byteLength));
  });
});

describe("other paths and methods", () => {
  test("status JSON lists every job with state, ip and size", async () => {
    const status = (await (await fetch(`http://127.0.0.1:${d.port}/api/status`)).json()) as { jobs: Record<string, unknown>[] };
    expect(status.jobs.map((j) => [j.name, j.state, j.ip, j.size])).toEqual([
      ["a-test.efi", "finished", "127.0.0.2", 70_000],
      ["b-disk.iso", "downloading", "127.0.0.3", 300_000],
      ["c-ramdisk.img", "assigned", "127.0.0.4", 5_000],
    ]);
    expect(status.jobs[0]!.issue).toMatchObject({ number: 1 });
  });

  test("the token appears in no log line", () => {
    expect(d.lines.join("\n")).not.toContain(gh.token);
  });
});
