import { contentRange, parseRange, rangeNotSatisfiable } from "./range.ts";

/** Serves bytes held in memory (poweroff.efi), HEAD and Range included. */
export function serveBytes(bytes: Uint8Array<ArrayBuffer>, contentType: string, method: string, rangeHeader: string | undefined): Response {
  const size = bytes.byteLength;
  const headers = new Headers({ "content-type": contentType, "accept-ranges": "bytes" });
  if (method === "HEAD") {
    headers.set("content-length", String(size));
    return new Response(null, { status: 200, headers });
  }
  const range = parseRange(rangeHeader, size);
  switch (range.kind) {
    case "full":
      return new Response(bytes, { status: 200, headers });
    case "partial":
      headers.set("content-range", contentRange(range, size));
      return new Response(bytes.subarray(range.start, range.end + 1), { status: 206, headers });
    case "unsatisfiable":
      return rangeNotSatisfiable(range.why, size);
    default:
      return range satisfies never;
  }
}
