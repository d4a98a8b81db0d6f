import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { connect } from "node:net";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { bootOnce, status } from "../support/cycle.ts";
import { fakeGitHubFlags, startDispatchProcess } from "../support/dispatch-process.ts";
import { startTestDispatch, until } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";
import { denoLaunch } from "../runtime/deno-launch.ts";

// Real servers and retries with waits of a second or more: more room than the 5 s default on a busy machine.
setDefaultTimeout(20_000);

// Slow and broken clients against the real server with short limits, once per runtime: Bun (in
// this process) and Deno (the real CLI, limits through DISPATCH_SERVE_LIMITS). Both serve on
// node:http with dispatch's own deadlines (src/runtime/node-http.ts).

// A body is cut after 1 s of silence, or 5 s in all however steadily it arrives.
// The idle window is many times the slow tests' gaps: a loaded machine (or Deno under it) may
// stall a sender's timer for most of a second without the test meaning silence.
const limits = { headersTimeoutMs: 1000, bodyIdleMs: 3000, bodyTotalMs: 8000, writeStallMs: 1000, maxReportBytes: 1024 * 1024 };

type Probe = { closedAfterMs?: number; received: string };

/** A running dispatch as these tests need it, however it was started. */
type Target = { port: number; url: string; lines: string[]; stop(): Promise<unknown> };

describe("under Bun", () => {
  hostileTests((gh) => startTestDispatch(gh, { limits }));
});

describe("under Deno (deno run -A src/main.ts)", () => {
  hostileTests(async (gh) => {
    const launch = denoLaunch({ GITHUB_TOKEN: gh.token, DISPATCH_SERVE_LIMITS: JSON.stringify(limits) });
    return launch && startDispatchProcess(launch, fakeGitHubFlags(gh));
  });
});

