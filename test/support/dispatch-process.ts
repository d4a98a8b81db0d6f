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
export async function startDispatchProcess(launch: Launch, args: readonly string[], timeoutMs = 20_000): Promise<DispatchProcess> {
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

  const stop = async (): Promise<number> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    try {
      const code = await child.exited;
      await output;
      return code;
    } finally {
      clearTimeout(killer);
      rmSync(stateHome, { recursive: true, force: true });
    }
  };

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
  return { pid: child.pid, port: port!, url: `http://127.0.0.1:${port}/dispatch`, lines, stop };
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
