import { writeSync } from "node:fs";
import type { Terminal } from "../types.ts";
import { once } from "../once.ts";

/** The terminal through `node:process`, as Bun provides it. */
export function nodeTerminal(): Terminal {
  return {
    size: () => ({ columns: process.stdout.columns || 80, rows: process.stdout.rows || 24 }),
    write(text) {
      // writeSync: process.stdout.write may still be buffering when the process exits.
      const bytes = new TextEncoder().encode(text);
      for (let off = 0; off < bytes.length; ) {
        try {
          off += writeSync(1, bytes, off);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
        }
      }
    },
    onResize(handler) {
      process.stdout.on("resize", handler);
      return () => void process.stdout.off("resize", handler);
    },
    onInput(handler) {
      const stdin = process.stdin;
      if (!stdin.isTTY) return false;
      const listener = (data: Buffer | string) => handler(data.toString());
      stdin.setRawMode(true);
      stdin.on("data", listener);
      stdin.resume();
      return () => {
        stdin.off("data", listener);
        stdin.setRawMode(false);
        stdin.pause();
      };
    },
    onExit(handler) {
      const first = once(handler);
      // The monitor runs before an uncaught exception is printed, so the error lands on the
      // restored screen; "exit" covers every other way out.
      const crashed = (error: unknown) => {
        first();
        console.error(error);
        process.exit(1);
      };
      process.on("uncaughtExceptionMonitor", first);
      process.on("unhandledRejection", crashed);
      process.on("exit", first);
      return () => {
        process.off("uncaughtExceptionMonitor", first);
        process.off("unhandledRejection", crashed);
        process.off("exit", first);
      };
    },
  };
}
