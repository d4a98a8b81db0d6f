import { once } from "node:events";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Readable } from "node:stream";
import { type Fillable, fillableOf } from "./fillable.ts";
import { isHandedOver, release } from "./handed-over.ts";
import { type InFlight, type ServeLimits, type ServeOptions, type Server, type StopGrace, serveLimits } from "./types.ts";

/**
 * A fetch-style server on `node:http`, for both runtimes (bun/serve.ts and deno/serve.ts say why
 * each uses it). On an upstream error the connection is destroyed, so a client never mistakes a
 * cut stream for a complete one.
 */
export async function serveNodeHttp({ hostname, port, fetch, limits }: ServeOptions): Promise<Server> {
  const limit: ServeLimits = { ...serveLimits, ...limits };
  const sockets = new Set<Socket>();
  /** Requests that carry a body, until their answer is sent: what a stop waits for. */
  const inFlight = new Map<ServerResponse, InFlight>();
  const stopping = { now: false };
  const server = createServer({ maxHeaderSize: limit.maxHeaderBytes }, (incoming, outgoing) => {
    void handle(incoming, outgoing, fetch, limit, { inFlight, stopping });
  });
  // Bun's (1.4.5) and Deno's (2.9.6) node:http enforce maxHeaderSize but not headersTimeout or
  // requestTimeout: a client that connects and sends nothing, or trickles its headers, is kept
  // forever (test/http/hostile.test.ts). So the deadlines are kept here, per connection.
  server.requestTimeout = 0;
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    deadline(socket, limit.headersTimeoutMs);
  });
  server.listen(port, hostname);
  await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error))]);
  const address = server.address() as AddressInfo;
  return {
    hostname: address.address,
    port: address.port,
    async stop(grace?: StopGrace) {
      stopping.now = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Downloads, status feeds and idle connections go now; connections carrying a request
      // with a body (a report arriving) are left to finish while the grace lasts.
      const busy = new Set([...inFlight.keys()].map((outgoing) => outgoing.socket));
      for (const socket of sockets) if (!busy.has(socket)) socket.destroy();
      if (grace && inFlight.size > 0 && !grace.signal.aborted) {
        grace.waiting([...inFlight.values()]);
        await new Promise<void>((resolve) => {
          const check = () => inFlight.size === 0 && done();
          const done = () => {
            clearInterval(poll);
            grace.signal.removeEventListener("abort", done);
            resolve();
          };
          // Each answer leaves `inFlight` on its own time; a short poll is simpler than a listener per request.
          const poll = setInterval(check, 50);
          grace.signal.addEventListener("abort", done);
          check();
        });
      }
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await closed;
    },
  };
}

const deadlines = new WeakMap<Socket, ReturnType<typeof setTimeout>>();

/** Runs `expire` (by default: closes the connection) unless `clear` is called within `ms`; replaces any earlier deadline. */
function deadline(socket: Socket, ms: number, expire: () => void = () => socket.destroy()): void {
  clear(socket);
  const timer = setTimeout(expire, ms);
  timer.unref?.();
  deadlines.set(socket, timer);
}

function clear(socket: Socket): void {
  clearTimeout(deadlines.get(socket));
  deadlines.delete(socket);
}

type ServerState = { readonly inFlight: Map<ServerResponse, InFlight>; readonly stopping: { readonly now: boolean } };

async function handle(incoming: IncomingMessage, outgoing: ServerResponse, fetch: ServeOptions["fetch"], limit: ServeLimits, server: ServerState): Promise<void> {
  const socket = incoming.socket;
  clear(socket);
  const hasBody = incoming.headers["content-length"] !== undefined || incoming.headers["transfer-encoding"] !== undefined;
  const carriesBody = incoming.method !== "GET" && incoming.method !== "HEAD";
  if (server.stopping.now) {
    // A request on a connection kept while a report finishes: beacon sends it again later.
    outgoing.writeHead(503, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end("dispatch is stopping; send it again\n");
    return;
  }
  if (carriesBody) {
    server.inFlight.set(outgoing, { method: incoming.method ?? "", path: incoming.url ?? "/", remoteAddress: socket.remoteAddress ?? "" });
    // Answered (a kept-alive connection stays open after it) or gone, whichever comes first.
    const done = () => server.inFlight.delete(outgoing);
    outgoing.once("finish", done);
    outgoing.once("close", done);
  }
  const cutBody = (why: string) => answerAndClose(outgoing, 408, `${why}; send it again\n`);
  if (hasBody && !incoming.complete) {
    // The body as a whole gets a generous cap; its silences are judged as it is read (see `watched`).
    const minutes = limit.bodyTotalMs / 60_000;
    deadline(socket, limit.bodyTotalMs, () => cutBody(`request body not complete after ${minutes >= 1 ? `${+minutes.toFixed(1)} min` : `${limit.bodyTotalMs / 1000} s`}`));
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
    const body = carriesBody ? watched(Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>, limit.bodyIdleMs, cutBody) : undefined;
    response = await fetch(toRequest(incoming, body, aborted.signal), incoming.socket.remoteAddress ?? "");
  } catch (error) {
    if (!outgoing.headersSent) outgoing.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`internal error: ${(error as Error).message}\n`);
    return;
  }
  if (outgoing.headersSent) {
    // Already answered: the body was cut off (408) while the app read it.
    await response.body?.cancel().catch(() => {});
    return;
  }
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = name === "set-cookie" ? response.headers.getSetCookie() : value;
  });
  // A stop is waiting for this answer: the connection ends with it.
  if (server.stopping.now) headers.connection = "close";
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
  const source = fillableOf(response.body);
  if (source) return sendFilled(outgoing, source, limit.writeStallMs);
  // A handed-over chunk is freed once written (runtime/handed-over.ts); any other is left alone.
  const written = isHandedOver(response.body) ? release : undefined;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!outgoing.write(value, written && (() => written(value)))) await writeRoom(outgoing, limit.writeStallMs);
      if (outgoing.destroyed) throw new Error("client closed the connection");
    }
    outgoing.end();
  } catch {
    await reader.cancel().catch(() => {});
    // Break the connection: with Content-Length set, the client sees a short body as an error.
    outgoing.destroy();
  }
}

