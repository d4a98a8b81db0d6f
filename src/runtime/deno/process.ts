import type { Runtime } from "../types.ts";
import { Deno } from "./api.ts";

/** The environment, child processes, signals and exit, through Deno's own APIs. */
export const denoProcess: Pick<Runtime, "env" | "run" | "onSignal" | "isTerminal" | "exit"> = {
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
