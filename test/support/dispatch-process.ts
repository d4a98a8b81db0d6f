import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FakeGitHub } from "../fake-github/index.ts";

/** A dispatch started as its own process (binary, `bun src/main.ts` or Deno), as a user would. */
export type DispatchProcess = {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** Everything it printed so far, stdout and stderr, one entry a line. */
  readonly lines: string[];
  /** The exit code, once it has exited and its output is read. */
  readonly exited: Promise<number>;
  /** Waits (bounded) for a printed line containing `text`; throws if dispatch exits first. */
  waitFor(text: string, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (SIGKILL for a crash) and waits for the exit code. */
  kill(signal: NodeJS.Signals): Promise<number>;
  /** SIGTERM, then waits for the exit (SIGKILL if it takes too long); the exit code. */
  stop(): Promise<number>;
};

export type Launch = {
  /** The command, e.g. `["./dispatch"]` or `["bun", "src/main.ts"]`; dispatch's flags are added. */
  readonly command: readonly string[];
  readonly cwd?: string;
  /** The whole environment of the process (nothing is inherited). */
  readonly env: Record<string, string>;
};

/** dispatch's flags for a run against `gh` on a free loopback port, without mDNS. */
export const fakeGitHubFlags = (gh: FakeGitHub, tag = "v1"): string[] => [
  "--owner", gh.owner,
  "--repo", gh.repo,
  "--tag", tag,
  "--api-url", gh.apiUrl,
  "--bind", "127.0.0.1:0",
  "--no-mdns",
];

const listening = /listening on (\S+):(\d+);/;

/**
 * Starts dispatch and waits for its "listening on HOST:PORT" line. The token goes in through the
 * environment, as users pass it. On any failure the process is killed before this throws.
 */
export async function startDispatchProcess(
  launch: Launch,
  args: readonly string[],
  { timeoutMs = 20_000, waitListening = true }: { timeoutMs?: number; waitListening?: boolean } = {},
): Promise<DispatchProcess> {
  // Its journal goes to a state folder of its own (the default place, under XDG_STATE_HOME),
  // never into the user's real one; removed when it stops.
  const stateHome = mkdtempSync(join(tmpdir(), "dispatch-state-"));
  const child = Bun.spawn([...launch.command, ...args], {
    cwd: launch.cwd,
    env: { XDG_STATE_HOME: stateHome, ...launch.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  let port: number | undefined;
  let seen: () => void = () => {};
  const portSeen = new Promise<void>((resolve) => (seen = resolve));
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      const parts = (rest + decoder.decode(bytes, { stream: true })).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const match = listening.exec(line);
        if (match && port === undefined) {
          port = Number(match[2]);
          seen();
        }
      }
    }
    if (rest) lines.push(rest);
  };
  const output = Promise.all([collect(child.stdout), collect(child.stderr)]);

  // The state folder goes once the process is gone, however it ended.
  const exited = child.exited.then(async (code) => {
    await output;
    rmSync(stateHome, { recursive: true, force: true });
    return code;
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = (signal: NodeJS.Signals): Promise<number> => {
    if (running()) child.kill(signal);
    return exited;
  };
  const stop = async (): Promise<number> => {
    const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    try {
      return await kill("SIGTERM");
    } finally {
      clearTimeout(killer);
    }
  };
  const waitFor = async (text: string, timeoutMs = 15_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = lines.find((l) => l.includes(text));
      if (line !== undefined) return line;
      if (!running() || Date.now() > deadline) {
        throw new Error(`dispatch ${running() ? "did not print" : "exited without printing"} "${text}":\n${lines.join("\n")}`);
      }
      await Bun.sleep(20);
    }
  };

  if (waitListening) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        portSeen,
        child.exited.then((code) => Promise.reject(new Error(`dispatch exited with ${code} before listening`))),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("dispatch did not start listening in time")), timeoutMs))),
      ]);
    } catch (error) {
      await stop();
      throw new Error(`${(error as Error).message}:\n${lines.join("\n")}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return { pid: child.pid, port: port ?? 0, url: `http://127.0.0.1:${port ?? 0}/dispatch`, lines, exited, waitFor, kill, stop };
}

/** Runs dispatch to completion (for --help, --version and the like). */
export async function runDispatch(launch: Launch, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([...launch.command, ...args], { cwd: launch.cwd, env: launch.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(killer);
  }
}
