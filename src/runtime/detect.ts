import type { Runtime } from "./types.ts";

/** The adapter for the runtime we are on. Both are bundled; only one is ever loaded. */
export async function detectRuntime(): Promise<Runtime> {
  if ("Deno" in globalThis) return (await import("./deno/index.ts")).denoRuntime;
  return (await import("./bun/index.ts")).bunRuntime;
}
