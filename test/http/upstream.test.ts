import { expect, test, setDefaultTimeout } from "bun:test";
import { bootOnce, status } from "../support/cycle.ts";
import { type TestDispatch, dispatchPerTest, until } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";

// Real servers and retries with waits of a second or more: more room than the 5 s default on a busy machine.
setDefaultTimeout(20_000);

// GitHub failing a download: the server sees it fail, the job goes back to the queue, the log says why.

const lab = dispatchPerTest();

async function setup() {
  return lab.start({ releases: [{ tag: "v1", assets: [efi("a.efi", 300_000), efi("b.efi", 1000)] }] });
}

const jobOf = async (d: TestDispatch, name: string) => (await status(d.port)).find((j) => j.name === name)!;

test("the stream cut mid-way: the server's download breaks, the job is free, and a retry completes", async () => {
  const { gh, d } = await setup();
  gh.faults.cutStorageAfterBytes = 100_000;
  gh.faults.cutStorageTimes = 1;
  const cut = await http(d.url, { from: "127.0.0.2" });
  expect(cut.headers["content-length"]).toBe("300000");
  expect(cut.error).toBeDefined();
  expect(cut.body.byteLength).toBeLessThan(300_000);
  await until(() => d.lines.some((l) => l.includes("a.efi freed from 127.0.0.2 because its source could not deliver it")), "the log line");
  expect(await jobOf(d, "a.efi")).toMatchObject({ state: "unassigned" });
  // The next server to ask gets it, whole.
  const { size } = await bootOnce(d.url, "127.0.0.3");
  expect(size).toBe(300_000);
  expect(await jobOf(d, "a.efi")).toMatchObject({ state: "booting", ip: "127.0.0.3" });
});

test("the storage failing before its first byte: the server still gets the status and headers, then a broken body; the job is free", async () => {
  const { gh, d } = await setup();
  gh.faults.cutStorageAfterBytes = 0;
  gh.faults.cutStorageTimes = 1;
  let headersAt: number | undefined;
  const cut = await http(d.url, { from: "127.0.0.2", onResponse: () => (headersAt = Date.now()) });
  // The answer is not dropped: the firmware sees what it is getting, and that the body broke.
  expect(headersAt).toBeDefined();
  expect(cut.status).toBe(200);
  expect(cut.headers["content-length"]).toBe("300000");
  expect(cut.headers["content-type"]).toBe("application/efi");
  expect(cut.error).toBeDefined();
  expect(cut.body.byteLength).toBe(0);
  await until(() => d.lines.some((l) => l.includes("download of a.efi for 127.0.0.2 ended after 0 of 300000 bytes")), "the log line");
  await until(async () => (await jobOf(d, "a.efi")).state === "unassigned", "a.efi back in the queue");
});

for (const [what, status, route] of [
  ["the asset deleted (404 from the API)", 404, "asset"],
  ["an expired storage link (403)", 403, "storage"],
] as const) {
  test(`${what}: the server gets 502, the job returns to the queue`, async () => {
    const { gh, d } = await setup();
    gh.faults.failNext.push({ route, status, times: 1 });
    const reply = await http(d.url, { from: "127.0.0.2" });
    expect(reply.status).toBe(502);
    expect(d.warnings.some((l) => l.includes(`download of a.efi for 127.0.0.2 failed: GitHub answered ${status}`))).toBe(true);
    expect(await jobOf(d, "a.efi")).toMatchObject({ state: "unassigned" });
    // Retry: the same server asks again and now gets it.
    const { size } = await bootOnce(d.url, "127.0.0.2");
    expect(size).toBe(300_000);
  });
}
