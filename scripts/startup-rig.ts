// What both start-up measurements share (scripts/startup.ts, scripts/beacon-startup.ts): where
// the three ways of running dispatch are, a bare environment, and the --runs flag.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildVersion, compile } from "./build.ts";

export const root = join(import.meta.dir, "..");
export const binary = join(root, "dist/dispatch");
export const deno = join(root, "node_modules/@deno/linux-x64-glibc/deno");
/** Nothing of this shell's: each way starts as alike as it can. */
export const env = { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", DENO_NO_UPDATE_CHECK: "1" };

/** `--runs N` from the command line, else `fallback`. */
export function runsFromArgs(fallback: number): number {
  const flag = Bun.argv.indexOf("--runs");
  const runs = flag > 0 ? Number(Bun.argv[flag + 1]) : fallback;
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs needs a positive whole number");
  return runs;
}

/** Builds dist/dispatch when it is not there yet. */
export async function ensureBinary(): Promise<void> {
  if (existsSync(binary)) return;
  console.log("building dist/dispatch first");
  await compile(binary, await buildVersion());
}

/** Prints each way's median, min–max and ratio to the first way's median, in milliseconds. */
export function printTimes(heading: string, names: readonly string[], times: ReadonlyMap<string, readonly number[]>): void {
  const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: readonly number[]) => {
    const s = sorted(xs);
    const mid = s.length >> 1;
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  };
  const baseline = median(times.get(names[0]!)!);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  console.log(`${heading}, ${times.get(names[0]!)!.length} runs each (median, min–max; ratio to ${names[0]})`);
  for (const name of names) {
    const xs = sorted(times.get(name)!);
    const m = median(xs);
    console.log(`  ${name.padEnd(width)} ${m.toFixed(0).padStart(5)} ms  (${xs[0]!.toFixed(0)}–${xs.at(-1)!.toFixed(0)})  ×${(m / baseline).toFixed(2)}`);
  }
}