/** The tests against one dispatch; `start` runs in beforeAll and may return undefined to skip. */
function hostileTests(start: (gh: FakeGitHub) => Promise<Target | undefined>): void {
  let gh: FakeGitHub;
  let d: Target;
  let skip = false;
  beforeAll(async () => {
    // a.efi (8 MB, more than socket buffers hold) goes to the client that stops reading; b.efi to the one that boots.
    // The rest go to servers that report (and to requests that take a job on the way).
    const more = ["c", "d", "e", "f", "g"].map((name) => efi(`${name}.efi`, 4000));
    gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a.efi", 8_000_000), efi("b.efi", 4000), ...more] }] });
    const started = await start(gh);
    if (started) d = started;
    else skip = true;
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    await gh?.stop();
  }, 30_000);

  /** A test that is skipped (with a note) when this runtime cannot run here. */
  const check = (name: string, fn: () => Promise<void>, timeoutMs?: number) =>
    test(name, async () => (skip ? console.warn(`skipped: ${name}`) : fn()), timeoutMs);

  /** A raw TCP client: sends what `script` writes, reports when the server closed the connection. */
  function rawClient(script: (socket: ReturnType<typeof connect>) => void, from = "127.0.0.1", giveUpMs = 4000): Promise<Probe> {
    return new Promise((resolve) => {
      const t0 = Date.now();
      const socket = connect({ port: d.port, host: "127.0.0.1", localAddress: from });
      let received = "";
      let settled = false;
      const finish = (closedAfterMs?: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ closedAfterMs, received });
      };
      socket.on("data", (chunk) => (received += chunk.toString("latin1").slice(0, 2000)));
      socket.on("close", () => finish(Date.now() - t0));
      socket.on("error", () => {});
      const timer = setTimeout(() => finish(undefined), giveUpMs);
      script(socket);
    });
  }

  const trickle = (socket: ReturnType<typeof connect>, first: string, each: string, everyMs = 200) => {
    socket.write(first);
    const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write(each)), everyMs);
    socket.on("close", () => clearInterval(timer));
  };

  describe("slow clients are cut off, and never starve servers that boot", () => {
    check("connecting and sending nothing, trickling headers, trickling a body past the cap on the whole: each closed after its deadline", async () => {
      const [silent, headers, body] = await Promise.all([
        rawClient(() => {}),
        rawClient((s) => trickle(s, "GET /dispatch HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n")),
        // Never silent for the idle window: only the cap on the whole body ends it.
        rawClient((s) => trickle(s, 'PUT /dispatch HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"title":"t","body":"', "a"), "127.0.0.1", 12_000),
      ]);
      for (const probe of [silent, headers, body]) expect(probe.closedAfterMs).toBeDefined();
      expect(headers.received).toBe(""); // cut off before any answer
      expect(body.received).toStartWith("HTTP/1.1 408");
      expect(body.received).toContain("request body not complete after 8 s; send it again");
    }, 20_000);

    check("a kept-alive connection that goes quiet is closed after the headers deadline", async () => {
      const probe = await rawClient((s) => s.write("GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n"));
      expect(probe.received).toStartWith("HTTP/1.1 200 OK\r\n"); // with its reason phrase, under Deno too
      expect(probe.closedAfterMs).toBeDefined();
    });

    check("a client that stops reading its download is reset once its writes stall", async () => {
      const probe = await rawClient(
        (s) => {
          s.write("GET /dispatch HTTP/1.1\r\nHost: x\r\n\r\n");
          s.pause();
        },
        "127.0.0.20",
        8000,
      );
      expect(probe.closedAfterMs).toBeDefined();
      await until(() => d.lines.some((l) => l.includes("download of a.efi for 127.0.0.20 ended after")), "the log line");
    }, 15_000);

    check("while 200 slow-loris connections are open, a server boots normally", async () => {
      const sockets = Array.from({ length: 200 }, () => {
        const socket = connect(d.port, "127.0.0.1");
        socket.on("error", () => {});
        socket.write("GET /dispatch HTTP/1.1\r\nHost: x\r\n");
        return socket;
      });
      try {
        await until(() => sockets.every((s) => s.readyState === "open" || s.destroyed), "the slow connections");
        const { size } = await bootOnce(d.url, "127.0.0.7");
        expect(size).toBe(4000);
        await until(() => sockets.every((s) => s.destroyed || s.readableEnded), "the slow connections to be closed", 10_000);
      } finally {
        for (const s of sockets) s.destroy();
      }
    }, 20_000);

    check("headers over the size limit: 431", async () => {
      const reply = await http(d.url, { method: "HEAD", from: "127.0.0.8", headers: { "x-big": "a".repeat(40_000) } });
      expect(reply.status).toBe(431);
    });

    check("a declared body over the limit: 413 before reading it", async () => {
      const probe = await rawClient((s) => s.write("POST /dispatch HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n"));
      expect(probe.received).toStartWith("HTTP/1.1 413");
    });

    check("a chunked report over the report limit (here 1 MiB): 413", async () => {
      const probe = await rawClient((s) => {
        s.write("PUT /dispatch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        s.write('e\r\n{"title":"t","\r\n');
        s.write('8\r\nbody":"x\r\n');
        const chunk = "x".repeat(64 * 1024);
        for (let i = 0; i < 20; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        s.write('2\r\n"}\r\n0\r\n\r\n');
      });
      expect(probe.received).toStartWith("HTTP/1.1 413");
    });

    check("a report that stops being JSON early, with a megabyte after it: 400, and dispatch serves on", async () => {
      const probe = await rawClient((s) => {
        s.write("PUT /dispatch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        s.write("7\r\n{title:\r\n");
        const chunk = "x".repeat(64 * 1024);
        for (let i = 0; i < 16; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        s.write("0\r\n\r\n");
      });
      expect(probe.received).toStartWith("HTTP/1.1 400");
      expect((await http(d.url, { method: "HEAD", from: "127.0.0.30" })).status).toBe(200);
    });
  });

  describe("a report is judged by silence, not by how long it takes", () => {
    check("a 200 KiB report at about 40 KiB/s, longer than the idle window and never silent for it, is taken whole", async () => {
      const from = "127.0.0.41";
      await bootOnce(d.url, from);
      const body = "0123456789abcdef".repeat((200 * 1024) / 16);
      const json = new TextEncoder().encode(JSON.stringify({ title: "slow link report", body }));
      const pieces = 24;
      const size = Math.ceil(json.byteLength / pieces);
      const probe = await rawClient(
        (s) => {
          s.write(`PUT /dispatch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${json.byteLength}\r\nConnection: close\r\n\r\n`);
          // 24 pieces 200 ms apart: 4.8 s in all, more than the idle window, each gap a fifteenth of it.
          let sent = 0;
          const timer = setInterval(() => {
            if (s.destroyed || sent >= json.byteLength) return clearInterval(timer);
            s.write(json.subarray(sent, sent + size));
            sent += size;
          }, 200);
          s.on("close", () => clearInterval(timer));
        },
        from,
        15_000,
      );
      expect(probe.received).toStartWith("HTTP/1.1 200");
      expect(probe.received).toContain("accepted");
      const job = (await status(d.port)).find((j) => j.ip === from);
      expect(job?.state).toMatch(/^(reported|finished)$/);
    }, 20_000);

    check("a report that goes silent mid-body is cut after the idle window with an answer saying so", async () => {
      const probe = await rawClient(
        (s) => s.write('PUT /dispatch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"title":"t","body":"half'),
        "127.0.0.43",
      );
      expect(probe.closedAfterMs).toBeDefined();
      expect(probe.received).toStartWith("HTTP/1.1 408");
      expect(probe.received).toContain("request body stopped arriving: no bytes for 3 s; send it again");
      expect((await http(d.url, { method: "HEAD", from: "127.0.0.44" })).status).toBe(200);
    });
  });

  describe("answers sent as soon as they are decided", () => {
    check("the storage failing before its first byte: the server still gets the status and headers, then a broken body", async () => {
      gh.faults.cutStorageAfterBytes = 0;
      gh.faults.cutStorageTimes = 1;
      const reply = await http(d.url, { from: "127.0.0.45" });
      expect(reply.status).toBe(200);
      expect(reply.headers["content-length"]).toBe("4000");
      expect(reply.error).toBeDefined();
      expect(reply.body.byteLength).toBe(0);
    });
  });

  describe("methods and paths", () => {
    for (const method of ["DELETE", "PATCH", "OPTIONS"]) {
      check(`${method} on the boot path: 405 with Allow`, async () => {
        const reply = await http(d.url, { method, from: "127.0.0.9" });
        expect(reply.status).toBe(405);
        expect(reply.headers.allow).toBe("HEAD, GET, POST, PUT");
      });
    }

    check("an unknown method is refused without reaching the queue", async () => {
      const probe = await rawClient((s) => s.write("BREW /dispatch HTTP/1.1\r\nHost: x\r\n\r\n"), "127.0.0.11");
      expect(probe.received).toMatch(/^HTTP\/1\.1 (400|405)/);
      expect((await status(d.port)).every((j) => j.ip !== "127.0.0.11")).toBe(true);
    });

    check("unknown paths: 404; malformed Range: 416", async () => {
      expect((await http(`http://127.0.0.1:${d.port}/dispatch/../etc/passwd`, { from: "127.0.0.9" })).status).toBe(404);
      expect((await http(`http://127.0.0.1:${d.port}/boot`, { from: "127.0.0.9" })).status).toBe(404);
      const range = await http(d.url, { from: "127.0.0.10", headers: { range: "bytes=abc" } });
      expect(range.status).toBe(416);
    });
  });
}
