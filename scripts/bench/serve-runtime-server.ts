// One streaming server for scripts/bench-serve-runtimes.ts, under Bun or Deno:
//   <runtime> scripts/bench/serve-runtime-server.ts node-http|deno-serve BYTES
// Serves BYTES of fresh 64 KiB chunks with a Content-Length, as dispatch streams an asset, and
// prints "PORT n" once listening. Runs until killed.
import { serveNodeHttp } from "../../src/runtime/node-http.ts";

const [how, bytesArg] = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const total = Number(bytesArg);
const chunk = 64 * 1024;
const respond = () => {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(chunk, total - sent);
      sent += size;
      controller.enqueue(new Uint8Array(size));
    },
  });
  return new Response(body, { headers: { "content-length": String(total), "content-type": "application/octet-stream" } });
};

type DenoServe = (options: { hostname: string; port: number; onListen(): void }, handler: () => Response) => { addr: { port: number } };
if (how === "deno-serve") {
  const { serve } = (globalThis as unknown as { Deno: { serve: DenoServe } }).Deno;
  console.log(`PORT ${serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, respond).addr.port}`);
} else if (how === "node-http") {
  console.log(`PORT ${(await serveNodeHttp({ hostname: "127.0.0.1", port: 0, fetch: respond })).port}`);
} else {
  throw new Error(`unknown server ${how}: node-http or deno-serve`);
}
