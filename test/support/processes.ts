import type { Subprocess } from "bun";

/** A started process and everything it has printed so far (stdout and stderr together). */
export type Child = {
  readonly pid: number;
  readonly exited: Promise<number>;
  output(): string;
  /** Waits until the output matches; bounded, and fails early if the process exits first. */
  waitFor(pattern: RegExp, what: string, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends a signal if the process is still running. */
  kill(signal?: NodeJS.Signals): void;
};

export function spawnChild(command: string[], env: Record<string, string | undefined> = {}): Child {
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn(command, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
  let text = "";
  let done = false;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const pumped = Promise.all([pump(proc.stdout), pump(proc.stderr)]).catch(() => {});
  const exited = proc.exited.then(async (code) => {
    await pumped;
    done = true;
    return code;
  });
  return {
    pid: proc.pid,
    exited,
    output: () => text,
    async waitFor(pattern, what, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = text.match(pattern);
        if (match) return match;
        if (done) throw new Error(`${command.join(" ")} exited before ${what}; it printed:\n${text}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${command.join(" ")} printed:\n${text}`);
        await Bun.sleep(50);
      }
    },
    kill(signal = "SIGTERM") {
      if (!done && proc.exitCode === null) proc.kill(signal);
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
