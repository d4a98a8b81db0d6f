// Peak resident memory of dispatch while it takes one large `beacon report` and files it:
//   bun scripts/report-memory.ts                  (64 MiB, this checkout)
//   bun scripts/report-memory.ts --mib 16 --main /other/checkout/src/main.ts
// dispatch runs as its own process (bun src/main.ts, --no-mdns) against the fake GitHub on
// loopback; the report is sent as beacon sends it (test/support/beacon.ts). Memory is VmRSS /
// VmHWM from /proc/PID/status, the peak reset just before the report (Linux only).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startFakeGitHub } from "../test/fake-github/index.ts";
import { beaconBoot, beaconReport } from "../test/support/beacon.ts";
import { startDispatchProcess } from "../test/support/dispatch-process.ts";
import { http } from "../test/support/http-client.ts";
import { efi } from "../test/support/workloads.ts";

const { values } = parseArgs({
  options: { mib: { type: "string", default: "64" }, main: { type: "string", default: join(import.meta.dir, "..", "src", "main.ts") } },
});
const mib = Number(values.mib);

const gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("w.efi", 4096)] }] });
const state = mkdtempSync(join(tmpdir(), "dispatch-report-memory-"));
const env = { ...process.env, NO_COLOR: "1", GITHUB_TOKEN: gh.token } as Record<string, string>;
const flags = ["-o", gh.owner, "-r", gh.repo, "-t", "v1", "--api-url", gh.apiUrl, "--bind", "127.0.0.1:0", "--no-mdns", "--state", state];
const cli = await startDispatchProcess({ command: [process.execPath, values.main], env }, flags);

const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${cli.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
try {
  const from = "127.0.0.2";
  await http(cli.url, { method: "HEAD", from });
  await http(cli.url, { from });
  await beaconBoot(cli.url, from);

  // A log as a workload writes it: lines with quotes and tabs, which JSON escapes.
  const lines: string[] = [];
  for (let i = 0, size = 0; size < mib * 1024 * 1024; i++) {
    const line = `[${String(i).padStart(8, "0")}] stress-ng: cpu ok, "temp" 61°C\tpass\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  const body = lines.join("");
  lines.length = 0;

  const idle = kib("VmRSS");
  writeFileSync(`/proc/${cli.pid}/clear_refs`, "5");
  const t0 = performance.now();
  const reply = await beaconReport(cli.url, from, { title: "burn-in log", body });
  const answered = performance.now() - t0;
  const peakAnswered = kib("VmHWM");
  let filed = false;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && !(filed = gh.issues.length > 0); ) await Bun.sleep(50);
  const peakFiled = kib("VmHWM");
  const journal = readFileSync(join(state, "journal.jsonl")).byteLength;

  const figures = {
    reportMiB: mib,
    status: reply.status,
    answer: reply.text.trim().slice(0, 120),
    answeredMs: Math.round(answered),
    idleRssMiB: Math.round(idle),
    peakUntilAnsweredMiB: Math.round(peakAnswered),
    peakUntilFiledMiB: filed ? Math.round(peakFiled) : null,
    journalKiB: Math.round(journal / 1024),
  };
  console.log(JSON.stringify(figures, null, 2));
  console.log(`peak / idle: ${(peakFiled / idle).toFixed(2)}; growth ${Math.round(peakFiled - idle)} MiB for a ${mib} MiB report`);
} finally {
  await cli.stop();
  await gh.stop();
  rmSync(state, { recursive: true, force: true });
}
