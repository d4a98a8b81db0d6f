import { expect, setDefaultTimeout, test } from "bun:test";
import { bootOnce, status } from "../support/cycle.ts";
import { type TestDispatch, dispatchPerTest, until } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";

// The clock as dispatch runs it (a tick a second), with short timeouts.
setDefaultTimeout(20_000);

const lab = dispatchPerTest();

const jobOf = async (d: TestDispatch, name: string) => (await status(d.port)).find((j) => j.name === name)!;

test("a server that goes quiet after HEAD loses its job to the next server after --download-timeout", async () => {
  const { d } = await lab.start({ releases: [{ tag: "v1", assets: [efi("a.efi", 1000)] }] }, { timeouts: { downloadMs: 500, runMs: 3_600_000 } });
  await http(d.url, { method: "HEAD", from: "127.0.0.2" });
  await until(() => d.lines.some((l) => l.includes("a.efi freed from 127.0.0.2 after 500ms without activity")), "the job to be freed", 5000);
  expect(await jobOf(d, "a.efi")).toMatchObject({ state: "unassigned" });
  await bootOnce(d.url, "127.0.0.3");
  expect(await jobOf(d, "a.efi")).toMatchObject({ state: "booting", ip: "127.0.0.3" });
});

test("a booted job without a report fails after --run-timeout, with the reason; its late report is still filed", async () => {
  const { d, gh } = await lab.start({ releases: [{ tag: "v1", assets: [efi("a.efi", 1000)] }] }, { timeouts: { downloadMs: 300_000, runMs: 800 } });
  await bootOnce(d.url, "127.0.0.2");
  await until(() => d.lines.some((l) => l.includes("❌ a.efi failed on 127.0.0.2: booted but no report within")), "the failure", 5000);
  expect(await jobOf(d, "a.efi")).toMatchObject({ state: "failed", reason: expect.stringContaining("booted but no report") });
  // The burn-in ran longer than guessed: its report is a report.
  const late = await http(d.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: "late", body: "passed after all" }) });
  expect(late.status).toBe(200);
  await until(async () => (await jobOf(d, "a.efi")).state === "finished", "the late report's issue");
  expect(gh.issues).toHaveLength(1);
  expect(gh.issues[0]!.body).toContain("This report came after the run timeout");
  expect(gh.issues[0]!.body).toContain("booted but no report within 800ms");
  await d.settled; // and the run adds up: one job, finished
});

test("with --file-failures, the failure issue is filed first and the late report's issue names it", async () => {
  const { d, gh } = await lab.start({ releases: [{ tag: "v1", assets: [efi("a.efi", 1000)] }] }, { timeouts: { downloadMs: 300_000, runMs: 800 }, fileFailures: true });
  await bootOnce(d.url, "127.0.0.2");
  await until(() => gh.issues.length === 1, "the failure issue", 10_000);
  expect(gh.issues[0]!.title).toContain("a.efi failed");
  await until(async () => (await jobOf(d, "a.efi")).issue?.number === 1, "the failure issue recorded");
  expect((await http(d.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: "late" }) })).status).toBe(200);
  await until(async () => (await jobOf(d, "a.efi")).state === "finished", "the late report's issue", 15_000);
  expect(gh.issues).toHaveLength(2);
  expect(gh.issues[1]!.body).toContain("(filed as #1)");
  // Another server's report is still not this job's.
  expect((await http(d.url, { method: "PUT", from: "127.0.0.3", body: JSON.stringify({ title: "x" }) })).status).toBe(417);
});

test("a late report that comes while the failure's issue waits out GitHub's error is filed at once, and the failure is not", async () => {
  const { d, gh } = await lab.start(
    { releases: [{ tag: "v1", assets: [efi("a.efi", 1000)] }] },
    { timeouts: { downloadMs: 300_000, runMs: 800 }, fileFailures: true, retryDelayMs: () => 600_000 },
  );
  gh.faults.failNext.push({ route: "issue", status: 422, times: 1 });
  await bootOnce(d.url, "127.0.0.2");
  await until(() => d.lines.some((l) => l.includes("a.efi: filing the issue failed")), "the failure's filing to fail", 10_000);
  expect((await http(d.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: "late but fine" }) })).status).toBe(200);
  // Within this window, not after the ten-minute backoff the failure's issue was given.
  await until(async () => (await jobOf(d, "a.efi")).state === "finished", "the report's issue", 10_000);
  expect(gh.issues.map((i) => i.title)).toEqual(["late but fine"]);
});
