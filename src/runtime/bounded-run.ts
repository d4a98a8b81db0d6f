import type { RunOptions, RunResult } from "./types.ts";

/** A started child as both runtimes give it: web streams, its exit status to come, a way to signal it. */
export type SpawnedChild = {
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** The exit status, 128 + n for signal n. */
  readonly exited: Promise<number>;
  kill(signal: "SIGTERM" | "SIGKILL"): void;
};

const defaultTimeoutMs = 60_000;
const defaultMaxOutputBytes = 64 * 1024;
/** From SIGTERM to SIGKILL, and from the end of the time bound to giving up on open pipes. */
const graceMs = 2_000;

/**
 * Waits for a child within its time bound, keeping the start of its output. A child that
 * outlives the bound is stopped; pipes a grandchild still holds open (`sleep 600 &`) are let go
 * once the bound is past, so a run never waits longer than the bound and two graces.
 */
export async function boundedRun(child: SpawnedChild, options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const maxBytes = options.maxOutputBytes ?? defaultMaxOutputBytes;
  let timedOut = false;
  let truncated = false;
  let exited = false;
  const readers = [child.stdout.getReader(), child.stderr.getReader()];
  const keep = async (reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> => {
    const kept = new Uint8Array(maxBytes);
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const room = maxBytes - size;
        if (value.length > room) truncated = true;
        kept.set(value.subarray(0, room), size);
        size += Math.min(room, value.length);
      }
    } catch {
      // Cancelled after the bound: what was read is what there is.
    }
    return new TextDecoder().decode(kept.subarray(0, size));
  };
  const output = Promise.all(readers.map(keep));
  const timers: ReturnType<typeof setTimeout>[] = [];
  let pastBound!: () => void;
  const bound = new Promise<void>((resolve) => (pastBound = resolve));
  let stopping = false;
  const stop = (why: "timeout" | "abort") => {
    if (stopping) return;
    stopping = true;
    if (!exited) {
      timedOut = why === "timeout";
      child.kill("SIGTERM");
      timers.push(setTimeout(() => exited || child.kill("SIGKILL"), graceMs));
    }
    timers.push(setTimeout(pastBound, graceMs));
  };
  timers.push(setTimeout(() => stop("timeout"), timeoutMs));
  const onAbort = () => stop("abort");
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const code = await child.exited;
    exited = true;
    const [stdout, stderr] = await Promise.race([
      output,
      bound.then(() => {
        for (const reader of readers) void reader.cancel().catch(() => {});
        return output;
      }),
    ]);
    return { code, stdout: stdout!, stderr: stderr!, timedOut, truncated };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    for (const timer of timers) clearTimeout(timer);
  }
}
