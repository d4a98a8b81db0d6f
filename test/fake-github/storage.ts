// The storage host: where the asset endpoint's 302 points (GitHub: objects.githubusercontent.com /
// release-assets.githubusercontent.com). Serves bytes for pre-signed URLs only.
//
// This is a node:http server (running on Bun), not Bun.serve, on purpose: Bun.serve (1.4.x) drops a
// handler-set Content-Length when the body is a ReadableStream that is not fully available
// synchronously and falls back to `Transfer-Encoding: chunked` (oven-sh/bun#10507), so a streamed,
// throttled or cut body could not carry Content-Length the way the real storage host does.
// node:http on Bun keeps Content-Length with incremental `res.write`s, applies backpressure,
// and `res.destroy()` after a short body makes a fetch client's body read reject (ECONNRESET).

import http from "node:http";
import type { AddressInfo } from "node:net";
import { takeCut, takeFault } from "./faults.ts";
import { headerRecord, type State } from "./model.ts";
import { parseRange } from "./range.ts";
import { storageErrorXml, storageFaultCode } from "./shapes.ts";
import { checkSignature, STORAGE_PREFIX } from "./signing.ts";

const CHUNK = 64 * 1024;
/**
 * Pause between the last bytes before a cut and dropping the connection. Bun's fetch client
 * discards body bytes it has received but not yet handed to the reader when the connection
 * ends in the same moment, so without the pause the client usually sees 0 bytes then the error.
 */
const CUT_GRACE_MS = 25;

export type StorageServer = { url: string; stop(): Promise<void> };

export async function startStorage(state: State): Promise<StorageServer> {
  const server = http.createServer((req, res) => {
    res.on("error", () => {});
    handle(state, req, res).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/xml" });
        res.end(storageErrorXml("InternalError", "We encountered an internal error. Please try again."));
      } else {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, state.storageHost, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${state.storageHost}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendXml(
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = storageErrorXml(code, message);
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

async function handle(state: State, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const headers = headerRecord(req.headers);
  const method = req.method ?? "GET";
  state.requests.push({ host: "storage", method, path: req.url ?? "/", headers });
  if (headers.authorization !== undefined) state.storageSawAuthorization = true;

  const url = new URL(req.url ?? "/", state.storageUrl);
  if (method !== "GET" && method !== "HEAD") {
    return sendXml(res, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
  }
  if (headers.authorization !== undefined && url.searchParams.has("X-Amz-Algorithm")) {
    // What S3 answers when a client forwards its GitHub token along with a pre-signed URL.
    return sendXml(
      res,
      400,
      "InvalidArgument",
      "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
    );
  }
  const signature = checkSignature(state, url.pathname, url.searchParams);
  if (!signature.ok) return sendXml(res, 403, signature.code, signature.message);

  const prefix = `${STORAGE_PREFIX}/${state.repoId}/`;
  const asset = url.pathname.startsWith(prefix) ? state.assetsByKey.get(url.pathname.slice(prefix.length)) : undefined;
  if (!asset) return sendXml(res, 404, "NoSuchKey", "The specified key does not exist.");

  const rule = takeFault(state.faults, "storage");
  if (rule) {
    const body = rule.body !== undefined ? String(rule.body) : storageErrorXml(...storageFaultCode(rule.status));
    res.writeHead(rule.status, {
      "content-type": "application/xml",
      "content-length": String(Buffer.byteLength(body)),
      ...rule.headers,
    });
    res.end(body);
    return;
  }

  const size = asset.data.byteLength;
  const range = parseRange(headers.range, size);
  if (range.kind === "unsatisfiable") {
    return sendXml(res, 416, "InvalidRange", "The requested range is not satisfiable", {
      "content-range": `bytes */${size}`,
    });
  }
  const start = range.kind === "partial" ? range.start : 0;
  const end = range.kind === "partial" ? range.end : size - 1;
  const length = Math.max(0, end - start + 1);
  const responseHeaders: Record<string, string> = {
    "content-type": url.searchParams.get("response-content-type") ?? asset.contentType,
    "content-length": String(length),
    "accept-ranges": "bytes",
    etag: `"${asset.md5}"`,
    "last-modified": new Date(asset.createdAt).toUTCString(),
    "x-amz-request-id": `FAKE${state.requests.length}`,
  };
  const disposition = url.searchParams.get("response-content-disposition");
  if (disposition) responseHeaders["content-disposition"] = disposition;
  if (range.kind === "partial") responseHeaders["content-range"] = `bytes ${start}-${end}/${size}`;

  res.writeHead(range.kind === "partial" ? 206 : 200, responseHeaders);
  if (method === "HEAD") {
    res.end();
    return;
  }
  asset.downloadCount += 1;
  await streamBody(state, res, asset.data.subarray(start, end + 1));
}

/** Resolves true once the chunk is handed to the socket, false if the connection closed first. */
function writeChunk(res: http.ServerResponse, chunk: Uint8Array, closed: Promise<void>): Promise<boolean> {
  return Promise.race([
    new Promise<boolean>((resolve) => res.write(chunk, (err) => resolve(!err))),
    closed.then(() => false),
  ]);
}

async function streamBody(state: State, res: http.ServerResponse, body: Uint8Array): Promise<void> {
  const cut = takeCut(state.faults, body.byteLength);
  const limit = cut ?? body.byteLength;
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    res.once("close", () => {
      isClosed = true;
      resolve();
    }),
  );

  let sent = 0;
  while (sent < limit && !isClosed) {
    // Re-read every chunk so a test can change or lift the throttle mid-download.
    const rate = state.faults.storageBytesPerSecond;
    const throttled = rate !== undefined && rate > 0;
    const size = throttled ? Math.max(1, Math.min(CHUNK, Math.floor(rate / 20))) : CHUNK;
    const n = Math.min(size, limit - sent);
    const began = performance.now();
    if (!(await writeChunk(res, body.subarray(sent, sent + n), closed))) return;
    sent += n;
    if (throttled) {
      const wait = (n / rate) * 1000 - (performance.now() - began);
      if (wait > 0) await Promise.race([Bun.sleep(wait), closed]);
    }
  }
  if (isClosed) return;
  if (cut !== undefined) {
    // Cut before any byte: the status line and headers still go out, as a storage host that
    // fails after answering does (node:http holds them back until the first write otherwise).
    if (sent === 0) res.flushHeaders();
    await Promise.race([Bun.sleep(CUT_GRACE_MS), closed]);
    res.destroy();
    return;
  }
  res.end();
}
