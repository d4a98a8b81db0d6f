import { describe, expect, test } from "bun:test";
import stringWidth from "string-width";
import type { DispatchEvent } from "../../src/core/events.ts";
import { type DispatchState, initialState } from "../../src/core/job.ts";
import { reduce } from "../../src/core/reducer.ts";
import type { Workload } from "../../src/core/workload.ts";
import { fit } from "../../src/ui/tty/cells.ts";
import { progressBar } from "../../src/ui/tty/progress-bar.ts";
import { type ScreenModel, age, renderScreen } from "../../src/ui/tty/screen.ts";
import { statusView } from "../../src/status/view.ts";

const t0 = Date.parse("2025-03-01T12:00:00Z");
const workload = (name: string, size = 1_048_576): Workload => ({ name, size, bootType: "application/efi", source: `https://api.example/${name}` });
const run = { source: "lab/workloads release v1.2", sink: "issues of lab/workloads", version: "0.1.0", bootUrls: ["http://192.0.2.1:8080/dispatch"] };

function state(names: string[], ...events: DispatchEvent[]): DispatchState {
  return events.reduce(reduce, initialState(names.map((n) => workload(n)), { downloadMs: 300_000, runMs: 3_600_000 }));
}
const head = (ip: string, at = t0): DispatchEvent => ({ type: "boot-requested", ip, at, download: false });
const get = (ip: string, at = t0): DispatchEvent => ({ type: "boot-requested", ip, at, download: true });

function screen(s: DispatchState, size: { width?: number; height?: number } = {}, extra: Partial<ScreenModel> = {}): string[] {
  const now = t0 + 5000;
  return renderScreen({
    status: statusView(s, { now, run, rate: () => 1_048_576 }),
    now,
    messages: [],
    width: size.width ?? 100,
    height: size.height ?? 20,
    ...extra,
  });
}

/** The screen column at which `needle` starts on `line`. */
const columnOf = (line: string, needle: string) => stringWidth(line.slice(0, line.indexOf(needle)));

/** Every state, one job each; the names are wide on purpose (emoji, CJK, very long). */
function everyState(): DispatchState {
  const names = ["a-📦-ramdisk.img", "b-日本語.efi", "c-long-" + "x".repeat(80) + ".iso", "d.efi", "e.efi", "f.efi", "g.efi"];
  return state(
    names,
    head("10.0.0.1"), // a assigned
    get("10.0.0.2"), // b downloading
    { type: "download-progressed", ip: "10.0.0.2", name: "b-日本語.efi", bytes: 524_288, at: t0 + 1000 },
    get("10.0.0.3"), // c downloading → booting → reported
    { type: "download-ended", ip: "10.0.0.3", name: names[2]!, start: 0, sent: 1_048_576, at: t0 + 1 },
    { type: "booted", ip: "10.0.0.3", at: t0 + 2 },
    { type: "reported", ip: "10.0.0.3", at: t0 + 3, report: { title: "all green" } },
    get("10.0.0.4"), // d downloaded → booting
    { type: "download-ended", ip: "10.0.0.4", name: "d.efi", start: 0, sent: 1_048_576, at: t0 + 1 },
    { type: "booted", ip: "10.0.0.4", at: t0 + 2 },
    get("10.0.0.5"), // e downloaded, then asks again: fails, and f goes to it
    { type: "download-ended", ip: "10.0.0.5", name: "e.efi", start: 0, sent: 1_048_576, at: t0 + 1 },
    head("10.0.0.5", t0 + 2),
  );
}

