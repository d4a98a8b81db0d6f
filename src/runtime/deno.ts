import type { Files, Runtime, Terminal } from "./types.ts";

// Typed locally so the Bun type-check does not need Deno's lib; only what is used here.
declare const Deno: {
  serve(
    options: { hostname: string; port: number; signal: AbortSignal; onListen?: (addr: { hostname: string; port: number }) => void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { addr: { hostname: string; port: number }; finished: Promise<void> };
  env: { get(name: string): string | undefined };
  Command: new (
    cmd: string,
    options: { args: string[]; stdout: "piped"; stderr: "null"; stdin: "null" },
  ) => { output(): Promise<{ code: number; stdout: Uint8Array }> };
  addSignalListener(signal: "SIGINT" | "SIGTERM" | "SIGWINCH", handler: () => void): void;
  removeSignalListener(signal: "SIGWINCH", handler: () => void): void;
  stdout: { isTerminal(): boolean; writeSync(bytes: Uint8Array): number };
  stdin: { isTerminal(): boolean; setRaw(raw: boolean): void; readable: ReadableStream<Uint8Array> };
  consoleSize(): { columns: number; rows: number };
  exit(code: number): never;
  mkdir(path: string, options: { recursive: boolean; mode?: number }): Promise<void>;
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, data: string, options?: { mode?: number }): Promise<void>;
  remove(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  truncate(path: string, length: number): Promise<void>;
  open(path: string, options: { read?: boolean; write?: boolean; append?: boolean; create?: boolean; mode?: number }): Promise<DenoFile>;
  errors: { NotFound: new () => Error };
};

type DenoFile = {
  write(bytes: Uint8Array): Promise<number>;
  syncData(): Promise<void>;
  close(): void;
};

async function syncFile(path: string): Promise<void> {
  const file = await Deno.open(path, { read: true, write: true });
  try {
    await file.syncData();
  } finally {
    file.close();
  }
}

const denoFiles: Files = {
  mkdirp: (path) => Deno.mkdir(path, { recursive: true, mode: 0o700 }),
  async readText(path) {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  },
  async writeDurably(path, text) {
    await Deno.writeTextFile(path, text, { mode: 0o600 });
    await syncFile(path);
  },
  rename: (from, to) => Deno.rename(from, to),
  async truncate(path, length) {
    await Deno.truncate(path, length);
    await syncFile(path);
  },
  async remove(path) {
    await Deno.remove(path).catch((error: unknown) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  },
  async openAppend(path) {
    const file = await Deno.open(path, { append: true, create: true, mode: 0o600 });
    return {
      async write(bytes) {
        for (let offset = 0; offset < bytes.byteLength; ) offset += await file.write(bytes.subarray(offset));
      },
      sync: () => file.syncData(),
      close: async () => file.close(),
    };
  },
};

export const denoRuntime: Runtime = {
  name: "deno",
  async serve({ hostname, port, fetch }) {
    // Stopping aborts this signal, which closes every connection at once. (shutdown() would wait
    // for running downloads to finish, which can take as long as an ISO takes to stream.)
    const closing = new AbortController();
    const server = Deno.serve({ hostname, port, signal: closing.signal, onListen: () => {} }, (request, info) =>
      fetch(request, info.remoteAddr.hostname),
    );
    return {
      hostname: server.addr.hostname,
      port: server.addr.port,
      stop: () => {
        closing.abort();
        return server.finished;
      },
    };
  },
  env: (name) => Deno.env.get(name),
  async run([cmd, ...args]) {
    try {
      const out = await new Deno.Command(cmd!, { args, stdout: "piped", stderr: "null", stdin: "null" }).output();
      return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
    } catch {
      return undefined;
    }
  },
  onSignal: (signal, handler) => Deno.addSignalListener(signal, handler),
  isTerminal: () => Deno.stdout.isTerminal(),
  terminal: denoTerminal,
  exit: (code) => Deno.exit(code),
  files: denoFiles,
};

function denoTerminal(): Terminal {
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
      let done = false;
      const once = () => {
        if (done) return;
        done = true;
        handler();
      };
      // "error" and "unhandledrejection" run before Deno prints the crash, so it lands on the
      // restored screen; "unload" covers a normal exit.
      for (const type of ["error", "unhandledrejection", "unload"]) globalThis.addEventListener(type, once);
      return () => {
        for (const type of ["error", "unhandledrejection", "unload"]) globalThis.removeEventListener(type, once);
      };
    },
  };
}
