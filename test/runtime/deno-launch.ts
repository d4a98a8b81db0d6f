import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Launch } from "../support/dispatch-process.ts";

// Deno comes from the npm registry (@deno/linux-x64-glibc, pinned in package.json) and resolves
// dispatch's packages from the node_modules bun installed (deno.json: nodeModulesDir "manual").
const root = join(import.meta.dir, "../..");
const deno = join(root, "node_modules/@deno/linux-x64-glibc/deno");

/** `deno run -A src/main.ts` with the pinned Deno; undefined (with a warning) where that Deno cannot run. */
export function denoLaunch(env: Record<string, string> = {}): Launch | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") {
    console.warn(`skipping the Deno run: the pinned Deno package is for linux-x64, this is ${process.platform}-${process.arch}`);
    return undefined;
  }
  if (!existsSync(deno)) throw new Error(`${deno} is missing: run bun install`);
  return {
    command: [deno, "run", "-A", "src/main.ts"],
    cwd: root,
    // No update check: it would reach for the internet, and tests stay on loopback.
    env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", DENO_NO_UPDATE_CHECK: "1", ...env },
  };
}