describe("the terminal view", () => {
  test("every line is exactly as wide as the terminal (the last one column less), emoji and CJK included", () => {
    for (const [width, height] of [
      [100, 20],
      [60, 12],
      [33, 9],
      [200, 40],
    ] as const) {
      const lines = screen(everyState(), { width, height });
      expect(lines).toHaveLength(height);
      lines.forEach((line, i) => expect({ i, width: stringWidth(line) }).toEqual({ i, width: i === height - 1 ? width - 1 : width }));
    }
  });

  test("columns line up whatever the names hold", () => {
    const lines = screen(everyState(), { width: 120 });
    const rows = lines.filter((l) => /10\.0\.0\.\d/.test(l));
    expect(rows).toHaveLength(6);
    const ipColumns = rows.map((row) => columnOf(row, "10.0.0."));
    expect(new Set(ipColumns).size).toBe(1);
    const sizeColumns = rows.map((row) => columnOf(row, "1.0 MiB"));
    expect(new Set(sizeColumns).size).toBe(1);
    // The long name is cut with an ellipsis, not wrapped.
    expect(rows.some((row) => row.includes("c-long-xxx") && row.includes("…"))).toBe(true);
  });

  test("one row per job with its emoji, server, last seen and what it is doing", () => {
    const lines = screen(everyState(), { width: 140 });
    const row = (name: string) => lines.find((l) => l.includes(name))!;
    expect(row("a-📦-ramdisk.img")).toStartWith("📌");
    expect(row("a-📦-ramdisk.img")).toContain("10.0.0.1");
    expect(row("a-📦-ramdisk.img")).toContain("5s ago");
    expect(row("b-日本語.efi")).toStartWith("📥");
    expect(row("c-long")).toStartWith("📝");
    expect(row("c-long")).toContain('filing "all green"');
    expect(row("d.efi")).toStartWith("⚡");
    expect(row("e.efi")).toStartWith("❌");
    expect(row("e.efi")).toContain("downloaded but never sent `beacon boot`");
    expect(row("f.efi")).toStartWith("📌");
    expect(row("g.efi")).toStartWith("⏳");
    expect(row("g.efi")).toContain("waiting for a server");
  });

  test("a download in progress has a bar, its percentage and its speed", () => {
    const lines = screen(everyState(), { width: 140 });
    const row = lines.find((l) => l.includes("b-日本語.efi"))!;
    expect(row).toContain(" 50% ");
    expect(row).toContain("1.0 MiB/s");
    expect(row).toContain("█".repeat(15) + "░".repeat(15));
  });

  test("finished jobs show their issue; filing trouble shows the retry", () => {
    let s = state(["a.efi", "b.efi"], get("10.0.0.1"), get("10.0.0.2"));
    for (const [ip, name] of [
      ["10.0.0.1", "a.efi"],
      ["10.0.0.2", "b.efi"],
    ] as const) {
      s = [
        { type: "download-ended", ip, name, start: 0, sent: 1_048_576, at: t0 } as const,
        { type: "booted", ip, at: t0 } as const,
        { type: "reported", ip, at: t0, report: { title: "ok" } } as const,
      ].reduce(reduce, s);
    }
    s = reduce(s, { type: "issue-filed", name: "a.efi", at: t0, issue: { number: 12, url: "https://github.com/lab/workloads/issues/12" } });
    s = reduce(s, { type: "filing-failed", name: "b.efi", at: t0, error: "GitHub is down" });
    const lines = screen(s, { width: 140 });
    expect(lines.find((l) => l.includes("a.efi"))).toContain("#12 https://github.com/lab/workloads/issues/12");
    expect(lines.find((l) => l.includes("b.efi"))).toContain("filing failed, retrying: GitHub is down");
  });

  test("the footer has the boot URL, the page and the count per state", () => {
    const lines = screen(everyState(), { width: 140 });
    expect(lines.at(-2)).toContain("boot http://192.0.2.1:8080/dispatch");
    expect(lines.at(-2)).toContain("page http://192.0.2.1:8080/");
    expect(lines.at(-1)).toMatch(/^⏳ 1 {2}📌 2 {2}📥 1 {2}⚡ 1 {2}📝 1 {2}🏁 0 {2}❌ 1 +q quits$/);
  });

  test("with too little room, finished jobs leave the table first; the counts keep them", () => {
    const names = Array.from({ length: 30 }, (_, i) => `job-${String(i).padStart(2, "0")}.efi`);
    const events: DispatchEvent[] = [];
    // Twenty finish, one fails, one is assigned, one is downloading; seven stay queued.
    for (let i = 0; i < 22; i++) {
      const ip = `10.0.1.${i}`;
      const name = names[i]!;
      events.push(get(ip, t0 + i));
      if (i === 21) continue;
      events.push({ type: "download-ended", ip, name, start: 0, sent: 1_048_576, at: t0 + i });
      if (i === 20) {
        events.push(head(ip, t0 + i)); // asks again: job-20 fails, job-22 is assigned to it
        continue;
      }
      events.push({ type: "booted", ip, at: t0 + i }, { type: "reported", ip, at: t0 + i, report: { title: "ok" } });
      events.push({ type: "issue-filed", name, at: t0 + i, issue: { number: i, url: `https://github.com/lab/workloads/issues/${i}` } });
    }
    const lines = screen(state(names, ...events), { width: 100, height: 16 });
    expect(lines).toHaveLength(16);
    const rows = lines.filter((l) => l.includes("job-"));
    expect(rows.length).toBe(11); // 16 − header 2 − footer 2 − "… more" 1
    expect(rows.some((r) => r.includes("job-20.efi") && r.startsWith("❌"))).toBe(true);
    expect(rows.some((r) => r.includes("job-21.efi") && r.startsWith("📌"))).toBe(true);
    expect(rows.some((r) => r.includes("job-22.efi") && r.startsWith("📥"))).toBe(true);
    // Then the whole queue, then only the latest finished job: the other 19 left the table.
    expect(rows.filter((r) => r.startsWith("⏳")).map((r) => r.match(/job-\d+\.efi/)![0])).toEqual(["job-23.efi", "job-24.efi", "job-25.efi", "job-26.efi", "job-27.efi", "job-28.efi", "job-29.efi"]);
    expect(rows.filter((r) => r.startsWith("🏁")).map((r) => r.match(/job-\d+\.efi/)![0])).toEqual(["job-19.efi"]);
    const more = lines.find((l) => l.includes("more:"))!;
    expect(more).toContain("… 19 more: 🏁 19");
    expect(lines.at(-1)).toContain("🏁 20");
    expect(lines.at(-1)).toContain("❌ 1");
  });

  test("recent log lines get the room the jobs leave", () => {
    const messages = Array.from({ length: 9 }, (_, i) => `12:00:0${i} line ${i}`);
    const lines = screen(everyState(), { width: 80, height: 24 }, { messages });
    expect(lines.some((l) => l.startsWith("─ recent"))).toBe(true);
    expect(lines.filter((l) => l.includes(" line "))).toHaveLength(5);
    expect(lines.some((l) => l.includes("line 8"))).toBe(true);
    expect(lines.some((l) => l.includes("line 3"))).toBe(false);
  });

  test("a tiny terminal still shows the counts", () => {
    for (const height of [1, 2, 3, 4]) {
      const lines = screen(everyState(), { width: 50, height });
      expect(lines).toHaveLength(height);
      expect(lines.at(-1)).toStartWith("⏳ 1");
    }
    expect(screen(everyState(), { width: 1, height: 10 })).toEqual([]);
  });
});

