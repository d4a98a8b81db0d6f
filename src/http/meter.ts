import { fillableOf, withFillable } from "../runtime/fillable.ts";
import { handOver, isHandedOver } from "../runtime/handed-over.ts";

export type MeterHooks = {
  /** Bytes that left towards the client; called at most every `everyMs`, and once at the end. */
  readonly progress: (bytes: number) => void;
  /** The body ended: `error` is undefined when the upstream finished cleanly; `upstream` says whose fault it was. */
  readonly end: (sent: number, error?: string, upstream?: boolean) => void;
  readonly now: () => number;
  readonly everyMs: number;
};

/**
 * Passes an upstream body through untouched while counting it. Upstream errors are passed on
 * as errors, so the server's connection breaks instead of ending as a short "complete" body.
 * Chunks handed over by the upstream (runtime/handed-over.ts) are handed over still.
 */
export function meter(body: ReadableStream<Uint8Array>, hooks: MeterHooks): ReadableStream<Uint8Array> {
  // Taken before the stream is locked by our reader; the server reads one form or the other.
  const source = fillableOf(body);
  const reader = body.getReader();
  let sent = 0;
  let unreported = 0;
  let lastReport = hooks.now();
  let ended = false;
  const finish = (error?: string, upstream?: boolean) => {
    if (ended) return;
    ended = true;
    if (unreported > 0) hooks.progress(unreported);
    hooks.end(sent, error, upstream);
  };
  const count = (bytes: number) => {
    sent += bytes;
    unreported += bytes;
    // Progress goes to the store in batches: a state update per chunk would cost throughput.
    const now = hooks.now();
    if (now - lastReport >= hooks.everyMs) {
      hooks.progress(unreported);
      unreported = 0;
      lastReport = now;
    }
  };
  const metered = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        finish((error as Error).message || String(error), true);
        controller.error(error);
        return;
      }
      if (chunk.done) {
        finish();
        controller.close();
        return;
      }
      count(chunk.value.byteLength);
      controller.enqueue(chunk.value);
    },
    cancel(reason) {
      finish(clientWentAway(reason), false);
      return reader.cancel(reason);
    },
    // Pulled only when read. With a fillable source, a read ahead would take bytes from it that
    // the server's buffers never get; with a fetched body, it would hold one more chunk (up to
    // 512 KiB) per download for nothing, since fetch keeps its own buffer (32 slow clients: about
    // 15 MiB less at the peak).
  }, { highWaterMark: 0 });
  if (isHandedOver(body)) handOver(metered);
  if (!source) return metered;
  // The same count over the fillable form: the server's buffers are filled straight from the source.
  return withFillable(metered, {
    async fill(into) {
      let read: number;
      try {
        read = await source.fill(into);
      } catch (error) {
        finish((error as Error).message || String(error), true);
        throw error;
      }
      if (read === 0) finish();
      else count(read);
      return read;
    },
    close(reason) {
      if (reason !== undefined) finish(clientWentAway(reason), false);
      source.close(reason);
    },
  });
}

const clientWentAway = (reason: unknown) => `client went away${reason ? ` (${String(reason)})` : ""}`;
