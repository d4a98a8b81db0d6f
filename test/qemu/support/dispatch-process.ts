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

/** A release from a (fake) GitHub, or a folder of workload files with a folder for the reports (no GitHub at all). */
export type DispatchProcessOptions = {
  readonly bind: string;
  /** Prefix for the command, e.g. `ip netns exec NS`. */
  readonly wrap?: readonly string[];
} & (
  | { readonly apiUrl: string; readonly token: string; readonly owner: string; readonly repo: string; readonly tag: string }
  | { readonly dir: string; readonly reports: string }
);

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
      ...("dir" in options
        ? ["--dir", options.dir, "--reports", options.reports]
        : ["--owner", options.owner, "--repo", options.repo, "--tag", options.tag, "--api-url", options.apiUrl]),
      ...["--bind", options.bind, "--no-mdns", "--state", stateDir],
    ],
    // The token goes by environment, as a user would pass it: not visible in the process list.
    // A folder run gets none at all.
    env: "dir" in options ? {} : { GITHUB_TOKEN: options.token },
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