describe("cells", () => {
  test("fit pads and cuts by terminal columns, never splitting a wide character", () => {
    expect(fit("abc", 5)).toBe("abc  ");
    expect(fit("abc", 5, "right")).toBe("  abc");
    expect(fit("abcdef", 4)).toBe("abc…");
    for (let w = 1; w <= 8; w++) expect(stringWidth(fit("📥日本語ab", w))).toBe(w);
    expect(fit("a\nb\tc", 7)).toBe("a\\nb\\tc");
    expect(fit("x\u001b[2J\u009b", 13)).toBe("x\\x1b[2J\\x9b ");
  });

  test("progress bars fill by eighths and keep their width", () => {
    expect(progressBar(0, 4)).toEqual({ filled: "", empty: "░░░░" });
    expect(progressBar(1, 4)).toEqual({ filled: "████", empty: "" });
    expect(progressBar(0.5, 4)).toEqual({ filled: "██", empty: "░░" });
    expect(progressBar(0.5 + 1 / 32, 4)).toEqual({ filled: "██▏", empty: "░" });
    expect(progressBar(7, 3).filled).toBe("███");
    expect(progressBar(Number.NaN, 3).empty).toBe("░░░");
  });

  test("ages are short", () => {
    expect([age(0), age(59_999), age(60_000), age(3_599_000), age(7_200_000), age(200_000_000)]).toEqual(["0s", "59s", "1m", "59m", "2h", "2d"]);
  });
});

describe("the lab's servers (--lab)", () => {
  test("one line each under a rule, the one taken out first; none without a lab", async () => {
    const { initialLab, defaultLabRules } = await import("../../src/core/lab.ts");
    const lab = initialLab(
      [
        { name: "genoa-1", ip: "192.0.2.101", power: "off", once: false },
        { name: "turin-2", ip: "192.0.2.102", power: "on", once: false },
      ],
      { ...defaultLabRules, refusalLimit: 1 },
    );
    let s = initialState([workload("a.efi")], { downloadMs: 300_000, runMs: 3_600_000 }, lab);
    s = reduce(s, { type: "tick", at: t0 });
    const id = s.lab!.servers[1]!.pending!.id;
    s = reduce(s, { type: "power-done", at: t0 + 1, server: "turin-2", id, ok: false, error: "401 Unauthorized" });
    const lines = screen(s, { width: 100, height: 20 });
    const rule = lines.findIndex((l) => l.startsWith("─ servers"));
    expect(rule).toBeGreaterThan(0);
    expect(lines[rule + 1]).toStartWith("turin-2  on  ⛔ taken out: its BMC refused 1 time in a row (last: 401 Unauthorized)");
    expect(lines[rule + 2]).toStartWith("genoa-1  off  point: the run starts");
    expect(lines).toHaveLength(20);
    expect(screen(state(["a.efi"])).some((l) => l.startsWith("─ servers"))).toBe(false);
  });
});
