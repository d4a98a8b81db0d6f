import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { type Fillable, withFillable } from "../../src/runtime/fillable.ts";
import { serveNodeHttp } from "../../src/runtime/node-http.ts";
import { type DispatchProcess, type Launch, startDispatchProcess } from "../support/dispatch-process.ts";
import { http } from "../support/http-client.ts";
import { pausingGet } from "../support/pausing-get.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { until } from "../support/until.ts";
import { pattern } from "../support/workloads.ts";
import { denoLaunch } from "./deno-launch.ts";

// A body with a fillable form (a --dir file) is sent from buffers the server reuses, not as a
// fresh chunk per read: that copy and allocation per MiB was most of what --dir cost per byte.

const size = 16 * 1024 * 1024 + 5; // far more than the socket buffers: writes wait for the client

/** A body of `data` with a fillable form that records the buffers it was given; its stream must never be read. */
function recordedBody(data: Uint8Array, failAt?: number) {
  let position = 0;
  const buffers = new Set<ArrayBufferLike>();
  const closes: unknown[] = [];
  let streamPulled = false;
  const stream = new ReadableStream<Uint8Array>({ pull: () => void (streamPulled = true) }, { highWaterMark: 0 });
  const source: Fillable = {
    async fill(into) {
      buffers.add(into.buffer);
      if (failAt !== undefined && position >= failAt) throw new Error("the file changed");
      const n = Math.min(into.byteLength, data.byteLength - position);
      into.set(data.subarray(position, position + n));
      position += n;
      return n;
    },
    close: (reason) => void closes.push(reason),
  };
  return { stream: withFillable(stream, source), buffers, closes, streamPulled: () => streamPulled };
}

describe("node:http with a fillable body", () => {
  test("sends it from a few reused buffers, intact against a client that pauses; the stream is never read", async () => {
    const data = pattern(size, 3);
    const body = recordedBody(data);
    const server = await serveNodeHttp({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body.stream, { headers: { "content-length": String(size) } }) });
    try {
      const got = await pausingGet(server.port);
      expect(got.complete).toBe(true);
      expect(got.body.equals(Buffer.from(data))).toBe(true);
      // 17 fills of 1 MiB, through at most a handful of buffers (two kept, a new one only when a write calls back late).
      expect(body.buffers.size).toBeLessThanOrEqual(4);
      expect(body.streamPulled()).toBe(false);
      expect(body.closes).toEqual([undefined]);
    } finally {
      await server.stop();
    }
  }, 60_000);

  test("a fill that fails breaks the connection, and the body is closed with the error", async () => {
    const body = recordedBody(pattern(size, 4), 4 * 1024 * 1024);
    const server = await serveNodeHttp({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body.stream, { headers: { "content-length": String(size) } }) });
    try {
      const got = await pausingGet(server.port);
      expect(got.complete).toBe(false);
      expect(got.body.length).toBeLessThan(size);
      expect(String(body.closes)).toContain("the file changed");
    } finally {
      await server.stop();
    }
  }, 60_000);

  test("a client that leaves mid-download closes the body with a reason", async () => {
    const body = recordedBody(pattern(size, 5));
    const server = await serveNodeHttp({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body.stream, { headers: { "content-length": String(size) } }) });
    try {
      await new Promise<void>((resolve) => {
        const req = request({ host: "127.0.0.1", port: server.port, path: "/", agent: false }, (res) => res.once("data", () => req.destroy()));
        req.on("error", () => {});
        req.on("close", resolve);
        req.end();
      });
      await until(() => body.closes.length > 0, "the body closed");
      expect(body.closes).toHaveLength(1);
      expect(String(body.closes[0])).toContain("client closed the connection");
    } finally {
      await server.stop();
    }
  }, 60_000);
});

// The same through the real CLI, as a firmware gets it: every byte of the file, and the
// progress count whole, under both runtimes (Deno's node:http takes the same path).
const root = join(import.meta.dir, "../..");
const bun = (): Launch => ({ command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" } });
const processes: DispatchProcess[] = [];
const temp = tempDirs();
afterEach(async () => {
  await Promise.all(processes.splice(0).map((d) => d.stop()));
  temp.removeAll();
});

for (const runtime of ["bun", "deno"] as const) {
  test(`dispatch --dir under ${runtime}: a Range and the whole file to a pausing client, every byte, counted in the status`, async () => {
    const launch = runtime === "bun" ? bun() : denoLaunch();
    if (!launch) return;
    const dir = temp.make("dispatch-fillable-");
    const out = join(dir, "out");
    mkdirSync(out);
    const data = pattern(size, 6);
    writeFileSync(join(out, "big.iso"), data);
    const d = await startDispatchProcess(launch, ["--dir", out, "--reports", join(dir, "reports"), "--state", join(dir, "state"), "--bind", "127.0.0.1:0", "--no-mdns", "--log-format", "plain"]);
    processes.push(d);
    const { port } = new URL(d.url);
    // The Range first: once the whole file is in, the job is done and this address gets poweroff.efi.
    const part = await http(d.url, { from: "127.0.0.2", headers: { range: "bytes=1048570-3145740" } });
    expect(part.status).toBe(206);
    expect(Buffer.from(part.body).equals(Buffer.from(data.subarray(1048570, 3145741)))).toBe(true);
    const whole = await pausingGet(Number(port), "127.0.0.2", "/dispatch");
    expect(whole.complete).toBe(true);
    expect(whole.body.equals(Buffer.from(data))).toBe(true);
    const job = async () => ((await (await fetch(new URL("/api/status", d.url))).json()) as { jobs: { name: string; bytes: number }[] }).jobs.find((j) => j.name === "big.iso");
    await until(async () => (await job())?.bytes === size + 3145741 - 1048570, "both downloads counted whole");
  }, 60_000);
}
