import { afterEach, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { reportTexts } from "../../src/app/report-texts.ts";
import { nodeFiles } from "../../src/runtime/bun/files.ts";
import type { Files } from "../../src/runtime/types.ts";
import { type TestDispatch, startTestDispatch } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { pattern } from "../support/workloads.ts";

// The report texts kept in the state folder's reports/: durable with their folder entry, and
// none left behind by a crash between the text and its journal line.

const cleanup: (() => Promise<unknown> | unknown)[] = [];
const temp = tempDirs();
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  temp.removeAll();
});

const tempDir = (prefix: string) => temp.make(prefix);

test("a kept text is flushed, then its folder entry, before the report can be answered; the new folder's entry too", async () => {
  const stateDir = tempDir("dispatch-state-");
  const calls: string[] = [];
  const files: Files = {
    ...nodeFiles,
    syncDir: async (dir) => {
      calls.push(`syncDir ${dir.slice(stateDir.length) || "/"}`);
      await nodeFiles.syncDir(dir);
    },
    openAppend: async (path) => {
      const file = await nodeFiles.openAppend(path);
      return { ...file, sync: async () => (calls.push("sync text"), file.sync()), close: async () => (calls.push("close text"), file.close()) };
    },
  };
  const open = reportTexts(files, stateDir);
  const spool = await open(Date.parse("2026-12-02T10:00:00.000Z"), "192.0.2.7");
  await spool.write(new TextEncoder().encode("a long log"));
  expect(await spool.finish()).toBe("reports/2026-12-02T10-00-00.000Z-192.0.2.7.txt");
  expect(calls).toEqual(["syncDir /", "sync text", "close text", "syncDir /reports"]);
});

test("on start, a kept text no journal line names (a crash before the report was recorded) is removed; recorded texts and older runs' stay", async () => {
  const dir = tempDir("dispatch-dir-");
  writeFileSync(join(dir, "a.efi"), pattern(4000, 1));
  writeFileSync(join(dir, "b.efi"), pattern(4000, 2));
  const stateDir = tempDir("dispatch-state-");
  const reportsDir = tempDir("dispatch-reports-");
  const start = async (): Promise<TestDispatch> => {
    const d = await startTestDispatch(undefined, { dir, reportsDir, stateDir, filters: [] });
    cleanup.push(() => d.stop());
    return d;
  };

  const first = await start();
  const from = "127.0.0.2";
  expect((await http(first.url, { from })).status).toBe(200);
  expect((await http(first.url, { method: "POST", from })).status).toBe(200);
  const body = "a line of the log\n".repeat(5000); // over 57,344 characters: kept in reports/
  const put = await http(first.url, { method: "PUT", from, body: JSON.stringify({ title: "a passed", body }), headers: { "content-type": "application/json" } });
  expect(put.status).toBe(200);
  await first.stop();
  const texts = join(stateDir, "reports");
  const [recorded] = readdirSync(texts);
  expect(recorded).toMatch(/^\d{4}-.*-127\.0\.0\.2\.txt$/);

  // What a crash leaves: a text written whole whose "reported" line never reached the journal.
  const orphan = `${new Date().toISOString().replaceAll(":", "-")}-127.0.0.3.txt`;
  writeFileSync(join(texts, orphan), "half of a report");
  // A text of an earlier run (its journal kept aside), and a file dispatch did not name.
  const older = "2020-01-01T00-00-00.000Z-127.0.0.9.txt";
  writeFileSync(join(texts, older), "an old run's report");
  writeFileSync(join(texts, "notes.txt"), "someone's notes");

  const second = await start();
  expect(second.lines.some((l) => l.includes("resumed"))).toBe(true);
  expect(second.lines).toContain(
    `removed 1 report text that no journal line names (a crash came before the report was answered; beacon sends it again): reports/${orphan}`,
  );
  expect(existsSync(join(texts, orphan))).toBe(false);
  expect(readdirSync(texts).sort()).toEqual([older, recorded!, "notes.txt"].sort());
});
