import { describe, expect, test } from "bun:test";
import { consoleBlocks } from "../../src/core/console-block.ts";
import { failureIssue, issueBodyLimit, reportIssue } from "../../src/core/issue.ts";
import { firmwareError } from "../../src/console/firmware-errors.ts";
import { LineSplitter, maxLineBytes } from "../../src/console/readable.ts";

const bytes = (...parts: (string | number[])[]) => new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...new TextEncoder().encode(p)] : p)));

describe("console bytes made readable", () => {
  test("OVMF's screen output: colours, cursor moves and clears gone; CRLF ends lines; a redrawn line keeps its last state", () => {
    const s = new LineSplitter();
    // What OVMF's terminal driver writes at the start of a boot (captured from its serial port).
    const lines = s.push(bytes("\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001\r\n\x1b[0m\x1b[37m\x1b[40m>>Start HTTP Boot over IPv4.....\r\n  Downloading 10%\r  Downloading 100%\r\n"));
    expect(lines).toEqual(["BdsDxe: loading Boot0001", ">>Start HTTP Boot over IPv4.....", "  Downloading 100%"]);
  });

  test("a line split across reads comes whole; the line not yet ended shows as pending", () => {
    const s = new LineSplitter();
    expect(s.push(bytes("Linux version 6.1"))).toEqual([]);
    expect(s.pending()).toBe("Linux version 6.1");
    expect(s.push(bytes(".0 (gcc)\nlogin: "))).toEqual(["Linux version 6.1.0 (gcc)"]);
    expect(s.flush()).toBe("login: ");
    expect(s.flush()).toBeUndefined();
  });

  test("UTF-8 split mid-character across reads is whole; broken bytes are shown as \\xNN, not dropped", () => {
    const s = new LineSplitter();
    const euro = [...new TextEncoder().encode("€")];
    expect(s.push(bytes("price ", euro.slice(0, 2)))).toEqual([]);
    expect(s.push(bytes(euro.slice(2), "5\n"))).toEqual(["price €5"]);
    expect(s.push(bytes("bad ", [0xff, 0xc3], " end\n"))).toEqual(["bad \\xff\\xc3 end"]);
  });

  test("UTF-16 text (CHAR16 written as it is) is decoded, also when the previous line's NUL begins it", () => {
    const s = new LineSplitter();
    const le = (text: string) => [...text].flatMap((c) => [c.charCodeAt(0), 0]);
    expect(s.push(bytes(le("Shell> map\r\n"), le("FS0: Alias\n")))).toEqual(["Shell> map", "FS0: Alias"]);
  });

  test("control characters are dropped, tabs kept; a line without end is cut into pieces", () => {
    const s = new LineSplitter();
    expect(s.push(bytes("a\x07b\x00c\td\x7f\n"))).toEqual(["abc\td"]);
    const long = s.push(bytes("x".repeat(maxLineBytes * 2 + 10)));
    expect(long).toEqual(["x".repeat(maxLineBytes), "x".repeat(maxLineBytes)]);
    expect(s.pending()).toBe("x".repeat(10));
  });

  test("firmware boot errors are found; ordinary lines are not", () => {
    expect(firmwareError(["  URI: http://10.0.2.2:1/x", "  Error: Could not retrieve NBP file size from HTTP server.", ""])).toBe("Error: Could not retrieve NBP file size from HTTP server.");
    expect(firmwareError(["BdsDxe: failed to load Boot0001 \"UEFI HTTPv4\": Access Denied"])).toContain("Access Denied");
    expect(firmwareError(["PXE-E51: No DHCP or proxy DHCP offers were received."])).toContain("PXE-E51");
    expect(firmwareError(["Booting Linux", "all tests passed"])).toBeUndefined();
  });
});

describe("console blocks in an issue", () => {
  const tail = (index: number, n: number, width = 60) => ({ index, server: "node-1", ip: "127.0.0.2", lines: Array.from({ length: n }, (_, i) => `2026-01-01T00:00:00.000Z line ${index}.${i} ${"x".repeat(width)}`) });

  test("collapsed <details>, the newest attempt last; a fence no line can close", () => {
    const text = consoleBlocks([tail(1, 3), { ...tail(2, 2), lines: ["``` not a fence", "ok"] }], 65_536);
    expect(text.indexOf("attempt 1")).toBeLessThan(text.indexOf("attempt 2"));
    expect(text).toContain("<details><summary>Console of attempt 2 on node-1 (127.0.0.2): its last 2 lines</summary>");
    expect(text).toContain("````text\n``` not a fence\nok\n````");
  });

  test("cut to the room: the newest attempt's last lines are kept first, the oldest lines go first", () => {
    const text = consoleBlocks([tail(1, 100, 500), tail(2, 100, 500)], 20_000);
    expect(text.length).toBeLessThanOrEqual(20_000);
    expect(text).toContain("line 2.99 ");
    expect(text).not.toContain("line 2.0 ");
    expect(text).not.toContain("attempt 1");
  });
});

describe("consoles with the report or the failure, within GitHub's 65,536 characters", () => {
  const job = {
    name: "a.efi",
    workload: { name: "a.efi", size: 1000, bootType: "application/efi" as const, source: "/a.efi" },
    phase: { state: "failed" as const, ip: "127.0.0.2", reason: "downloaded but no `beacon boot` within 3s" },
    entered: { assigned: 1, failed: 2 },
    attempts: [{ n: 1, ip: "127.0.0.2", at: 1, endedAt: 2, reason: "downloaded but no `beacon boot` within 3s" }],
  };
  const context = { repository: "o/r", release: "v1" };
  const tail = { index: 1, server: "node-1", ip: "127.0.0.2", lines: Array.from({ length: 100 }, (_, i) => `2026-01-01T00:00:00.000Z ${"y".repeat(1000)} ${i}`) };

  test("a failure ends with the console block, before its footer, cut to fit", () => {
    const issue = failureIssue(job, context, [tail]);
    expect(issue.body.length).toBeLessThanOrEqual(issueBodyLimit);
    expect(issue.body).toContain(`${"y".repeat(1000)} 99\n`);
    expect(issue.body.indexOf("<details>")).toBeGreaterThan(issue.body.indexOf("failed:"));
    expect(issue.body.indexOf("</details>")).toBeLessThan(issue.body.indexOf("Filed by dispatch"));
  });

  test("a report that fills an issue is cut to leave the console its room; the whole stays within the limit", () => {
    const reported = { ...job, phase: { state: "reported" as const, ip: "127.0.0.2", report: { title: "t" } }, entered: { booting: 1, reported: 2 } };
    const issue = reportIssue({ title: "t", body: "x".repeat(issueBodyLimit) }, reported, context, { consoles: [tail] });
    expect(issue.cut).toBe(true);
    expect(issue.body.length).toBeLessThanOrEqual(issueBodyLimit);
    expect(issue.body).toContain(`${"y".repeat(1000)} 99\n`);
    expect(issue.body).toContain("Cut by dispatch");
  });
});
