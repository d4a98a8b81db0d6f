import { boundedRun } from "../bounded-run.ts";
import type { Runtime } from "../types.ts";

/** The environment, child processes, signals and exit, through Bun's and node's process APIs. */
export const bunProcess: Pick<Runtime, "env" | "run" | "onSignal" | "isTerminal" | "exit"> = {
  env: (name) => Bun.env[name],
  run(command, options = {}) {
    let child;
    try {
      child = Bun.spawn([...command], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...Bun.env, ...options.env } });
    } catch {
      return Promise.resolve(undefined);
    }
    return boundedRun({ stdout: child.stdout, stderr: child.stderr, exited: child.exited, kill: (signal) => child.kill(signal) }, options);
  },
  onSignal: (signal, handler) => void process.on(signal, handler),
  isTerminal: () => process.stdout.isTTY === true,
  exit: (code) => process.exit(code),
};
