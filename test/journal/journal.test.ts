import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import type { DispatchEvent } from "../../src/core/events.ts";
import type { Workload } from "../../src/core/workload.ts";
import { JournalError, openJournal, type RunIdentity } from "../../src/journal/open.ts";
import { parseJournal } from "../../src/journal/parse.ts";
import { defaultStateDir } from "../../src/journal/state-dir.ts";
import { journalWriter } from "../../src/journal/writer.ts";
import { nodeFiles } from "../../src/runtime/bun/files.ts";
import type { AppendFile } from "../../src/runtime/types.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { until } from "../support/until.ts";

const temp = tempDirs();
const tempDir = () => temp.make("dispatch-journal-");
afterAll(() => temp.removeAll());

const workload = (name: string): Workload => ({ name, size: 1000, bootType: "application/efi", source: `https://api.example/${name}` });
const run: RunIdentity = {
  repository: "o/r",
  release: "v1",
  filters: ["a", "b"],
  workloads: [workload("a.efi"), workload("b.efi")],
  timeouts: { downloadMs: 300_000, runMs: 3_600_000 },
};
const quiet = { log: { info: () => {}, warn: () => {} } };
const open = (dir: string, overrides: Partial<Parameters<typeof openJournal>[0]> = {}) =>
  openJournal({ files: nodeFiles, dir, run, fresh: false, now: () => Date.UTC(2026, 0, 1), ...quiet, ...overrides });
const events: DispatchEvent[] = [
  { type: "boot-requested", at: 1, ip: "127.0.0.2", download: true },
  { type: "download-ended", at: 2, ip: "127.0.0.2", name: "a.efi", start: 0, sent: 1000 },
  { type: "booted", at: 3, ip: "127.0.0.2" },
  { type: "reported", at: 4, ip: "127.0.0.2", report: { title: "t", body: "b", labels: ["x"] } },
];

async function written(dir: string, list = events): Promise<string> {
  const opened = await open(dir);
  for (const e of list) opened.journal.append(e);
  await opened.journal.durable();
  await opened.journal.close();
  return opened.path;
}

describe("a new journal", () => {
  test("starts with a header naming the run, then one event per line; replay gives them back", async () => {
    const dir = tempDir();
    const path = await written(dir);
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[0]!)).toMatchObject({ journal: "dispatch", version: 1, repository: "o/r", release: "v1", filters: ["a", "b"] });
    const again = await open(dir);
    expect(again.resumed).toBe(true);
    expect(again.events).toEqual(events);
    await again.journal.close();
  });

  test("a filing GitHub refused for good is replayed as such", async () => {
    const dir = tempDir();
    const refusals: DispatchEvent[] = [
      ...events,
      { type: "filing-failed", at: 5, name: "a.efi", error: "502" },
      { type: "filing-failed", at: 6, name: "a.efi", error: "issues are turned off (410)", permanent: true },
    ];
    await written(dir, refusals);
    const again = await open(dir);
    expect(again.events).toEqual(refusals);
    await again.journal.close();
  });

  test("the state folder is created, with parents", async () => {
    const dir = join(tempDir(), "deep", "er");
    const opened = await open(dir);
    await opened.journal.close();
    expect(existsSync(join(dir, "journal.jsonl"))).toBe(true);
  });
});

