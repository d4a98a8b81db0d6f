import type { Subprocess } from "bun";
import { join } from "node:path";

/**
 * dispatch as users run it: `bun src/main.ts …` in its own process, reading a (fake) GitHub
 * over HTTP. Its plain log lines are collected so tests can wait for and check them.
 */

const root = join(import.meta.dir, "../../..");

export type DispatchProcess = {
  readonly pid: number;
  /** The port it listens on, read off its "listening on" line. */
  readonly port: number;
  /** Log lines so far, without their timestamps. */
  readonly lines: string[];
  readonly exited: Promise<number>;
  /** Polls the log until a line matches; bounded. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** SIGTERM (dispatch stops cleanly), then SIGKILL if it lingers. */
  stop(): Promise<void>;
};

export type DispatchProcessOptions = {
  readonly apiUrl: string;
  readonly token: string;
  readonly owner: string;
  readonly repo: string;
  readonly tag: string;
  readonly bind: string;
  readonly extraArgs?: readonly string[];
  /** Prefix for the command, e.g. `ip netns exec NS`. */
  readonly wrap?: readonly string[];
};

export async function startDispatchProcess(options: DispatchProcessOptions): Promise<DispatchProcess> {
  const command = [
    ...(options.wrap ?? []),
    process.execPath,
    join(root, "src/main.ts"),
    ...["--owner", options.owner, "--repo", options.repo, "--tag", options.tag],
    ...["--bind", options.bind, "--api-url", options.apiUrl, "--no-mdns"],
    ...(options.extraArgs ?? []),
  ];
  // The token goes by environment, as a user would pass it: not visible in the process list.
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn(command, {
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", GITHUB_TOKEN: options.token },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop()!;
      for (const line of parts) lines.push(line.replace(/^\d{4}-\d\d-\d\dT[\d:]+Z /, ""));
    }
    if (rest) lines.push(rest);
  };
  const reading = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  const exited = proc.exited;

  const waitForLine = async (pattern: RegExp, timeoutMs: number): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = lines.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (proc.exitCode !== null) throw new Error(`dispatch exited ${proc.exitCode} before logging ${pattern}:\n${lines.join("\n")}`);
      if (Date.now() > deadline) throw new Error(`dispatch did not log ${pattern} within ${timeoutMs} ms:\n${lines.join("\n")}`);
      await Bun.sleep(50);
    }
  };

  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    process.kill(proc.pid, "SIGTERM");
    const timer = setTimeout(() => proc.exitCode === null && proc.signalCode === null && process.kill(proc.pid, "SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    await reading;
  };

  try {
    const listening = await waitForLine(/^listening on \S+:(\d+);/, 20_000);
    const port = Number(/:(\d+);/.exec(listening)![1]);
    return { pid: proc.pid, port, lines, exited, waitForLine, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
