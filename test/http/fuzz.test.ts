import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { type DispatchProcess, startDispatchProcess } from "../support/dispatch-process.ts";
import { bootOnce, status } from "../support/cycle.ts";
import { http } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";

// Thousands of random and mutated bodies and headers at the beacon routes of a real dispatch
// process, from addresses that hold no job: it must answer each with a 4xx, stay alive, and
// neither its state nor its journal may change.

let gh: FakeGitHub;
let cli: DispatchProcess;
let state: string;
beforeAll(async () => {
  gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a.efi", 2000), efi("b.efi", 2000)] }] });
  state = mkdtempSync(join(tmpdir(), "dispatch-fuzz-"));
  const args = ["-o", gh.owner, "-r", gh.repo, "-t", "v1", "--api-url", gh.apiUrl, "--token", gh.token, "--bind", "127.0.0.1:0", "--no-mdns", "--state", state];
  cli = await startDispatchProcess({ command: ["bun", "src/main.ts"], cwd: join(import.meta.dir, "../.."), env: process.env as Record<string, string> }, args);
});
afterAll(async () => {
  await cli?.kill("SIGKILL");
  await gh?.stop();
  rmSync(state, { recursive: true, force: true });
});

let seed = 20261128;
const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
const pick = <T>(items: readonly T[]): T => items[rand(items.length)]!;
const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => rand(256));

const validReports = [
  { title: "memtest passed", body: "all DIMMs ok", labels: ["lab", "pass"], assignees: ["octocat"], milestone: "Sprint 1" },
  { title: "t" },
  { title: "x", body: null, labels: null },
];

/** A valid report, then damaged: characters flipped, dropped, doubled or spliced in. */
function mutated(): string {
  let text = JSON.stringify(pick(validReports));
  for (let i = 0, n = 1 + rand(4); i < n; i++) {
    const at = rand(text.length + 1);
    const piece = pick(['"', "{", "}", "[", "]", ",", ":", "\\", "\u0000", "\ud800", "null", "1e999", "-", "title", String.fromCharCode(rand(0x10000))]);
    switch (rand(4)) {
      case 0:
        text = text.slice(0, at) + piece + text.slice(at);
        break;
      case 1:
        text = text.slice(0, at) + text.slice(at + 1 + rand(5));
        break;
      case 2:
        text = text.slice(0, at) + text.slice(at, at + 8).repeat(2) + text.slice(at);
        break;
      default:
        text = text.slice(0, at) + piece + text.slice(at + 1);
    }
  }
  return text;
}

function body(): string | Uint8Array {
  switch (rand(6)) {
    case 0:
      return randomBytes(rand(2048));
    case 1:
      return JSON.stringify(pick(validReports)); // valid, but this address has nothing booted: 417
    case 2:
      return JSON.stringify({ title: "x".repeat(rand(600)), labels: Array.from({ length: rand(150) }, (_, i) => `l${i}`) });
    case 3:
      return JSON.stringify(pick([[], 1, "s", null, true, { title: 5 }, { title: "" }, { title: " " }, { title: "t", labels: [""] }, { __proto__: { title: "t" } }]));
    default:
      return mutated();
  }
}

function headers(): Record<string, string> {
  const out: Record<string, string> = {};
  const names = ["content-type", "range", "accept", "user-agent", "x-forwarded-for", "expect", "x-junk", "content-encoding", "transfer-encoding-ish"];
  for (let i = 0, n = rand(5); i < n; i++) {
    const value = pick(["application/json", "text/plain; charset=utf-16", "bytes=0-", "bytes=-0", "gzip", "127.0.0.3", "*/*", "a".repeat(rand(4000)), "\t"]);
    out[pick(names)] = value;
  }
  return out;
}

/** Garbage that a well-behaved client library would never send. */
function rawRequest(): string {
  return pick([
    `PUT /dispatch HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n${"{".repeat(3)}`,
    `PUT /dispatch HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n`,
    `PUT /dispatch HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello`,
    `PUT /dispatch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
    `POST /dispatch HTTP/1.1\r\nHost: x\r\nbroken header line\r\n\r\n`,
    `POST /dispatch HTTP/1.1\r\nHost: x\r\nX: ${"\u0000".repeat(5)}\r\n\r\n`,
    `POST /dispatch HTTP/9.9\r\n\r\n`,
    `POST  /dispatch  HTTP/1.1\r\n\r\n`,
    `PUT /dispatch?${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    `\r\n\r\n\r\n`,
    new TextDecoder().decode(randomBytes(300)),
    `PUT /dispatch HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}PUT /dispatch HTTP/1.1\r\nContent-Length: 1\r\n\r\n[`,
  ]);
}

function raw(request: string, from: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port: cli.port, host: "127.0.0.1", localAddress: from });
    let received = "";
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("close", () => (clearTimeout(timer), resolve(received)));
    socket.on("error", () => {});
    socket.end(request);
  });
}

test("random and mutated beacon requests: every answer a 4xx, the process alive, state and journal untouched", async () => {
  // One real job in flight, so "untouched" has something to protect.
  await bootOnce(cli.url, "127.0.0.2");
  const before = JSON.stringify(await status(cli.port));
  const journal = readFileSync(join(state, "journal.jsonl"), "utf8");

  const statuses = new Map<number, number>();
  const addresses = Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`);
  let next = 0;
  const total = 2000;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const from = pick(addresses);
      if (i % 5 === 4) {
        const answer = await raw(rawRequest(), from);
        const code = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
        statuses.set(code, (statuses.get(code) ?? 0) + 1);
        continue;
      }
      const reply = await http(cli.url, { method: pick(["PUT", "PUT", "POST"]), from, body: body(), headers: headers() }).catch(() => ({ status: 0 }));
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));

  const codes = [...statuses.keys()].sort();
  // 0: the connection was closed without an answer (unparseable requests); never 2xx, never 5xx.
  for (const code of codes) expect(code === 0 || (code >= 400 && code < 500)).toBe(true);
  expect(statuses.get(417)).toBeGreaterThan(100);
  expect(statuses.get(400)).toBeGreaterThan(100);
  expect(() => process.kill(cli.pid, 0)).not.toThrow(); // still running
  expect(JSON.stringify(await status(cli.port))).toBe(before);
  expect(readFileSync(join(state, "journal.jsonl"), "utf8")).toBe(journal);
  // …and it still works.
  expect((await http(cli.url, { method: "PUT", from: "127.0.0.2", body: JSON.stringify({ title: "after the storm" }) })).status).toBe(200);
}, 120_000);
