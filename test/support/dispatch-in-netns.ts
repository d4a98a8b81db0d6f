import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Netns } from "./netns.ts";
import { type Child, spawnChild } from "./processes.ts";

const root = new URL("../..", import.meta.url).pathname;

export type NetnsDispatch = {
  /** The dispatch CLI process; its output holds the log lines. */
  readonly dispatch: Child;
  /** The instance name dispatch announced, once it has. */
  announced(): Promise<string>;
  /** SIGTERM to dispatch, then the fake GitHub; resolves with dispatch's exit code. */
  stop(): Promise<number>;
};

/**
 * The real CLI (`bun src/main.ts`) inside namespace `ns`, with a fake GitHub of its own on that
 * namespace's loopback (a process inside a namespace cannot reach the test's loopback).
 */
export async function startDispatchIn(netns: Netns, ns: string, args: string[]): Promise<NetnsDispatch> {
  const bun = process.execPath;
  const github = spawnChild(["ip", "netns", "exec", ns, bun, `${root}test/support/fake-github-server.ts`]);
  let dispatch: Child | undefined;
  // Its journal in a folder of its own, never the user's state folder.
  const stateDir = mkdtempSync(join(tmpdir(), "dispatch-netns-state-"));
  const stop = async () => {
    dispatch?.kill();
    const code = dispatch ? await Promise.race([dispatch.exited, Bun.sleep(10_000).then(() => (dispatch!.kill("SIGKILL"), -1))]) : -1;
    github.kill();
    await Promise.race([github.exited, Bun.sleep(5000).then(() => github.kill("SIGKILL"))]);
    rmSync(stateDir, { recursive: true, force: true });
    return code;
  };
  try {
    const [line] = await github.waitFor(/^\{.*\}$/m, "the fake GitHub to listen");
    const gh = JSON.parse(line) as { apiUrl: string; owner: string; repo: string; token: string };
    dispatch = spawnChild(
      ["ip", "netns", "exec", ns, bun, `${root}src/main.ts`, "--owner", gh.owner, "--repo", gh.repo, "--tag", "v1", "--api-url", gh.apiUrl, "--state", stateDir, ...args],
      { GITHUB_TOKEN: gh.token, GH_TOKEN: undefined },
    );
    await dispatch.waitFor(/listening on /, "dispatch to listen");
  } catch (error) {
    await stop();
    throw error;
  }
  const child = dispatch;
  return {
    dispatch: child,
    announced: async () => (await child.waitFor(/mDNS: announced "([^"]+)"/, "the mDNS announcement"))[1]!,
    stop,
  };
}
