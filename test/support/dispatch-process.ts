import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FakeGitHub } from "../fake-github/index.ts";
import { type Child, startProcess } from "./processes.ts";

/** A dispatch started as its own process (binary, `bun src/main.ts` or Deno), as a user would. */
export type DispatchProcess = Child & {
  readonly port: number;
  /** The boot URL on the address it listens on (loopback when it listens on every address). */
  readonly url: string;
};

export type Launch = {
  /** The command, e.g. `["./dispatch"]` or `["bun", "src/main.ts"]`; dispatch's flags are added. */
  readonly command: readonly string[];
  readonly cwd?: string;
  /** The whole environment of the process (nothing is inherited). */
  readonly env: Record<string, string>;
  /** Put before the command, e.g. `ip netns exec NS`. */
  readonly wrap?: readonly string[];
  /** Rewrites each log line as it is collected (e.g. drops the timestamp). */
  readonly line?: (line: string) => string;
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
 * environment, as users pass it. On any failure the process is stopped before this throws.
 */
export async function startDispatchProcess(
  launch: Launch,
  args: readonly string[],
  { timeoutMs = 20_000, waitListening = true }: { timeoutMs?: number; waitListening?: boolean } = {},
): Promise<DispatchProcess> {
  // Its journal goes to a state folder of its own (the default place, under XDG_STATE_HOME),
  // never into the user's real one; removed once the process is gone, however it ended.
  const stateHome = mkdtempSync(join(tmpdir(), "dispatch-state-"));
  const child = startProcess([...(launch.wrap ?? []), ...launch.command, ...args], {
    name: "dispatch",
    cwd: launch.cwd,
    env: { XDG_STATE_HOME: stateHome, ...launch.env },
    inheritEnv: false,
    line: launch.line,
  });
  const exited = child.exited.then((code) => {
    rmSync(stateHome, { recursive: true, force: true });
    return code;
  });
  const withState: Child = { ...child, exited, kill: (signal) => child.kill(signal).then(() => exited), stop: (grace) => child.stop(grace).then(() => exited) };
  if (!waitListening) return { ...withState, port: 0, url: "" };
  try {
    const [, host, port] = listening.exec(await child.waitFor(listening, timeoutMs))!;
    const reachable = host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host;
    return { ...withState, port: Number(port), url: `http://${reachable}:${port}/dispatch` };
  } catch (error) {
    await withState.stop();
    throw error;
  }
}

/** Runs dispatch to completion (for --help, --version and the like), SIGKILLed after 20 s. */
export async function runDispatch(launch: Launch, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = startProcess([...(launch.wrap ?? []), ...launch.command, ...args], { name: "dispatch", cwd: launch.cwd, env: launch.env, inheritEnv: false });
  const killer = setTimeout(() => void child.kill("SIGKILL"), 20_000);
  try {
    const code = await child.exited;
    return { code, ...(await child.streams) };
  } finally {
    clearTimeout(killer);
  }
}
