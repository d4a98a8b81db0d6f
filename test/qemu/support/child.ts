import type { Subprocess } from "bun";
import { toolPath } from "./tools.ts";

/**
 * A long-running child process whose output the test reads line by line: dispatch, the fake
 * GitHub in a namespace, dnsmasq. Stopped by its pid: SIGTERM, then SIGKILL if it lingers.
 */
export type Child = {
  readonly pid: number;
  readonly name: string;
  /** stdout and stderr lines so far, in arrival order (per stream). */
  readonly lines: string[];
  readonly exited: Promise<number>;
  /** Polls the output until a line matches; bounded, and fails early if the process ends. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
};

export type ChildOptions = {
  readonly name: string;
  readonly command: readonly string[];
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Rewrites each line as it is collected (e.g. drops a timestamp). */
  readonly line?: (line: string) => string;
};

export function startChild(options: ChildOptions): Child {
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn([...options.command], {
    cwd: options.cwd,
    env: { PATH: toolPath, HOME: process.env.HOME ?? "/tmp", ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const tidy = options.line ?? ((l: string) => l);
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop()!;
      for (const line of parts) lines.push(tidy(line));
    }
    if (rest) lines.push(tidy(rest));
  };
  const reading = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const output = () => `${options.name} output:\n${lines.join("\n")}`;

  return {
    pid: proc.pid,
    name: options.name,
    lines,
    exited: proc.exited,
    async waitForLine(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = lines.find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (!running()) throw new Error(`${options.name} exited (${proc.exitCode ?? proc.signalCode}) before printing ${pattern}; ${output()}`);
        if (Date.now() > deadline) throw new Error(`${options.name} did not print ${pattern} within ${timeoutMs / 1000} s; ${output()}`);
        await Bun.sleep(50);
      }
    },
    async stop() {
      if (running()) {
        process.kill(proc.pid, "SIGTERM");
        const timer = setTimeout(() => running() && process.kill(proc.pid, "SIGKILL"), 5_000);
        await proc.exited;
        clearTimeout(timer);
      }
      await reading;
    },
  };
}
