import { once } from "node:events";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { ServeOptions, Server } from "./types.ts";

/**
 * A fetch-style server on `node:http`. Bun uses it instead of Bun.serve because Bun.serve drops
 * the Content-Length of a streamed body and sends it chunked (oven-sh/bun#10507); the firmware
 * and the Range answers need the real length. On an upstream error the connection is destroyed,
 * so a client never mistakes a cut stream for a complete one.
 */
export async function serveNodeHttp({ hostname, port, fetch }: ServeOptions): Promise<Server> {
  const server = createServer((incoming, outgoing) => {
    void handle(incoming, outgoing, fetch);
  });
  // A client must send its request headers promptly; a download itself may take as long as it needs.
  server.headersTimeout = 20_000;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;
  server.listen(port, hostname);
  await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error))]);
  const address = server.address() as AddressInfo;
  return {
    hostname: address.address,
    port: address.port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(incoming: IncomingMessage, outgoing: ServerResponse, fetch: ServeOptions["fetch"]): Promise<void> {
  const aborted = new AbortController();
  outgoing.once("close", () => {
    if (!outgoing.writableFinished) aborted.abort(new Error("client closed the connection"));
  });
  let response: Response;
  try {
    response = await fetch(toRequest(incoming, aborted.signal), incoming.socket.remoteAddress ?? "");
  } catch (error) {
    outgoing.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`internal error: ${(error as Error).message}\n`);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = name === "set-cookie" ? response.headers.getSetCookie() : value;
  });
  outgoing.writeHead(response.status, response.statusText, headers);
  if (!response.body || incoming.method === "HEAD") {
    await response.body?.cancel();
    outgoing.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!outgoing.write(value)) await drained(outgoing);
      if (outgoing.destroyed) throw new Error("client closed the connection");
    }
    outgoing.end();
  } catch {
    await reader.cancel().catch(() => {});
    // Break the connection: with Content-Length set, the client sees a short body as an error.
    outgoing.destroy();
  }
}

/**
 * Resolves once the client has taken the buffered bytes, or is gone. Both listeners are removed
 * either way: a download waits here once per chunk, and listeners left behind (as with
 * `Promise.race` over two `once`) pile up by the thousand and slow every later write.
 */
function drained(outgoing: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (outgoing.destroyed) return resolve();
    const done = () => {
      outgoing.off("drain", done);
      outgoing.off("close", done);
      resolve();
    };
    outgoing.on("drain", done);
    outgoing.on("close", done);
  });
}

function toRequest(incoming: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const url = new URL(incoming.url ?? "/", `http://${headers.get("host") ?? "localhost"}`);
  const method = incoming.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, {
    method,
    headers,
    signal,
    body: hasBody ? (Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>) : undefined,
    // @ts-expect-error: `duplex` is required for streamed request bodies but not yet in the DOM types.
    duplex: "half",
  });
}
