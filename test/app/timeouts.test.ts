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

test("a booted job without a report fails after --run-timeout, with the reason", async () => {
  const { d } = await lab.start({ releases: [{ tag: "v1", assets: [efi("a.efi", 1000)] }] }, { timeouts: { downloadMs: 300_000, runMs: 800 } });
  await bootOnce(d.url, "127.0.0.2");
  await until(() => d.lines.some((l) => l.includes("❌ a.efi failed on 127.0.0.2: booted but no report within")), "the failure", 5000);
  expect(await jobOf(d, "a.efi")).toMatchObject({ state: "failed", reason: expect.stringContaining("booted but no report") });
  // Its late report is not taken.
  expect((await http(d.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: "late" }) })).status).toBe(417);
});
