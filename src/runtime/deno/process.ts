import { boundedRun } from "../bounded-run.ts";
import type { Runtime } from "../types.ts";
import { Deno } from "./api.ts";

/** The environment, child processes, signals and exit, through Deno's own APIs. */
export const denoProcess: Pick<Runtime, "env" | "run" | "spawn" | "onSignal" | "isTerminal" | "exit"> = {
  env: (name) => Deno.env.get(name),
  run([cmd, ...args], options = {}) {
    let child;
    try {
      // `env` is added to Deno's own environment (clearEnv is off).
      child = new Deno.Command(cmd!, { args, env: { ...options.env }, stdin: "null", stdout: "piped", stderr: "piped" }).spawn();
    } catch {
      return Promise.resolve(undefined);
    }
    const exited = child.status.then((status) => status.code);
    return boundedRun({ stdout: child.stdout, stderr: child.stderr, exited, kill: (signal) => child.kill(signal) }, options);
  },
  spawn([cmd, ...args], options = {}) {
    let child;
    try {
      // stdin is a pipe held open and never written: `socat -` and `ipmitool sol activate` end at its EOF.
      child = new Deno.Command(cmd!, { args, env: { ...options.env }, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
    } catch {
      return undefined;
    }
    const exited = child.status.then((status) => status.code);
    return { pid: child.pid, stdout: child.stdout, stderr: child.stderr, exited, kill: (signal) => child.kill(signal) };
  },
  onSignal: (signal, handler) => Deno.addSignalListener(signal, handler),
  isTerminal: () => Deno.stdout.isTerminal(),
  exit: (code) => Deno.exit(code),
};
