import { beforeEach, describe, expect, test } from "bun:test";
import { appOver } from "../support/app.ts";
import { holds, until } from "../support/until.ts";
import { efi, img, iso } from "../support/workloads.ts";

// The boot path's answers that depend on the request alone, through `app.request()`: no socket,
// no GitHub. (test/http/boot.test.ts runs the same path over real HTTP against the fake GitHub.)

const assets = [iso("b-disk.iso", 3_000), efi("a-test.efi", 7_000), img("c-ramdisk.img", 500)];
let lab: ReturnType<typeof appOver>;
beforeEach(() => {
  lab = appOver(assets);
});

/** HEAD then GET of the whole workload, as the firmware does. */
async function download(from: string) {
  expect((await lab.request(from, { method: "HEAD" })).status).toBe(200);
  const get = await lab.request(from);
  expect(get.status).toBe(200);
  await get.arrayBuffer();
}

const put = (body: string, from = "127.0.0.2") => lab.request(from, { method: "PUT", body, headers: { "content-type": "application/json" } });

describe("beacon", () => {
  test("boot before any download is not mine (417); after the download it is 200", async () => {
    await download("127.0.0.2"); // a-test.efi
    expect((await lab.request("127.0.0.4", { method: "HEAD" })).status).toBe(200); // b-disk.iso, only assigned
    expect((await lab.request("127.0.0.9", { method: "POST" })).status).toBe(417);
    expect((await lab.request("127.0.0.4", { method: "POST" })).status).toBe(417); // only assigned
    const ok = await lab.request("127.0.0.2", { method: "POST" });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("a-test.efi");
  });

  test("only what cannot be a report gets 400, with a message; one over the size limit 413; nothing changes", async () => {
    lab = appOver(assets, { maxReportBytes: 1024 * 1024 });
    await download("127.0.0.2");
    expect((await lab.request("127.0.0.2", { method: "POST" })).status).toBe(200);
    const before = lab.jobOf("a-test.efi");
    const notJson = await put("{title:");
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toContain("not valid JSON");
    for (const body of [JSON.stringify({ body: "x" }), JSON.stringify({ title: 5 })]) {
      const reply = await put(body);
      expect(reply.status).toBe(400);
      expect(await reply.text()).toContain("title");
    }
    const huge = await put(JSON.stringify({ title: "t", body: "x".repeat(2 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    // Nothing changed: the job is still booting, with no report to file.
    expect(lab.jobOf("a-test.efi")).toBe(before);
    expect(before.phase.state).toBe("booting");
  });

  test("a report from a server that was never handed a workload is not mine (417), and the answer says why", async () => {
    const reply = await put(JSON.stringify({ title: "t" }), "127.0.0.9");
    expect(reply.status).toBe(417);
    expect(await reply.text()).toBe("not this dispatch's job: 127.0.0.9 was never handed a workload by this dispatch\n");
  });

  test("a report from a server that downloaded its workload but never sent `beacon boot` is taken", async () => {
    await download("127.0.0.3");
    const reply = await put(JSON.stringify({ title: "t" }), "127.0.0.3");
    expect(reply.status).toBe(200);
  });

  test("a good report is answered only once the journal says it is on the disk", async () => {
    // A journal whose flush the test lets through by hand.
    const flushes: (() => void)[] = [];
    let gated = false;
    lab = appOver(assets, { durable: () => (gated ? new Promise<void>((resolve) => flushes.push(resolve)) : Promise.resolve()) });
    await download("127.0.0.2");
    expect((await lab.request("127.0.0.2", { method: "POST" })).status).toBe(200);
    gated = true;
    let answered = false;
    const reply = put(JSON.stringify({ title: "passed" })).then((r) => ((answered = true), r));
    await until(() => flushes.length === 1, "the report to wait for the journal");
    expect(lab.jobOf("a-test.efi").phase.state).toBe("reported");
    // An answer that did not wait for the flush would come at once: 100 ms is the window.
    await holds(() => !answered, "no answer before the flush", 100);
    expect(answered).toBe(false);
    flushes[0]!();
    expect((await reply).status).toBe(200);
  });
});

describe("other paths and methods", () => {
  test("other methods get 405 with Allow; unknown paths 404", async () => {
    const del = await lab.request("127.0.0.2", { method: "DELETE" });
    expect(del.status).toBe(405);
    expect(del.headers.get("allow")).toBe("HEAD, GET, POST, PUT");
    expect((await lab.request("127.0.0.2", {}, "/nope")).status).toBe(404);
  });
});
