// Single-range `Range: bytes=...` handling for the storage host (RFC 9110 §14, S3 behaviour).

export type RangeResult =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

/**
 * - no header, another unit, or a syntactically invalid header → full body (the header is ignored);
 * - several ranges → full body (S3 does not do multipart/byteranges);
 * - `a-b`, `a-`, `-n` → 206 with `end` clamped to size-1;
 * - first byte beyond the end, or `-0`, or any range on an empty object → 416.
 */
export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (!header) return { kind: "full" };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return { kind: "full" };
  const spec = m[1]!.trim();
  if (spec.includes(",")) return { kind: "full" };
  const r = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
  if (!r) return { kind: "full" };
  const [, a, b] = r as unknown as [string, string, string];
  if (a === "" && b === "") return { kind: "full" };
  if (a === "") {
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== "" && Number(b) < start) return { kind: "full" };
  if (start >= size) return { kind: "unsatisfiable" };
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  return { kind: "partial", start, end };
}
