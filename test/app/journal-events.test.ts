import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bootOnce } from "../support/cycle.ts";
import { dispatchPerTest, until } from "../support/dispatch.ts";
import { efi } from "../support/workloads.ts";

const lab = dispatchPerTest();

test("the journal keeps every state change of a slow download but none of its progress ticks", async () => {
  const { gh, d } = await lab.start({ releases: [{ tag: "v1", assets: [efi("a.efi", 400_000)] }] });
  gh.faults.storageBytesPerSecond = 400_000; // about a second: several progress events on the way
  await bootOnce(d.url, "127.0.0.2");
  const progressed = () => d.lines.some((l) => l.includes("⚡ a.efi booting"));
  await until(progressed, "the boot");
  const types = readFileSync(join(d.stateDir, "journal.jsonl"), "utf8")
    .trim()
    .split("\n")
    .slice(1) // the header
    .map((line) => (JSON.parse(line) as { type: string }).type);
  expect(types).toEqual(["boot-requested", "boot-requested", "download-ended", "booted"]);
}, 20_000);