/** Bytes per buffer of a fillable body: a read and a write per MiB cost little next to the copies. */
const fillBytes = 1024 * 1024;

/**
 * Sends a fillable body (runtime/fillable.ts) through buffers used again and again: a buffer is
 * filled again only once its write has called back (node:http may hold it until then). The
 * next buffer is filled while the last one is written, so the disk read (on the runtime's
 * thread pool) and the socket write (on this thread) overlap. Should a callback be late, a new
 * buffer is taken rather than waiting on it; at most two are kept. Ends or breaks the
 * connection as the stream path does.
 */
async function sendFilled(outgoing: ServerResponse, source: Fillable, writeStallMs: number): Promise<void> {
  const free: Buffer[] = [];
  const reuse = (buffer: Buffer) => {
    if (free.length < 2) free.push(buffer);
  };
  const fillNext = () => {
    const buffer = free.pop() ?? Buffer.allocUnsafe(fillBytes);
    return source.fill(buffer).then((read) => ({ buffer, read }));
  };
  let next: ReturnType<typeof fillNext> | undefined;
  try {
    next = fillNext();
    for (;;) {
      const { buffer, read } = await next;
      next = undefined;
      if (read === 0) break;
      next = fillNext();
      // Settled (and its error taken) at the next turn, or when the download is abandoned.
      next.catch(() => {});
      if (!outgoing.write(read === buffer.byteLength ? buffer : buffer.subarray(0, read), () => reuse(buffer))) await writeRoom(outgoing, writeStallMs);
      if (outgoing.destroyed) throw new Error("client closed the connection");
    }
    outgoing.end();
    source.close();
  } catch (error) {
    // A read still under way finishes before the source is closed under it.
    await next?.catch(() => {});
    source.close(error);
    outgoing.destroy();
  }
}

/**
 * Answers a request whose body will not be read to its end, then closes the connection (the
 * rest of the body is not wanted). A client that reads nothing is cut off a moment later.
 */
function answerAndClose(outgoing: ServerResponse, status: number, text: string): void {
  const socket = outgoing.socket;
  const close = () => void socket?.destroy();
  if (outgoing.headersSent) return close();
  outgoing.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end(text);
  outgoing.once("finish", close);
  setTimeout(close, 1000).unref?.();
}

/**
 * A request body whose silences are timed: only while the app waits for the next bytes, so an
 * app that is busy (writing a report to the disk) never counts against the client. No bytes
 * for `idleMs` cuts the request (`cut`) and fails the read.
 */
function watched(body: ReadableStream<Uint8Array>, idleMs: number, cut: (why: string) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const silence = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const why = `request body stopped arriving: no bytes for ${idleMs / 1000} s`;
          cut(why);
          reject(new Error(why));
        }, idleMs);
      });
      try {
        const chunk = await Promise.race([reader.read(), silence]);
        if (chunk.done) controller.close();
        else controller.enqueue(chunk.value);
      } catch (error) {
        // The underlying read is left pending: the connection's end settles it.
        controller.error(error);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
    // Pulled only when the app reads: a silence is timed only while someone waits for bytes.
  }, { highWaterMark: 0 });
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

function toRequest(incoming: IncomingMessage, body: ReadableStream<Uint8Array> | undefined, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const url = new URL(incoming.url ?? "/", `http://${headers.get("host") ?? "localhost"}`);
  return new Request(url, {
    method: incoming.method ?? "GET",
    headers,
    signal,
    body,
    // @ts-expect-error: `duplex` is required for streamed request bodies but not yet in the DOM types.
    duplex: "half",
  });
}
