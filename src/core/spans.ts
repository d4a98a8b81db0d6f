/** A half-open byte range [start, end) of an asset that reached a server. */
export type Span = readonly [start: number, end: number];

/** Adds a span to a sorted list of disjoint spans, merging overlaps and neighbours. */
export function addSpan(spans: readonly Span[], span: Span): readonly Span[] {
  if (span[1] <= span[0]) return spans;
  const merged: Span[] = [];
  let [start, end] = span;
  for (const s of spans) {
    if (s[1] < start || s[0] > end) merged.push(s);
    else [start, end] = [Math.min(start, s[0]), Math.max(end, s[1])];
  }
  merged.push([start, end]);
  return merged.sort((a, b) => a[0] - b[0]);
}

/** Every byte of a `size`-byte asset has been delivered, over however many requests. */
export function coversAll(spans: readonly Span[], size: number): boolean {
  return size === 0 || (spans.length === 1 && spans[0]![0] === 0 && spans[0]![1] >= size);
}
