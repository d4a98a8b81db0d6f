import pkg from "../package.json" with { type: "json" };

/** Stamped into the binary at build time; from package.json when run from source. */
export const version: string = pkg.version;
