import type { DispatchEvent } from "../core/events.ts";
import type { Log } from "../core/log.ts";
import type { AppendFile } from "../runtime/types.ts";
import { eventLine } from "./format.ts";

export type Journal = {
  /** Queues an event; it reaches the file soon, and the disk when someone waits for `durable`. */
  append(event: DispatchEvent): void;
  /** Resolves once every event appended so far is on the disk; rejects if the disk refused it. */
  durable(): Promise<void>;
  /** Writes and flushes what is queued, then closes the file. */
  close(): Promise<void>;
};

export type WriterDeps = {
  readonly file: AppendFile;
  /** Cuts the file back to `bytes` after a failed write, so a torn line never sits mid-journal. */
  readonly truncate: (bytes: number) => Promise<void>;
  /** File length so far. */
  readonly bytes: number;
  readonly log: Log;
};

type Waiter = { readonly upTo: number; resolve(): void; reject(error: Error): void };

/**
 * Appends events as JSON lines. Writes are batched; a flush to the disk (fdatasync) happens
 * only when an answer waits on it, so one flush covers every event written before it and a
 * busy run costs one flush per answer at most, not one per event.
 */
export function journalWriter(deps: WriterDeps): Journal {
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let appended = 0;
  let written = 0;
  let synced = 0;
  let bytes = deps.bytes;
  let waiters: Waiter[] = [];
  let running: Promise<void> | undefined;
  let lastError: string | undefined;

  const settle = () => {
    const ready = waiters.filter((w) => w.upTo <= synced);
    waiters = waiters.filter((w) => w.upTo > synced);
    for (const w of ready) w.resolve();
  };

  const fail = (error: unknown) => {
    const message = (error as Error).message ?? String(error);
    if (message !== lastError) deps.log.warn(`cannot write the journal: ${message}; answers that need it fail until it works again`);
    lastError = message;
    const failed = waiters;
    waiters = [];
    for (const w of failed) w.reject(new Error(`the journal could not be written: ${message}`));
  };

  const loop = async () => {
    for (;;) {
      if (pending.length > 0) {
        const batch = pending;
        pending = [];
        const data = encoder.encode(batch.join(""));
        try {
          await deps.file.write(data);
        } catch (error) {
          // Keep the lines for the next attempt, and leave no half line behind.
          pending = [...batch, ...pending];
          await deps.truncate(bytes).catch(() => {});
          return fail(error);
        }
        bytes += data.byteLength;
        written += batch.length;
        continue;
      }
      if (waiters.length > 0 && synced < written) {
        const target = written;
        try {
          await deps.file.sync();
        } catch (error) {
          return fail(error);
        }
        synced = target;
        if (lastError) deps.log.warn("the journal is written again");
        lastError = undefined;
        settle();
        continue;
      }
      settle();
      return;
    }
  };

  const kick = () => {
    running ??= loop().finally(() => {
      running = undefined;
      // Work that arrived while the loop was finishing.
      if (pending.length > 0 && !lastError) kick();
    });
    return running;
  };

  const durable = (): Promise<void> => {
    const upTo = appended;
    if (synced >= upTo) return Promise.resolve();
    const wait = new Promise<void>((resolve, reject) => waiters.push({ upTo, resolve, reject }));
    void kick();
    return wait;
  };

  return {
    durable,
    append(event) {
      pending.push(eventLine(event));
      appended++;
      if (!lastError) void kick();
    },
    async close() {
      await running;
      if (pending.length > 0 || synced < written) await durable().catch(() => {});
      await deps.file.close();
    },
  };
}
