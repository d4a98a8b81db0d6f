import { join } from "node:path";

/**
 * Where a run keeps its journal when `--state` is not given: one folder per source (owner,
 * repository, release) under the user's state directory (XDG: $XDG_STATE_HOME, else
 * ~/.local/state). Each part is encoded, so a tag like `release/1.0` or `..` stays one folder.
 */
export function defaultStateDir(env: (name: string) => string | undefined, parts: readonly string[]): string | undefined {
  const xdg = env("XDG_STATE_HOME");
  const home = env("HOME") ?? env("USERPROFILE");
  const base = xdg && xdg.startsWith("/") ? xdg : home ? join(home, ".local", "state") : undefined;
  if (!base) return undefined;
  return join(base, "dispatch", ...parts.map(segment));
}

function segment(name: string): string {
  const encoded = encodeURIComponent(name);
  return encoded === "." || encoded === ".." ? encoded.replaceAll(".", "%2E") : encoded;
}
