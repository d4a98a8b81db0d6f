import { once } from "node:events";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Readable } from "node:stream";
import { type ServeLimits, type ServeOptions, type Server, serveLimits } from "./types.ts";

/**
 * A fetch-style server on `node:http`, for both runtimes (bun/serve.ts and deno/serve.ts say why
 * each uses it). On an upstream error the connection is destroyed, so a client never mistakes a
 * cut stream for a complete one.
 */
export async function serveNodeHttp({ hostname, port, fetch, limits }: ServeOptions): Promise<Server> {
  const limit: ServeLimits = { ...serveLimits, ...limits };
  const server = createServer({ maxHeaderSize: limit.maxHeaderBytes }, (incoming, outgoing) => {
    void handle(incoming, outgoing, fetch, limit);
  });
  // Bun's (1.4.5) and Deno's (2.9.6) node:http enforce maxHeaderSize but not headersTimeout or
  // requestTimeout: a client that connects and sends nothing, or trickles its headers, is kept
  // forever (test/http/hostile.test.ts). So the deadlines are kept here, per connection.
  server.requestTimeout = 0;
  server.on("connection", (socket: Socket) => deadline(socket, limit.headersTimeoutMs));
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

const deadlines = new WeakMap<Socket, ReturnType<typeof setTimeout>>();

/** Closes the connection unless `clear` is called within `ms`; replaces any earlier deadline. */
function deadline(socket: Socket, ms: number): void {
  clear(socket);
  const timer = setTimeout(() => socket.destroy(), ms);
  timer.unref?.();
  deadlines.set(socket, timer);
}

function clear(socket: Socket): void {
  clearTimeout(deadlines.get(socket));
  deadlines.delete(socket);
}

async function handle(incoming: IncomingMessage, outgoing: ServerResponse, fetch: ServeOptions["fetch"], limit: ServeLimits): Promise<void> {
  const socket = incoming.socket;
  clear(socket);
  const hasBody = incoming.headers["content-length"] !== undefined || incoming.headers["transfer-encoding"] !== undefined;
  if (hasBody && !incoming.complete) {
    // A large declared body (a whole log in a report, read as fast as it can be parsed) gets a
    // millisecond more per KiB, about 1 MiB/s: a trickling client is still cut off in time.
    const declared = Number(incoming.headers["content-length"]) || 0;
    deadline(socket, limit.bodyTimeoutMs + Math.floor(declared / 1024));
    incoming.once("end", () => clear(socket));
  }
  // The next request on a kept-alive connection gets the same time for its headers.
  outgoing.once("finish", () => {
    if (!socket.destroyed) deadline(socket, limit.headersTimeoutMs);
  });
  const maxBody = incoming.method === "PUT" ? limit.maxReportBytes : limit.maxBodyBytes;
  if (Number(incoming.headers["content-length"]) > maxBody) {
    outgoing.writeHead(413, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end(`request body over ${maxBody} bytes\n`);
    return;
  }

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
  // Without a reason phrase Deno's node:http sends "HTTP/1.1 200 " where Bun fills in "OK".
  if (response.statusText) outgoing.writeHead(response.status, response.statusText, headers);
  else outgoing.writeHead(response.status, headers);
  if (!response.body || incoming.method === "HEAD") {
    await response.body?.cancel();
    outgoing.end();
    return;
  }
  // The status and headers go out now, as decided: node:http would hold them until the first
  // body chunk, so an upstream that fails before its first byte would leave the client no answer.
  outgoing.flushHeaders();
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!outgoing.write(value)) await writeRoom(outgoing, limit.writeStallMs);
      if (outgoing.destroyed) throw new Error("client closed the connection");
    }
    outgoing.end();
  } catch {
    await reader.cancel().catch(() => {});
    // Break the connection: with Content-Length set, the client sees a short body as an error.
    outgoing.destroy();
  }
}

/** Waits until the client reads again; one that stops reading for `ms` is cut off. */
function writeRoom(outgoing: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (outgoing.destroyed) return resolve();
    // Plain listeners, removed on every outcome: a long download waits here thousands of times.
    const done = () => {
      clearTimeout(timer);
      outgoing.off("drain", done);
      outgoing.off("close", done);
      resolve();
    };
    const timer = setTimeout(() => {
      // A reset, not a close: a client that reads nothing would never see our FIN.
      if (outgoing.socket) outgoing.socket.resetAndDestroy();
      else outgoing.destroy();
      done();
    }, ms);
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
