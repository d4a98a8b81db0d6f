import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { denoLaunch } from "../runtime/deno-launch.ts";
import { bootOnce } from "../support/cycle.ts";
import { type DispatchProcess, type Launch, startDispatchProcess } from "../support/dispatch-process.ts";
import { http } from "../support/http-client.ts";
import { until } from "../support/until.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { pattern } from "../support/workloads.ts";

// SIGTERM (or Ctrl-C) while a report is arriving, through the real CLI under Bun and Deno: the
// report in flight finishes and is written before dispatch exits; a second signal, or the bound
// on the wait, ends it anyway. Downloads are not waited for (test/support/full-cycle.ts).

const cleanup: (() => Promise<unknown> | unknown)[] = [];
const temp = tempDirs();
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  temp.removeAll();
});

const tempDir = (prefix: string) => temp.make(prefix);

const root = new URL("../..", import.meta.url).pathname;
const launches: Record<string, (env: Record<string, string>) => Launch | undefined> = {
  bun: (env) => ({ command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: tmpdir(), ...env } }),
  deno: (env) => denoLaunch(env),
};

/** A report longer than what is kept in memory, so its arrival shows as a file in the state folder. */
const body = "line of a long log\n".repeat(8000);
const json = new TextEncoder().encode(JSON.stringify({ title: "burn-in passed", body }));
const firstPart = json.subarray(0, 100_000);

type Started = { d: DispatchProcess; results: string; state: string; from: string };

async function start(launch: (env: Record<string, string>) => Launch | undefined, env: Record<string, string> = {}): Promise<Started | undefined> {
  const how = launch(env);
  if (!how) return undefined;
  const out = tempDir("dispatch-out-");
  const results = join(tempDir("dispatch-results-"), "results");
  const state = join(tempDir("dispatch-state-"), "state");
  writeFileSync(join(out, "burn-in.efi"), pattern(20_000, 3));
  const d = await startDispatchProcess(how, ["--dir", out, "--reports", results, "--state", state, "--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain"]);
  cleanup.push(() => d.stop());
  const from = "127.0.0.2";
  await bootOnce(d.url, from);
  return { d, results, state, from };
}

/** Begins `beacon report` on a raw socket: headers and the first part of the body, the rest held back. */
async function beginReport({ d, state, from }: Started): Promise<{ socket: Socket; answer: Promise<string> }> {
  const socket = connect({ port: d.port, host: "127.0.0.1", localAddress: from });
  cleanup.push(() => socket.destroy());
  socket.on("error", () => {});
  let received = "";
  const answer = new Promise<string>((resolve) => socket.on("close", () => resolve(received)));
  socket.on("data", (chunk) => (received += chunk.toString("latin1")));
  socket.write(`PUT /dispatch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${json.byteLength}\r\nConnection: close\r\n\r\n`);
  socket.write(firstPart);
  // dispatch has the request once the body's file appears in the state folder (past 57,344 characters).
  await until(() => existsSync(join(state, "reports")) && readdirSync(join(state, "reports")).some((n) => n.endsWith(".txt")), "the report to be arriving");
  return { socket, answer };
}

/** The report files in the --reports folder (beside the run's SUMMARY.md). */
const reportFiles = (results: string) => (existsSync(results) ? readdirSync(results).filter((name) => name.endsWith("_burn-in.efi.md")) : []);

const waitingLine = /stopping: waiting up to (\d+) s for 1 report in flight \(from 127\.0\.0\.2\) to finish/;

for (const [runtime, launch] of Object.entries(launches)) {
  describe(`under ${runtime}`, () => {
    test("SIGTERM while a report arrives: no new connections, the report finishes (200) and is written, then dispatch exits 0", async () => {
      const started = await start(launch);
      if (!started) return;
      const { d, results } = started;
      const { socket, answer } = await beginReport(started);
      process.kill(d.pid, "SIGTERM");
      const line = await d.waitFor(waitingLine);
      expect(Number(waitingLine.exec(line)![1])).toBe(60);
      // Stopped taking requests: a new connection is refused.
      expect(await http(d.url, { method: "HEAD", from: "127.0.0.3" }).catch((error: Error) => error.message)).toContain("ECONNREFUSED");
      socket.write(json.subarray(firstPart.byteLength));
      const reply = await answer;
      expect(reply).toStartWith("HTTP/1.1 200");
      expect(reply).toContain("report for burn-in.efi accepted");
      expect(await d.exited).toBe(0);
      const files = reportFiles(results);
      expect(files).toHaveLength(1);
      const written = readFileSync(join(results, files[0]!), "utf8");
      expect(written).toContain('title: "burn-in passed"');
      expect(written).toContain(body);
    }, 40_000);

    test("a second SIGTERM stops at once: the report in flight is cut, dispatch exits 0", async () => {
      const started = await start(launch);
      if (!started) return;
      const { d, results } = started;
      const { answer } = await beginReport(started);
      process.kill(d.pid, "SIGTERM");
      await d.waitFor(waitingLine);
      process.kill(d.pid, "SIGTERM");
      expect(await answer).not.toContain("200");
      expect(await d.exited).toBe(0);
      expect(reportFiles(results)).toEqual([]);
    }, 40_000);

    test("the bound (stopGraceMs, here 2 s) ends the wait for a report that never finishes", async () => {
      const started = await start(launch, { DISPATCH_SERVE_LIMITS: '{"stopGraceMs":2000}' });
      if (!started) return;
      const { d } = started;
      const { answer } = await beginReport(started);
      process.kill(d.pid, "SIGTERM");
      const line = await d.waitFor(waitingLine);
      expect(Number(waitingLine.exec(line)![1])).toBe(2);
      expect(await answer).not.toContain("200");
      expect(await d.exited).toBe(0);
    }, 40_000);
  });
}
