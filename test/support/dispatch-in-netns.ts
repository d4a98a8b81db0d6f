import { type DispatchProcess, startDispatchProcess } from "./dispatch-process.ts";
import type { Netns } from "./netns.ts";
import { startProcess } from "./processes.ts";

const root = new URL("../..", import.meta.url).pathname;

export type NetnsDispatch = {
  /** The dispatch CLI process; its output holds the log lines. */
  readonly dispatch: DispatchProcess;
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
  const wrap = ["ip", "netns", "exec", ns];
  const github = startProcess([...wrap, process.execPath, `${root}test/support/fake-github-server.ts`], { name: `fake GitHub in ${ns}` });
  let dispatch: DispatchProcess;
  try {
    const gh = JSON.parse(await github.waitFor(/^\{.*\}$/)) as { apiUrl: string; owner: string; repo: string; token: string };
    const { GITHUB_TOKEN: _, GH_TOKEN: __, ...env } = process.env as Record<string, string>;
    dispatch = await startDispatchProcess(
      { command: [process.execPath, `${root}src/main.ts`], wrap, env: { ...env, GITHUB_TOKEN: gh.token } },
      ["--owner", gh.owner, "--repo", gh.repo, "--tag", "v1", "--api-url", gh.apiUrl, ...args],
    );
  } catch (error) {
    await github.stop();
    throw error;
  }
  const stop = async () => {
    const code = await dispatch.stop(10_000);
    await github.stop();
    return code;
  };
  return {
    dispatch,
    announced: async () => /mDNS: announced "([^"]+)"/.exec(await dispatch.waitFor(/mDNS: announced "/))![1]!,
    stop,
  };
}
