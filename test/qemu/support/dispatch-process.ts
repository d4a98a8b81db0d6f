import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, startChild } from "./child.ts";

/**
 * dispatch as users run it: `bun src/main.ts …` in its own process, reading a (fake) GitHub
 * over HTTP. Its log lines are kept, without their timestamps, for tests to wait for and check.
 */

const root = join(import.meta.dir, "../../..");

export type DispatchProcess = Child & {
  /** The port it listens on, read off its "listening on" line. */
  readonly port: number;
};

export type DispatchProcessOptions = {
  readonly apiUrl: string;
  readonly token: string;
  readonly owner: string;
  readonly repo: string;
  readonly tag: string;
  readonly bind: string;
  /** Prefix for the command, e.g. `ip netns exec NS`. */
  readonly wrap?: readonly string[];
};

export async function startDispatchProcess(options: DispatchProcessOptions): Promise<DispatchProcess> {
  // A journal of its own for each run, never the user's state folder; removed when it stops.
  const stateDir = mkdtempSync(join(tmpdir(), "dispatch-qemu-state-"));
  const child = startChild({
    name: "dispatch",
    cwd: root,
    command: [
      ...(options.wrap ?? []),
      process.execPath,
      join(root, "src/main.ts"),
      ...["--owner", options.owner, "--repo", options.repo, "--tag", options.tag],
      ...["--bind", options.bind, "--api-url", options.apiUrl, "--no-mdns", "--state", stateDir],
    ],
    // The token goes by environment, as a user would pass it: not visible in the process list.
    env: { GITHUB_TOKEN: options.token },
    line: (line) => line.replace(/^\d{4}-\d\d-\d\dT[\d:]+Z /, ""),
  });
  const stop = async () => {
    try {
      return await child.stop();
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  };
  try {
    const listening = await child.waitForLine(/^listening on \S+:\d+;/, 20_000);
    return { ...child, stop, port: Number(/:(\d+);/.exec(listening)![1]) };
  } catch (error) {
    await stop();
    throw error;
  }
}
