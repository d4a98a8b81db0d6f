import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;

export type Cli = {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Resolves with the first output match of `pattern`, within a bounded time. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<number>;
};

/** Runs a dispatch command (default: `bun src/main.ts`) as a user would, output collected. */
export function startCli(args: string[], env: Record<string, string | undefined>, command = [process.execPath, `${root}src/main.ts`]): Cli {
  // A state folder of its own, never the user's real one; removed once the process is gone.
  const stateHome = mkdtempSync(join(tmpdir(), "dispatch-state-"));
  const proc = Bun.spawn([...command, ...args], {
    cwd: root,
    env: { XDG_STATE_HOME: stateHome, ...env } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  void proc.exited.then(() => rmSync(stateHome, { recursive: true, force: true }));
  let text = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  return {
    proc,
    output: () => text,
    async waitFor(pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = text.match(pattern);
        if (match) return match;
        if (proc.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no ${pattern} in output (exit ${proc.exitCode}):\n${text}`);
        }
        await Bun.sleep(25);
      }
    },
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs a command to completion (bounded), for --help and error cases. */
export async function runCli(args: string[], env: Record<string, string | undefined>, command = [process.execPath, `${root}src/main.ts`]) {
  const cli = startCli(args, env, command);
  const timer = setTimeout(() => cli.proc.kill("SIGKILL"), 20_000);
  const code = await cli.proc.exited;
  clearTimeout(timer);
  await Bun.sleep(20); // let the pumps drain
  return { code, output: cli.output() };
}

/** A minimal environment: no token, no GitHub CLI unless the test adds them. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...extra };
}
