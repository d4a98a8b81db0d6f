import type { Subprocess } from "bun";
import { until } from "./until.ts";

/**
 * The one harness for processes the tests start (dispatch, fake GitHubs in namespaces, Avahi,
 * dnsmasq, QEMU's helpers): its output kept line by line for waits and asserts, and stopped by
 * its pid.
 */
export type Child = {
  readonly pid: number;
  /** Names it in errors (default: the command's first word). */
  readonly name: string;
  /** stdout and stderr lines so far, in arrival order (a last line without newline once it exits). */
  readonly lines: string[];
  /** The exit code (128 + n for signal n) once it has exited and its output is read. */
  readonly exited: Promise<number>;
  /** Each stream's text on its own, once it has exited (for `--help` and the like). */
  readonly streams: Promise<{ stdout: string; stderr: string }>;
  running(): boolean;
  /** Everything printed so far, each line with its newline. */
  output(): string;
  /** Waits (bounded) for a line containing `pattern` (a string) or matching it; fails at once if the process exits first. */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` if it still runs; the exit code. */
  kill(signal?: NodeJS.Signals): Promise<number>;
  /** SIGTERM, then SIGKILL if it is still there after `graceMs`; the exit code. */
  stop(graceMs?: number): Promise<number>;
};

export type ChildOptions = {
  readonly name?: string;
  readonly cwd?: string;
  /** Added to this process's environment, or (with `inheritEnv: false`) the whole environment. */
  readonly env?: Record<string, string | undefined>;
  readonly inheritEnv?: boolean;
  /** Rewrites each line as it is collected (e.g. drops a timestamp). */
  readonly line?: (line: string) => string;
};

export function startProcess(command: readonly string[], options: ChildOptions = {}): Child {
  const name = options.name ?? command[0]!;
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn([...command], {
    cwd: options.cwd,
    env: { ...(options.inheritEnv === false ? {} : process.env), ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const tidy = options.line ?? ((l: string) => l);
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let all = "";
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      all += text;
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const line of parts) lines.push(tidy(line));
    }
    if (rest) lines.push(tidy(rest));
    return all;
  };
  let read = false;
  const reading = Promise.all([collect(proc.stdout), collect(proc.stderr)]).finally(() => (read = true));
  const streams = reading.then(([stdout, stderr]) => ({ stdout, stderr }));
  const exited = proc.exited.then(async (code) => {
    await reading.catch(() => {});
    return code;
  });
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const output = () => lines.map((l) => `${l}\n`).join("");
  const kill = (signal: NodeJS.Signals = "SIGTERM") => {
    if (running()) proc.kill(signal);
    return exited;
  };
  return {
    pid: proc.pid,
    name,
    lines,
    exited,
    streams,
    running,
    output,
    waitFor(pattern, timeoutMs = 15_000) {
      const matches = typeof pattern === "string" ? (l: string) => l.includes(pattern) : (l: string) => pattern.test(l);
      return until(() => lines.find(matches), `${name} printing ${typeof pattern === "string" ? JSON.stringify(pattern) : pattern}`, {
        timeoutMs,
        // Hopeless only once its output is read to the end: lines still in the pipe may match.
        hopeless: () => (read && lines.find(matches) === undefined ? `${name} exited (${proc.exitCode ?? proc.signalCode})` : undefined),
        context: () => `${name} printed:\n${output()}`,
      });
    },
    kill,
    async stop(graceMs = 5_000) {
      const killer = setTimeout(() => void kill("SIGKILL"), graceMs);
      try {
        return await kill("SIGTERM");
      } finally {
        clearTimeout(killer);
      }
    },
  };
}

/** Runs a command to completion, bounded by `timeoutMs`; throws with its output when it fails. */
export function run(command: string[], { timeoutMs = 10_000, env = {} as Record<string, string | undefined>, allowFailure = false } = {}) {
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env }, timeout: timeoutMs });
  const stdout = result.stdout.toString();
  const stderr = result.stderr.toString();
  if (!allowFailure && result.exitCode !== 0) {
    throw new Error(`${command.join(" ")} failed (${result.exitCode ?? result.signalCode}): ${stderr || stdout}`);
  }
  return { code: result.exitCode, stdout, stderr };
}
