import { join } from "node:path";
import type { Log } from "../core/log.ts";
import type { Store } from "../core/store.ts";
import type { Runtime, Spawned } from "../runtime/types.ts";
import { type ConsoleBook, partOf } from "./book.ts";
import { firmwareError } from "./firmware-errors.ts";
import { type ConsoleBounds, PartWriter, defaultBounds } from "./kept.ts";
import { LineSplitter } from "./readable.ts";

/** One server's console: the command whose stdout is it (and one to run before each start). */
export type ConsoleSpec = {
  readonly server: string;
  readonly ip: string;
  readonly command: readonly string[];
  /** Run (to completion, bounded) before each start: `sol deactivate`. */
  readonly before?: readonly string[];
  /** Added to the commands' environment (the IPMI password, never on a command line). */
  readonly env?: Readonly<Record<string, string>>;
};

export type CaptureDeps = {
  readonly runtime: Runtime;
  readonly store: Store;
  readonly book: ConsoleBook;
  readonly consoles: readonly ConsoleSpec[];
  readonly log: Log;
  readonly now: () => number;
  readonly bounds?: ConsoleBounds;
  /** Wait before start number `n` (1-based) after the command ended; default 1 s doubling to a minute. */
  readonly restartDelayMs?: (n: number) => number;
};

export type Capture = {
  /** Dispatches nothing more (before the journal closes). */
  stop(): void;
  /** Ends the console commands and flushes what they said. */
  close(): Promise<void>;
};

/** A console that ran this long before it ended starts again at once (its backoff is reset). */
const steadyMs = 30_000;
/**
 * 1 s, doubling, 10 s at most: a console that is down costs a start every 10 s, and comes back
 * within 10 s of its server (a VM's socket appears when it starts); a power-on or cycle by
 * dispatch tries it again at once.
 */
export const restartBackoff = (n: number) => Math.min(10_000, 1000 * 2 ** Math.max(0, n - 1));

/**
 * The console edge: runs each server's console command for the whole run, starting it again
 * with backoff whenever it ends; stamps each line with the time it arrived and keeps it in the
 * server's part for the attempt under way (see kept.ts), bounded. A line showing the firmware's
 * own boot error becomes a `console-error` event; nothing else of the console enters the core.
 */
