/**
 * A response body that can fill buffers the server owns. A ReadableStream hands over a fresh
 * chunk per read, and each chunk costs an allocation, its page faults and a pass through the
 * stream machinery: for a local file that was most of what `--dir` spent per byte. A body that
 * has one (a file's bytes, and the meter counting them) registers it beside its stream; the
 * node:http adapter then reads into two buffers it reuses, and nothing else reads the stream.
 * Whoever cannot use it (app.request() in tests, any other consumer) reads the stream as usual.
 */
export type Fillable = {
  /** Reads the next bytes into `into` (up to its length); 0 at the end. A rejection breaks the download. */
  fill(into: Uint8Array): Promise<number>;
  /** Called once when the server is done with the body: with the reason when it stopped before the end. */
  close(reason?: unknown): void;
};

const fillables = new WeakMap<ReadableStream<Uint8Array>, Fillable>();

/** Registers `source` as the fillable form of `stream`; returns the stream. */
export function withFillable(stream: ReadableStream<Uint8Array>, source: Fillable): ReadableStream<Uint8Array> {
  fillables.set(stream, source);
  return stream;
}

/** The fillable form of a body, if it has one and its stream has not been read. */
export function fillableOf(stream: ReadableStream<Uint8Array> | null): Fillable | undefined {
  if (!stream || stream.locked) return undefined;
  return fillables.get(stream);
}
