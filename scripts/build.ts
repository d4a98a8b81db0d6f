#!/usr/bin/env bun
// Compiles dispatch into one executable that needs nothing beside it (no Bun, no node_modules).
//   bun run build          dist/dispatch for this machine
//   bun run build --all    dist/dispatch-linux-{x64,arm64}[-musl] and dist/SHA256SUMS
// Cross-compiling fetches each target's Bun runtime from the npm registry (cached after that).
import { createHash } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import pkg from "../package.json" with { type: "json" };

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");

/** The release targets; `bun build --compile --target=…` names. */
export const targets = ["bun-linux-x64", "bun-linux-arm64", "bun-linux-x64-musl", "bun-linux-arm64-musl"] as const;
type Target = (typeof targets)[number];

/** package.json's version, plus the commit as semver build metadata when built from a git checkout. */
export async function buildVersion(): Promise<string> {
  const git = async (...args: string[]) => {
    try {
      const child = Bun.spawn(["git", ...args], { cwd: root, stdout: "pipe", stderr: "ignore" });
      const out = (await new Response(child.stdout).text()).trim();
      return (await child.exited) === 0 ? out : undefined;
    } catch {
      return undefined; // no git here: a source tarball
    }
  };
  const commit = await git("rev-parse", "--short=10", "HEAD");
  if (!commit) return pkg.version;
  const dirty = (await git("status", "--porcelain", "--untracked-files=no")) ? ".dirty" : "";
  return `${pkg.version}+g${commit}${dirty}`;
}

/** Compiles one executable; `target` undefined means this machine. */
export async function compile(outfile: string, version: string, target?: Target): Promise<void> {
  const result = await Bun.build({
    entrypoints: [join(root, "src/main.ts")],
    minify: true,
    // Precompiled bytecode: starts about a quarter faster (scripts/startup.ts), for 3 MiB more.
    bytecode: true,
    format: "esm",
    define: { DISPATCH_VERSION: JSON.stringify(version) },
    compile: {
      outfile,
      ...(target && { target }),
      // A jump host's working folder may hold anyone's .env or bunfig.toml: the binary ignores
      // them, so it behaves the same wherever it is started (as it does under Deno).
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
  });
  if (!result.success) throw new AggregateError(result.logs, `building ${basename(outfile)} failed`);
}

async function sha256(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function main(argv: string[]): Promise<void> {
  const unknown = argv.filter((a) => a !== "--all");
  if (unknown.length) throw new Error(`unknown argument ${unknown[0]}; usage: bun run build [--all]`);
  const all = argv.includes("--all");
  const version = await buildVersion();
  await mkdir(dist, { recursive: true });

  const builds: { name: string; target?: Target }[] = all ? targets.map((t) => ({ name: `dispatch-${t.slice("bun-".length)}`, target: t })) : [{ name: "dispatch" }];
  for (const { name, target } of builds) {
    const started = performance.now();
    const outfile = join(dist, name);
    await compile(outfile, version, target);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`dist/${name}  ${version}  ${target ?? "this machine"}  ${mib((await stat(outfile)).size)}  ${seconds} s`);
  }
  if (all) {
    // The format `sha256sum -c SHA256SUMS` reads: hash, two spaces, file name.
    const lines = await Promise.all(builds.map(async ({ name }) => `${await sha256(join(dist, name))}  ${name}\n`));
    await writeFile(join(dist, "SHA256SUMS"), lines.join(""));
    console.log("dist/SHA256SUMS");
  }
}

if (import.meta.main) {
  try {
    await main(Bun.argv.slice(2));
  } catch (error) {
    console.error(`build: ${(error as Error).message}`);
    for (const log of (error as AggregateError).errors ?? []) console.error(String(log));
    process.exit(1);
  }
}