export function startCapture(deps: CaptureDeps): Capture {
  const { store, book, now } = deps;
  const bounds = deps.bounds ?? defaultBounds;
  const delay = deps.restartDelayMs ?? restartBackoff;
  let stopped = false;
  let closing = false;
  const wake = new AbortController();
  const children = new Set<Spawned>();
  const loops: Promise<void>[] = [];

  for (const spec of deps.consoles) {
    const dir = join(book.dir, spec.server);
    // A server given by MAC may have its address learned only when it first asks.
    const ipNow = () => store.state.lab?.servers.find((s) => s.name === spec.server)?.ip || spec.ip;
    const splitter = new LineSplitter();
    let part = partOf(store.state, ipNow());
    let writer: PartWriter | undefined;
    let pendingSince = 0;
    /** Every write and part switch, in order. */
    let queue: Promise<void> = Promise.resolve();
    const enqueue = (op: () => Promise<void>) => (queue = queue.then(op).catch((error: unknown) => deps.log.warn(`${spec.server}: console not kept: ${(error as Error).message}`)));

    const writerFor = async (p: string) => {
      if (writer?.part === p) return writer;
      await writer?.close();
      writer = await PartWriter.open(deps.runtime.files, dir, p, bounds);
      return writer;
    };
    const keep = async (p: string, lines: string[], at: number) => {
      if (lines.length === 0) return;
      const time = new Date(at).toISOString();
      const stamped = lines.map((line) => `${time} ${line}`);
      await (await writerFor(p)).write(`${stamped.join("\n")}\n`);
      book.arrived({ server: spec.server, part: p, lines: stamped }, at);
      const error = firmwareError(lines);
      const server = store.state.lab?.servers.find((s) => s.name === spec.server);
      if (error !== undefined && !stopped && server && server.consoleError?.line !== error) store.dispatch({ type: "console-error", at, server: spec.server, line: error });
    };
    const showPending = () => {
      const line = splitter.pending();
      book.pending(spec.server, part, line ? `${new Date(pendingSince).toISOString()} ${line}` : "");
    };
    /** The line begun belongs to the part it began in. */
    const flushPending = (p: string) => {
      const line = splitter.flush();
      const at = pendingSince;
      book.pending(spec.server, p, "");
      return line === undefined ? Promise.resolve() : keep(p, [line], at);
    };

    /** Ends the wait before the next start early. */
    let again = new AbortController();
    const unsubscribe = store.subscribe(({ event, after, outcome }) => {
      // The server was just powered on or cycled: a console waiting to start again starts now.
      if (event.type === "power-done" && event.server === spec.server && event.ok) again.abort();
      if (event.type !== "boot-requested" || event.ip !== ipNow()) return;
      const next = partOf(after, event.ip, outcome.kind === "poweroff");
      if (next === part) return;
      const old = part;
      part = next;
      enqueue(() => flushPending(old));
    });

    const runOnce = async (): Promise<{ code: number; said: string; ranMs: number }> => {
      if (spec.before) await deps.runtime.run(spec.before, { timeoutMs: 15_000, ...(spec.env && { env: spec.env }) });
      const started = performance.now();
      const child = deps.runtime.spawn(spec.command, { ...(spec.env && { env: spec.env }) });
      if (!child) return { code: 127, said: `${spec.command[0]} could not be started (is it installed?)`, ranMs: 0 };
      children.add(child);
      // What it said on stderr, for the line that says why it ended (its last 2 KiB).
      let said = "";
      const errors = (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of child.stderr) said = (said + decoder.decode(chunk, { stream: true })).slice(-2048);
      })().catch(() => {});
      try {
        for await (const chunk of child.stdout) {
          const at = now();
          if (splitter.pending() === "") pendingSince = at;
          const lines = splitter.push(chunk);
          const p = part;
          // Waiting for the write holds the reading back: a console faster than the disk slows, never piles up.
          await enqueue(() => keep(p, lines, at));
          if (lines.length && splitter.pending() !== "") pendingSince = at;
          showPending();
        }
      } catch {
        // The pipe broke: the child is gone or going.
      }
      const code = await child.exited;
      children.delete(child);
      await errors;
      const p = part;
      await enqueue(() => flushPending(p));
      return { code, said: said.trim().split("\n").at(-1) ?? "", ranMs: performance.now() - started };
    };

    const loop = async () => {
      let failures = 0;
      while (!closing) {
        const ended = await runOnce();
        if (closing) break;
        failures = ended.ranMs >= steadyMs ? 1 : failures + 1;
        const wait = delay(failures);
        // Said at the first end in a row, then at the 2nd, 4th, 8th…: a console down for hours is not a line every 10 s.
        if ((failures & (failures - 1)) === 0) {
          const times = failures > 1 ? ` (${failures} times in a row)` : "";
          deps.log.warn(`${spec.server}: console ${spec.command[0]} ended${times} (exit ${ended.code}${ended.said ? `: ${ended.said}` : ""}); starting it again in ${Math.round(wait / 100) / 10} s`);
        }
        again = new AbortController();
        await sleep(wait, AbortSignal.any([wake.signal, again.signal]));
      }
      unsubscribe();
      await queue;
      await writer?.close();
    };
    loops.push(loop());
  }

  return {
    stop() {
      stopped = true;
    },
    async close() {
      stopped = true;
      closing = true;
      wake.abort();
      for (const child of children) child.kill("SIGTERM");
      const killer = setTimeout(() => {
        for (const child of children) child.kill("SIGKILL");
      }, 2_000);
      await Promise.all(loops);
      clearTimeout(killer);
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}
