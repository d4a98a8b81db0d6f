import type { Runtime } from "./types.ts";

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
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  stdout: { isTerminal(): boolean };
  exit(code: number): never;
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
  exit: (code) => Deno.exit(code),
};
