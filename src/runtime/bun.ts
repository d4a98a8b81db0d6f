import type { Runtime } from "./types.ts";

export const bunRuntime: Runtime = {
  name: "bun",
  async serve({ hostname, port, fetch }) {
    const server = Bun.serve({
      hostname,
      port,
      // Firmware downloads can stall while GitHub's storage host catches up; Bun's default
      // 10 s idle limit would cut them. 255 s is Bun's maximum.
      idleTimeout: 255,
      fetch: (request, srv) => fetch(request, srv.requestIP(request)?.address ?? ""),
    });
    return {
      hostname: server.hostname ?? hostname,
      port: server.port ?? port,
      stop: () => server.stop(true),
    };
  },
  env: (name) => Bun.env[name],
  async run(command) {
    try {
      const child = Bun.spawn([...command], { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
      const stdout = await new Response(child.stdout).text();
      return { code: await child.exited, stdout };
    } catch {
      return undefined;
    }
  },
  onSignal: (signal, handler) => void process.on(signal, handler),
  isTerminal: () => process.stdout.isTTY === true,
  exit: (code) => process.exit(code),
};
