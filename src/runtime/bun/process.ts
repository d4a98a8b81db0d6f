import type { Runtime } from "../types.ts";

/** The environment, child processes, signals and exit, through Bun's and node's process APIs. */
export const bunProcess: Pick<Runtime, "env" | "run" | "onSignal" | "isTerminal" | "exit"> = {
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
