import { describe, expect, test } from "bun:test";
import type { DispatchEvent } from "../../src/core/events.ts";
import { initialState } from "../../src/core/job.ts";
import { type Change, createStore } from "../../src/core/store.ts";
import { jsonOutput } from "../../src/ui/json-output.ts";
import { logEntries, logLines } from "../../src/ui/log-lines.ts";
import { plainOutput } from "../../src/ui/plain-output.ts";

function changes(...events: DispatchEvent[]): Change[] {
  const workload = (name: string) => ({ name, size: 10, bootType: "application/efi" as const, source: "x" });
  const store = createStore(initialState([workload("a.efi"), workload("b.efi")], { downloadMs: 1000, runMs: 1000 }));
  const seen: Change[] = [];
  store.subscribe((c) => seen.push(c));
  for (const e of events) store.dispatch(e);
  return seen;
}

describe("log entries", () => {
  test("carry the job's facts beside the line", () => {
    const all = changes(
      { type: "boot-requested", ip: "10.0.0.1", at: 1, download: true },
      { type: "download-ended", ip: "10.0.0.1", name: "a.efi", start: 0, sent: 10, at: 2 },
      { type: "boot-requested", ip: "10.0.0.1", at: 3, download: false },
    );
    const entries = all.flatMap(logEntries);
    expect(entries.map((e) => e.fields)).toEqual([
      { job: "a.efi", state: "downloading", ip: "10.0.0.1" },
      { job: "a.efi", state: "failed", ip: "10.0.0.1", reason: "downloaded but never sent `beacon boot`: the server asked for a new workload" },
      { job: "b.efi", state: "assigned", ip: "10.0.0.1" },
    ]);
    expect(all.flatMap(logLines)).toEqual(entries.map((e) => e.message));
  });
});

describe("json output", () => {
  test("one JSON object per line, with time, level, message and fields", () => {
    const lines: string[] = [];
    const out = jsonOutput((l) => lines.push(l), () => Date.parse("2025-03-01T12:00:00Z"));
    out.info("📌 a.efi assigned to 10.0.0.1", { job: "a.efi", state: "assigned", ip: "10.0.0.1" });
    out.warn("something odd\nover two lines");
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => !l.includes("\n"))).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({ time: "2025-03-01T12:00:00.000Z", level: "info", message: "📌 a.efi assigned to 10.0.0.1", job: "a.efi", state: "assigned", ip: "10.0.0.1" });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: "warn", message: "something odd\nover two lines" });
  });

  test("plain lines: one per message, whatever it quotes; controls are shown, not sent", () => {
    const lines: string[] = [];
    const out = plainOutput((l) => lines.push(l));
    out.info('📝 a.efi reported by 10.0.0.1: "ok\r\n2026-01-01T00:00:00Z 🏁 b.efi finished\u2028\x1b]0;x\x07\u009b2J\u202e\\"');
    out.warn("filing failed: 422 Invalid request.\n\nFor 'properties/title'");
    expect(lines).toHaveLength(2);
    // (Not String.raw: Bun 1.4.5 gives an emoji in its raw text as `\u{…}`.)
    expect(lines[0]).toEndWith('"ok\\r\\n2026-01-01T00:00:00Z 🏁 b.efi finished\\u2028\\x1b]0;x\\x07\\x9b2J\\u202e\\"');
    expect(lines[1]).toEndWith("⚠️  filing failed: 422 Invalid request.\\n\\nFor 'properties/title'");
  });

  test("plain lines stay as they were: a timestamp, then the message", () => {
    const lines: string[] = [];
    plainOutput((l) => lines.push(l)).info("📌 a.efi assigned to 10.0.0.1", { job: "a.efi" } as never);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 📌 a\.efi assigned to 10\.0\.0\.1$/);
  });
});
