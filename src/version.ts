import pkg from "../package.json" with { type: "json" };

// `bun run build` defines this: package.json's version plus the commit it was built from.
declare const DISPATCH_VERSION: string | undefined;

/** Stamped into the binary at build time; from package.json when run from source (Bun or Deno). */
export const version: string = typeof DISPATCH_VERSION === "string" ? DISPATCH_VERSION : pkg.version;
