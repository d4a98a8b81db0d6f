/** What a request's `Range` header asks of a representation of `size` bytes. */
export type RangeRequest =
  | { readonly kind: "full" }
  | { readonly kind: "partial"; readonly start: number; readonly end: number } // inclusive end, as on the wire
  | { readonly kind: "unsatisfiable"; readonly why: string };

const single = /^bytes=(\d*)-(\d*)$/;

/**
 * RFC 9110 §14.2, single ranges only. Several ranges are answered with the whole body (which
 * the RFC allows); a malformed or out-of-bounds range is refused, so a broken client learns of it.
 */
export function parseRange(header: string | null | undefined, size: number): RangeRequest {
  if (header == null) return { kind: "full" };
  const value = header.trim();
  if (/^bytes=.*,/.test(value)) return { kind: "full" };
  const match = single.exec(value);
  if (!match) return { kind: "unsatisfiable", why: `malformed Range "${value.slice(0, 64)}": expected bytes=START-END` };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "unsatisfiable", why: `malformed Range "${value}"` };

  if (first === "") {
    // Suffix range: the last N bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return { kind: "unsatisfiable", why: `empty suffix range "${value}"` };
    return { kind: "partial", start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return { kind: "unsatisfiable", why: `range "${value}" ends before it starts` };
  if (start >= size) return { kind: "unsatisfiable", why: `range "${value}" starts past the end (${size} bytes)` };
  return { kind: "partial", start, end };
}

export function contentRange(range: { start: number; end: number }, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}

/** The 416 answer: says the real size so the client can ask again. */
export function rangeNotSatisfiable(why: string, size: number): Response {
  return new Response(`${why}\n`, {
    status: 416,
    headers: { "content-range": `bytes */${size}`, "content-type": "text/plain; charset=utf-8" },
  });
}
