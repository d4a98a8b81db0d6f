import { boundedRun } from "../bounded-run.ts";
import type { Runtime } from "../types.ts";

/** The environment, child processes, signals and exit, through Bun's and node's process APIs. */
export const bunProcess: Pick<Runtime, "env" | "run" | "spawn" | "onSignal" | "isTerminal" | "exit"> = {
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
  spawn(command, options = {}) {
    let child;
    try {
      // stdin is a pipe held open and never written: `socat -` and `ipmitool sol activate` end at its EOF.
      child = Bun.spawn([...command], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...Bun.env, ...options.env } });
    } catch {
      return undefined;
    }
    return { pid: child.pid, stdout: child.stdout, stderr: child.stderr, exited: child.exited, kill: (signal) => child.kill(signal) };
  },
  onSignal: (signal, handler) => void process.on(signal, handler),
  isTerminal: () => process.stdout.isTTY === true,
  exit: (code) => process.exit(code),
};