describe("damage", () => {
  test("a last line cut mid-write is dropped with a message, and appending goes on cleanly", async () => {
    const dir = tempDir();
    const path = await written(dir);
    appendFileSync(path, '{"type":"issue-filed","at":5,"na');
    const warnings: string[] = [];
    const opened = await open(dir, { log: { info: () => {}, warn: (l) => void warnings.push(l) } });
    expect(opened.events).toEqual(events);
    expect(warnings.join("\n")).toContain("was cut while being written");
    opened.journal.append({ type: "tick", at: 9 });
    await opened.journal.close();
    const reread = await open(dir);
    expect(reread.events).toEqual([...events, { type: "tick", at: 9 }]);
    await reread.journal.close();
  });

  test("zeros left by a power cut count as the cut line", async () => {
    const dir = tempDir();
    const path = await written(dir);
    appendFileSync(path, Buffer.alloc(4096));
    const opened = await open(dir);
    expect(opened.events).toEqual(events);
    await opened.journal.close();
  });

  test("a whole last line that lost its newline is kept, and the next line starts clean", async () => {
    const dir = tempDir();
    const path = await written(dir, events.slice(0, 2));
    writeFileSync(path, readFileSync(path, "utf8") + JSON.stringify(events[2]));
    const opened = await open(dir);
    expect(opened.events).toEqual(events.slice(0, 3));
    opened.journal.append(events[3]!);
    await opened.journal.close();
    expect(parseJournal(readFileSync(path, "utf8"))).toMatchObject({ kind: "journal", events });
  });

  test("damage before the last line is refused with the line number and what to do", async () => {
    const dir = tempDir();
    const path = await written(dir);
    const lines = readFileSync(path, "utf8").split("\n");
    lines[2] = "garbage";
    writeFileSync(path, lines.join("\n"));
    const error = await open(dir).catch((e) => e);
    expect(error).toBeInstanceOf(JournalError);
    expect(error.message).toContain("damaged at line 3");
    expect(error.message).toContain("--fresh");
  });

  test("valid JSON that is not an event is damage, even on the last line", async () => {
    const dir = tempDir();
    const path = await written(dir);
    appendFileSync(path, '{"type":"exploded","at":1}\n');
    const error = await open(dir).catch((e) => e);
    expect(error).toBeInstanceOf(JournalError);
    expect(error.message).toContain("line 6");
  });

  test("a header cut while being written starts a new journal", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "journal.jsonl"), '{"journal":"disp');
    const warnings: string[] = [];
    const opened = await open(dir, { log: { info: () => {}, warn: (l) => void warnings.push(l) } });
    expect(opened.resumed).toBe(false);
    expect(warnings.join()).toContain("damaged header");
    await opened.journal.close();
  });
});

describe("another run's journal", () => {
  const refused = async (change: Partial<RunIdentity>, expected: string) => {
    const dir = tempDir();
    await written(dir);
    const error = await open(dir, { run: { ...run, ...change } }).catch((e) => e);
    expect(error).toBeInstanceOf(JournalError);
    expect(error.message).toContain(expected);
    expect(error.message).toContain("--fresh");
  };
  test("another release", () => refused({ release: "v2" }, "it is for release v1, this run is for release v2"));
  test("another filter", () => refused({ filters: ["a"] }, 'it was started with "a" "b", this run with "a"'));
  test("another repository", () => refused({ repository: "o/other" }, "it is for o/r"));
  test("changed workloads", () => refused({ workloads: [workload("a.efi"), workload("c.efi")] }, "new in the release: c.efi"));

  test("the same filters in another order are the same run", async () => {
    const dir = tempDir();
    await written(dir);
    const opened = await open(dir, { run: { ...run, filters: ["b", "a"] } });
    expect(opened.events).toHaveLength(4);
    await opened.journal.close();
  });
});

test("--fresh keeps the old journal aside and starts a new one", async () => {
  const dir = tempDir();
  const path = await written(dir);
  const before = readFileSync(path, "utf8");
  const infos: string[] = [];
  const opened = await open(dir, { fresh: true, run: { ...run, release: "v2" }, log: { info: (l) => void infos.push(l), warn: () => {} } });
  expect(opened.events).toEqual([]);
  await opened.journal.close();
  const aside = readdirSync(dir).filter((f) => f !== "journal.jsonl");
  expect(aside).toEqual(["journal.2026-01-01T00-00-00.000Z.jsonl"]);
  expect(readFileSync(join(dir, aside[0]!), "utf8")).toBe(before);
  expect(infos.join()).toContain(aside[0]!);
});

