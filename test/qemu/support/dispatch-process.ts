import { join } from "node:path";
import { type DispatchProcess, startDispatchProcess } from "../../support/dispatch-process.ts";
import { toolEnv } from "./tools.ts";

/**
 * dispatch as users run it: `bun src/main.ts …` in its own process, reading a (fake) GitHub
 * over HTTP. Its log lines are kept, without their timestamps, for tests to wait for and check.
 */

const root = join(import.meta.dir, "../../..");

/** A release from a (fake) GitHub, or a folder of workload files with a folder for the reports (no GitHub at all). */
export type DispatchOptions = {
  readonly bind: string;
  /** Prefix for the command, e.g. `ip netns exec NS`. */
  readonly wrap?: readonly string[];
} & (
  | { readonly apiUrl: string; readonly token: string; readonly owner: string; readonly repo: string; readonly tag: string }
  | { readonly dir: string; readonly reports: string }
);

export function startBunDispatch(options: DispatchOptions): Promise<DispatchProcess> {
  return startDispatchProcess(
    {
      command: [process.execPath, join(root, "src/main.ts")],
      cwd: root,
      // The token goes by environment, as a user would pass it: not visible in the process list.
      // A folder run gets none at all.
      env: "dir" in options ? { ...toolEnv } : { ...toolEnv, GITHUB_TOKEN: options.token },
      wrap: options.wrap,
      line: (line) => line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ""),
    },
    [
      ...("dir" in options
        ? ["--dir", options.dir, "--reports", options.reports]
        : ["--owner", options.owner, "--repo", options.repo, "--tag", options.tag, "--api-url", options.apiUrl]),
      ...["--bind", options.bind, "--no-mdns"],
    ],
  );
}
