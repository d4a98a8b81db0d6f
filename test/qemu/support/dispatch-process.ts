import { join } from "node:path";
import { type DispatchProcess, startDispatchProcess } from "../../support/dispatch-process.ts";
import { toolEnv } from "./tools.ts";

/**
 * dispatch as users run it: `bun src/main.ts …` in its own process, reading a (fake) GitHub
 * over HTTP. Its log lines are kept, without their timestamps, for tests to wait for and check.
 */

const root = join(import.meta.dir, "../../..");

export type DispatchOptions = {
  readonly apiUrl: string;
  readonly token: string;
  readonly owner: string;
  readonly repo: string;
  readonly tag: string;
  readonly bind: string;
  /** Prefix for the command, e.g. `ip netns exec NS`. */
  readonly wrap?: readonly string[];
};

export function startBunDispatch(options: DispatchOptions): Promise<DispatchProcess> {
  return startDispatchProcess(
    {
      command: [process.execPath, join(root, "src/main.ts")],
      cwd: root,
      // The token goes by environment, as a user would pass it: not visible in the process list.
      env: { ...toolEnv, GITHUB_TOKEN: options.token },
      wrap: options.wrap,
      line: (line) => line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ""),
    },
    [...["--owner", options.owner, "--repo", options.repo, "--tag", options.tag], ...["--bind", options.bind, "--api-url", options.apiUrl, "--no-mdns"]],
  );
}
