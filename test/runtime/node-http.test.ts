import { expect, test } from "bun:test";
import { request } from "node:http";
import { serveNodeHttp } from "../../src/runtime/node-http.ts";
import { until } from "../support/until.ts";

const chunk = 64 * 1024;
const chunks = 256; // 16 MiB: far more than the socket buffers, so writes wait for the client

test("a body written against backpressure arrives whole, without piling up listeners on the response", async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  process.on("warning", onWarning);
  const server = await serveNodeHttp({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === chunks) return controller.close();
          controller.enqueue(new Uint8Array(chunk).fill(sent++ & 0xff));
        },
      });
      return new Response(body, { headers: { "content-length": String(chunk * chunks) } });
    },
  });
  try {
    // A client that reads in bursts with pauses, as a slow firmware does: every pause makes the
    // server wait for "drain" again, hundreds of times over one download.
    const received = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: server.port, path: "/", agent: false }, (res) => {
        let bytes = 0;
        let reads = 0;
        res.on("data", (data: Buffer) => {
          bytes += data.length;
          if (++reads % 8 === 0) {
            res.pause();
            setTimeout(() => res.resume(), 2);
          }
        });
        res.on("end", () => resolve(bytes));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
    expect(received).toBe(chunk * chunks);
    // Give a deferred warning its turn before looking.
    await Bun.sleep(10);
    expect(warnings.filter((w) => w.includes("MaxListeners"))).toEqual([]);
  } finally {
    process.off("warning", onWarning);
    await server.stop();
  }
}, 60_000);

test("a stop does not wait for a request already answered on a kept-alive connection, only for one still arriving", async () => {
  let arrived = 0;
  const server = await serveNodeHttp({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      arrived++;
      return new Response(`got ${(await request.text()).length}\n`);
    },
  });
  const { Agent } = await import("node:http");
  const agent = new Agent({ keepAlive: true });
  try {
    const answered = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: server.port, path: "/", method: "PUT", agent }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end("hello");
    });
    expect(answered).toBe("got 5\n");
    // The connection stays open (keep-alive); a second request is still arriving.
    const arriving = request({ host: "127.0.0.1", port: server.port, path: "/", method: "PUT", agent: false, headers: { "content-length": "10" } });
    arriving.on("error", () => {});
    arriving.write("half");
    await until(() => arrived === 2, "the second request to reach the server");
    const waitedFor: string[][] = [];
    const bound = new AbortController();
    const stopped = server.stop({ signal: bound.signal, waiting: (inFlight) => waitedFor.push(inFlight.map((r) => `${r.method} ${r.path}`)) });
    // Only the one still arriving is waited for; ending the wait (a second Ctrl-C) ends the stop.
    await until(() => waitedFor.length > 0 || undefined, "the stop to say what it waits for");
    expect(waitedFor).toEqual([["PUT /"]]);
    bound.abort();
    await stopped;
  } finally {
    agent.destroy();
  }
}, 10_000);
