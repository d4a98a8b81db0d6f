import { afterEach, expect, test } from "bun:test";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { type TestDispatch, startTestDispatch, until } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { efi, pattern } from "../support/workloads.ts";

let gh: FakeGitHub | undefined;
let d: TestDispatch | undefined;
afterEach(async () => {
  await d?.stop();
  await gh?.stop();
  d = gh = undefined;
});

async function setup(milestones?: { title: string; state?: "open" | "closed" }[]) {
  gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a.efi", 2_000_000), efi("b.efi", 1000)] }], milestones });
  d = await startTestDispatch(gh);
  return { gh, d };
}
const status = async (d: TestDispatch) =>
  ((await (await fetch(`http://127.0.0.1:${d.port}/api/status`)).json()) as { jobs: { name: string; state: string; ip: string | null }[] }).jobs;

test("a stream cut upstream breaks the server's download instead of ending it short, and the job waits for a retry", async () => {
  const { gh, d } = await setup();
  gh.faults.cutStorageAfterBytes = 500_000;
  gh.faults.cutStorageTimes = 1;
  const cut = await http(d.url, { from: "127.0.0.2" });
  expect(cut.status).toBe(200);
  expect(cut.headers["content-length"]).toBe("2000000");
  expect(cut.error).toBeDefined();
  expect(cut.body.byteLength).toBeLessThan(2_000_000);
  await until(() => d.warnings.some((w) => w.includes("a.efi") && w.includes("127.0.0.2")), "a warning about the cut");

  // The server retries (firmware boots again): same job, and this time the whole workload.
  const retry = await http(d.url, { from: "127.0.0.2" });
  expect(retry.error).toBeUndefined();
  expect(retry.body).toEqual(pattern(2_000_000, 2_000_000));
  expect((await status(d))[0]).toMatchObject({ name: "a.efi", state: "downloading", ip: "127.0.0.2" });
});

test("GitHub answering 404 for the asset gives the server a 502 with the reason, and a log line", async () => {
  const { gh, d } = await setup();
  gh.faults.failNext.push({ route: "asset", status: 404, times: 1 });
  const reply = await http(d.url, { from: "127.0.0.2" });
  expect(reply.status).toBe(502);
  expect(new TextDecoder().decode(reply.body)).toContain("GitHub answered 404");
  expect(d.warnings.some((w) => w.includes("404"))).toBe(true);
});

test("a redirect to a host that is not GitHub's is refused, and the token goes nowhere", async () => {
  const { gh, d } = await setup();
  const evil = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("evil") });
  try {
    gh.faults.redirectTo = `http://localhost:${evil.port}/x`; // another hostname than the API's
    const reply = await http(d.url, { from: "127.0.0.2" });
    expect(reply.status).toBe(502);
    expect(new TextDecoder().decode(reply.body)).toContain("not a GitHub host");
  } finally {
    evil.stop(true);
  }
});

test("a milestone title becomes its number (closed ones too); an unknown title is dropped but the issue is filed", async () => {
  const many = Array.from({ length: 120 }, (_, i) => ({ title: `sprint ${i}` }));
  const { gh, d } = await setup([...many, { title: "Q4 lab run", state: "closed" }]);
  const cycle = async (from: string, milestone: string) => {
    await http(d.url, { from });
    expect((await http(d.url, { method: "POST", from })).status).toBe(200);
    const put = await http(d.url, { method: "PUT", from, body: JSON.stringify({ title: `from ${from}`, milestone }) });
    expect(put.status).toBe(200);
  };
  await cycle("127.0.0.2", "Q4 lab run");
  await cycle("127.0.0.3", "no such milestone");
  await until(() => gh.issues.length === 2, "two issues", 15_000);
  const byTitle = Object.fromEntries(gh.issues.map((i) => [i.title, i]));
  expect(byTitle["from 127.0.0.2"]!.milestone).toBe(121);
  expect(byTitle["from 127.0.0.3"]!.milestone).toBeNull();
  // The milestone list took more than one page, followed through GitHub's Link header.
  expect(gh.requests.filter((r) => r.path.includes("milestones")).length).toBeGreaterThan(2);
  await until(async () => (await status(d)).every((j) => j.state === "finished"), "both finished");
});

test("while GitHub refuses the issue, the job stays reported with the error; it is filed once GitHub recovers", async () => {
  const { gh, d } = await setup();
  gh.faults.failNext.push({ route: "issue", status: 500, times: 2 });
  await http(d.url, { from: "127.0.0.2" });
  await http(d.url, { method: "POST", from: "127.0.0.2" });
  expect((await http(d.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: "t" }) })).status).toBe(200);
  await until(() => d.lines.some((l) => l.includes("filing the issue failed")), "a filing failure", 15_000);
  const job = ((await (await fetch(`http://127.0.0.1:${d.port}/api/status`)).json()) as { jobs: { state: string; error: string }[] }).jobs[0]!;
  expect(job.state).toBe("reported");
  expect(job.error).toContain("500");
  await until(() => gh.issues.length === 1, "the issue, after retries", 20_000);
  await Bun.sleep(300);
  expect(gh.issues.length).toBe(1);
}, 40_000);
