import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { handOver } from "../../src/runtime/handed-over.ts";
import { serveNodeHttp } from "../../src/runtime/node-http.ts";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { type DispatchProcess, fakeGitHubFlags, type Launch, startDispatchProcess } from "../support/dispatch-process.ts";
import { pausingGet } from "../support/pausing-get.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { efi, pattern } from "../support/workloads.ts";
import { denoLaunch } from "./deno-launch.ts";

// A fetched body's chunks are freed once node:http has called back for their write
// (runtime/handed-over.ts): 32 slow downloads no longer wait on the garbage collector for that
// memory. Freeing one any earlier corrupts the download, so the bytes are checked whole.

const size = 16 * 1024 * 1024 + 7; // far more than the socket buffers: writes wait for the client

/** `data` as fresh chunks of 64–512 KiB, each a whole buffer of its own, as fetch hands them over; keeps them to look at afterwards. */
function freshChunks(data: Uint8Array) {
  const chunks: Uint8Array[] = [];
  let position = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (position >= data.byteLength) return controller.close();
      const n = Math.min(data.byteLength - position, 65_536 * (1 + (chunks.length % 8)));
      const chunk = data.slice(position, position + n);
      chunks.push(chunk);
      position += n;
      controller.enqueue(chunk);
    },
  });
  return { stream, chunks };
}

describe("node:http with a handed-over body", () => {
  test("every chunk is freed once written, and the client gets every byte", async () => {
    const data = pattern(size, 11);
    const body = freshChunks(data);
    const server = await serveNodeHttp({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(handOver(body.stream), { headers: { "content-length": String(size) } }) });
    try {
      const got = await pausingGet(server.port);
      expect(got.complete).toBe(true);
      expect(got.body.equals(Buffer.from(data))).toBe(true);
      expect(body.chunks.length).toBeGreaterThan(40);
      // Detached: their memory went back at once, not at the next collection.
      expect(body.chunks.filter((c) => c.buffer.byteLength !== 0)).toEqual([]);
    } finally {
      await server.stop();
    }
  }, 60_000);

  test("a body that is not handed over (shared bytes, such as poweroff.efi) is left whole", async () => {
    const data = pattern(size, 12);
    const body = freshChunks(data);
    const server = await serveNodeHttp({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body.stream, { headers: { "content-length": String(size) } }) });
    try {
      const got = await pausingGet(server.port);
      expect(got.body.equals(Buffer.from(data))).toBe(true);
      expect(body.chunks.every((c) => c.byteLength > 0)).toBe(true);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

// Through the real CLI on a release, as firmware gets it: several downloads at once, each client
// pausing in its own rhythm, so writes are queued, called back late and freed in every order.
const root = join(import.meta.dir, "../..");
const bun = (): Launch => ({ command: [process.execPath, "src/main.ts"], cwd: root, env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" } });
const running: (DispatchProcess | FakeGitHub)[] = [];
const temp = tempDirs();
afterEach(async () => {
  for (const p of running.splice(0).reverse()) await p.stop();
  temp.removeAll();
});

for (const runtime of ["bun", "deno"] as const) {
  test(`a release under ${runtime}: six downloads at once, pausing clients, every byte of every asset`, async () => {
    const launch = runtime === "bun" ? bun() : denoLaunch();
    if (!launch) return;
    const assets = Array.from({ length: 6 }, (_, i) => efi(`w${i}.efi`, 12 * 1024 * 1024 + i, 100 + i));
    const gh = await startFakeGitHub({ releases: [{ tag: "v1", assets }] });
    running.push(gh);
    const d = await startDispatchProcess({ ...launch, env: { ...launch.env, GITHUB_TOKEN: gh.token } }, [
      ...fakeGitHubFlags(gh),
      "--reports", temp.make("dispatch-handed-over-reports-"),
      "--log-format", "plain",
    ]);
    running.push(d);
    const rhythms = [{ every: 1, ms: 1 }, { every: 4, ms: 5 }, { every: 16, ms: 2 }, { every: 64, ms: 20 }, { every: 2, ms: 0 }, { every: 8, ms: 9 }];
    const got = await Promise.all(rhythms.map((pause, i) => pausingGet(d.port, `127.0.0.${20 + i}`, "/dispatch", pause)));
    // Each address was handed the next job in the queue; whichever it was, it must be whole.
    const names = got.map((g) => {
      expect(g.complete).toBe(true);
      const asset = assets.find((a) => a.data.byteLength === g.body.byteLength);
      expect(asset).toBeDefined();
      expect(g.body.equals(Buffer.from(asset!.data))).toBe(true);
      return asset!.name;
    });
    expect(names.toSorted()).toEqual(assets.map((a) => a.name));
  }, 120_000);
}
