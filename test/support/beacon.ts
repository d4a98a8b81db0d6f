import { connect } from "node:net";

/**
 * What the earlier dispatch's `beacon` client puts on the wire, byte for byte as far as dispatch
 * can tell (shared/notes/original-behaviour.md): `beacon boot` is a POST with no body and no
 * Content-Length, only `accept` and `host`; `beacon report` is a PUT of compact JSON in beacon's
 * field order with `content-type: application/json`. Sent over a raw socket from a chosen
 * loopback address, so no HTTP library adds headers of its own.
 */

/** `beacon report`'s flags: `-t`, `-b` (file or stdin), `-l`…, `-a`…, `-m`. */
export type BeaconReport = {
  readonly title: string;
  readonly body?: string;
  readonly labels?: readonly string[];
  readonly assignees?: readonly string[];
  readonly milestone?: string;
};

/** The JSON beacon sends: body left out when empty, lists when none were given, milestone only when -m was not given. */
export function beaconJson(report: BeaconReport): string {
  const fields: Record<string, unknown> = { title: report.title };
  if (report.body) fields.body = report.body;
  if (report.labels?.length) fields.labels = report.labels;
  if (report.assignees?.length) fields.assignees = report.assignees;
  if (report.milestone !== undefined) fields.milestone = report.milestone;
  return JSON.stringify(fields);
}

export type BeaconReply = { readonly status: number; readonly text: string };

/** `beacon boot` from `from`. */
export function beaconBoot(url: string, from: string): Promise<BeaconReply> {
  const { host, pathname } = new URL(url);
  return exchange(url, from, [`POST ${pathname} HTTP/1.1\r\naccept: */*\r\nhost: ${host}\r\n\r\n`]);
}

/** `beacon report` from `from`. */
export function beaconReport(url: string, from: string, report: BeaconReport): Promise<BeaconReply> {
  return beaconPut(url, from, beaconJson(report));
}

/** A PUT with beacon's headers and any JSON text (another client, or a newer beacon). */
export function beaconPut(url: string, from: string, json: string): Promise<BeaconReply> {
  const { host, pathname } = new URL(url);
  const body = Buffer.from(json, "utf8");
  const head = `PUT ${pathname} HTTP/1.1\r\ncontent-type: application/json\r\naccept: */*\r\nhost: ${host}\r\ncontent-length: ${body.byteLength}\r\n\r\n`;
  return exchange(url, from, [Buffer.from(head, "latin1"), body]);
}

/** Writes the request (minding backpressure), reads one response; bounded by `timeoutMs`. */
function exchange(url: string, from: string, parts: readonly (string | Buffer)[], timeoutMs = 60_000): Promise<BeaconReply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress: from });
    const timer = setTimeout(() => socket.destroy(new Error("no answer in time")), timeoutMs);
    let received = Buffer.alloc(0);
    const done = (error?: Error, reply?: BeaconReply) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply!);
    };
    socket.on("error", (error) => done(error));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = received.subarray(0, end).toString("latin1");
      const status = Number(head.split(" ")[1]);
      const rest = received.subarray(end + 4);
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
        const body = dechunk(rest);
        if (body) done(undefined, { status, text: body.toString("utf8") });
        return;
      }
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (rest.byteLength >= length) done(undefined, { status, text: rest.subarray(0, length).toString("utf8") });
    });
    socket.on("close", () => done(new Error(`connection closed before a whole answer: ${received.toString("latin1").slice(0, 200)}`)));
    socket.on("connect", async () => {
      for (const part of parts) {
        // Large bodies in 1 MiB writes, each waiting for room, as a client streaming a file would.
        const buffer = typeof part === "string" ? Buffer.from(part, "latin1") : part;
        for (let offset = 0; offset < buffer.byteLength; offset += 1 << 20) {
          if (!socket.write(buffer.subarray(offset, offset + (1 << 20)))) await new Promise((r) => socket.once("drain", r));
        }
      }
    });
  });
}

/** A chunked body once its last chunk is in, else undefined. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  for (let at = 0; ; ) {
    const line = data.indexOf("\r\n", at);
    if (line < 0) return undefined;
    const size = parseInt(data.subarray(at, line).toString("latin1"), 16);
    if (size === 0) return Buffer.concat(parts);
    if (data.byteLength < line + 2 + size + 2) return undefined;
    parts.push(data.subarray(line + 2, line + 2 + size));
    at = line + 2 + size + 2;
  }
}
