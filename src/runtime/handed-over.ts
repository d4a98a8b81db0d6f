/**
 * Response bodies whose chunks are handed over for good: whoever made a chunk keeps no reference
 * to it (a fetched body; a stream that passes such chunks on, such as the meter). Once node:http has called back for a chunk's write, it is done with
 * it too, so the server frees the chunk's memory then instead of leaving it to the garbage
 * collector: with 32 downloads at 20 MB/s, chunks waiting for a collection were a large part of
 * dispatch's peak memory. A body made from shared bytes (poweroff.efi) is never marked.
 */
const handedOver = new WeakSet<ReadableStream<Uint8Array>>();

/** Marks `stream` as handing its chunks over; returns it. */
export function handOver(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  handedOver.add(stream);
  return stream;
}

/** Marks a fetched response's body as handing its chunks over (fetch keeps none); returns the response. */
export function handOverBody(response: Response): Response {
  if (response.body) handOver(response.body);
  return response;
}

export function isHandedOver(stream: ReadableStream<Uint8Array>): boolean {
  return handedOver.has(stream);
}

/**
 * Frees a chunk's memory by detaching its buffer, when the chunk is the whole buffer. Only after
 * its write has called back: before that, node:http may still hold it in a queue of its own (a
 * chunk freed as soon as `write` returned once arrived corrupted).
 */
export function release(chunk: Uint8Array): void {
  // `transfer` is ES2024: in both runtimes, not yet in the compiler's lib.
  const buffer = chunk.buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer };
  if (buffer instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === buffer.byteLength) buffer.transfer(0);
}
