import type { Terminal } from "../types.ts";
import { Deno } from "./api.ts";
import { once } from "../once.ts";

/** The terminal through Deno's own APIs. */
export function denoTerminal(): Terminal {
  return {
    size() {
      try {
        return Deno.consoleSize();
      } catch {
        return { columns: 80, rows: 24 };
      }
    },
    write(text) {
      const bytes = new TextEncoder().encode(text);
      for (let off = 0; off < bytes.length; ) off += Deno.stdout.writeSync(bytes.subarray(off));
    },
    onResize(handler) {
      Deno.addSignalListener("SIGWINCH", handler);
      return () => Deno.removeSignalListener("SIGWINCH", handler);
    },
    onInput(handler) {
      if (!Deno.stdin.isTerminal()) return false;
      Deno.stdin.setRaw(true);
      const reader = Deno.stdin.readable.getReader();
      const decoder = new TextDecoder();
      void (async () => {
        try {
          for (let r = await reader.read(); !r.done; r = await reader.read()) handler(decoder.decode(r.value, { stream: true }));
        } catch {
          // cancelled on the way out
        }
      })();
      return () => {
        void reader.cancel().catch(() => {});
        Deno.stdin.setRaw(false);
      };
    },
    onExit(handler) {
      const first = once(handler);
      // "error" and "unhandledrejection" run before Deno prints the crash, so it lands on the
      // restored screen; "unload" covers a normal exit.
      for (const type of ["error", "unhandledrejection", "unload"]) globalThis.addEventListener(type, first);
      return () => {
        for (const type of ["error", "unhandledrejection", "unload"]) globalThis.removeEventListener(type, first);
      };
    },
  };
}