describe("the writer", () => {
  /** An AppendFile that records what happened, and can be told to fail. */
  function recordingFile() {
    const log: string[] = [];
    let data = "";
    const file = {
      failWrites: 0,
      log,
      get data() {
        return data;
      },
      /** The file system's truncate, for this in-memory file (ASCII: bytes are characters). */
      cut(n: number) {
        data = data.slice(0, n);
      },
      async write(bytes: Uint8Array) {
        await Bun.sleep(1);
        if (file.failWrites > 0) {
          file.failWrites--;
          data += "{\"half"; // a torn line, as a full disk leaves it
          throw new Error("ENOSPC: no space left on device");
        }
        data += new TextDecoder().decode(bytes);
        log.push(`write ${bytes.byteLength}`);
      },
      async sync() {
        await Bun.sleep(1);
        log.push("sync");
      },
      async close() {
        log.push("close");
      },
    };
    return file satisfies AppendFile & { failWrites: number };
  }

  test("durable resolves only after a sync that covers every event appended before it", async () => {
    const file = recordingFile();
    const journal = journalWriter({ file, bytes: 0, truncate: async () => {}, log: { info: () => {}, warn: () => {} } });
    for (const e of events) journal.append(e);
    await journal.durable();
    expect(file.log.at(-1)).toBe("sync");
    expect(file.data.trimEnd().split("\n")).toHaveLength(4);
    await journal.close();
  });

  test("events nobody waits for are written but not synced one by one", async () => {
    const file = recordingFile();
    const journal = journalWriter({ file, bytes: 0, truncate: async () => {}, log: { info: () => {}, warn: () => {} } });
    for (let i = 0; i < 50; i++) journal.append({ type: "tick", at: i });
    // Once all 50 are in the file the writer is done with them; any sync for them came before.
    await until(() => file.data.split("\n").length > 50, "the 50 lines in the file");
    expect(file.log.filter((l) => l === "sync")).toHaveLength(0);
    const waits = Array.from({ length: 20 }, () => journal.durable());
    await Promise.all(waits);
    expect(file.log.filter((l) => l === "sync").length).toBe(1);
    await journal.close();
  });

  test("a failed write rejects the waiters, leaves no torn line, and the events are written on the next try", async () => {
    const file = recordingFile();
    const warnings: string[] = [];
    const journal = journalWriter({ file, bytes: 0, truncate: async (n) => file.cut(n), log: { info: () => {}, warn: (l) => void warnings.push(l) } });
    journal.append(events[0]!);
    await journal.durable();
    file.failWrites = 1;
    journal.append(events[1]!);
    await expect(journal.durable()).rejects.toThrow("ENOSPC");
    expect(warnings.join()).toContain("cannot write the journal");
    journal.append(events[2]!);
    await journal.durable();
    expect(file.data.trimEnd().split("\n").map((l) => JSON.parse(l))).toEqual(events.slice(0, 3));
    await journal.close();
  });
});

describe("the default state folder", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  test("XDG_STATE_HOME, else ~/.local/state; one folder per owner, repo and tag", () => {
    expect(defaultStateDir(env({ XDG_STATE_HOME: "/xdg", HOME: "/home/u" }), ["o", "r", "v1"])).toBe("/xdg/dispatch/o/r/v1");
    expect(defaultStateDir(env({ HOME: "/home/u" }), ["o", "r", "v1"])).toBe("/home/u/.local/state/dispatch/o/r/v1");
    expect(defaultStateDir(env({ XDG_STATE_HOME: "relative", HOME: "/home/u" }), ["o", "r", "v1"])).toBe("/home/u/.local/state/dispatch/o/r/v1");
    expect(defaultStateDir(env({}), ["o", "r", "v1"])).toBeUndefined();
  });
  test("a tag with slashes or dots stays one folder inside", () => {
    expect(defaultStateDir(env({ HOME: "/h" }), ["o", "r", "release/1.0"])).toBe("/h/.local/state/dispatch/o/r/release%2F1.0");
    expect(defaultStateDir(env({ HOME: "/h" }), ["o", "r", ".."])).toBe("/h/.local/state/dispatch/o/r/%2E%2E");
  });
});
