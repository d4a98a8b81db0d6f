import { nodeFiles } from "./node-files.ts";
import { serveNodeHttp } from "./node-http.ts";
import { nodeTerminal } from "./node-terminal.ts";
import type { Runtime } from "./types.ts";

export const bunRuntime: Runtime = {
  name: "bun",
  serve: serveNodeHttp,
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
  terminal: nodeTerminal,
  exit: (code) => process.exit(code),
  files: nodeFiles,
};
