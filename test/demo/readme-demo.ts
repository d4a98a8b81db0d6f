import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Child, startProcess } from "../support/processes.ts";
import { until } from "../support/until.ts";

/**
 * The README's set-up-and-run command, run as written: its first step installs Bun with npm,
 * which a test machine has done already (the test checks that it is the same version and runs
 * the rest); the rest runs through `sh` in the repository, as a newcomer would type it.
 */

export const repoRoot = join(import.meta.dir, "../..");

/** The command of the README's "Set up and run from source" section. */
export async function readmeCommand(): Promise<string> {
  const readme = await readFile(join(repoRoot, "README.md"), "utf8");
  const section = readme.split("\n## Set up and run from source\n")[1]?.split("\n## ")[0] ?? "";
  const command = /```sh\n(.+)\n```/.exec(section)?.[1];
  if (!command) throw new Error("the README has no command in its section \"Set up and run from source\"");
  return command;
}

/** The steps after installing Bun, which must be the pinned version this test runs on. */
export async function stepsAfterBun(): Promise<{ installBun: string; rest: string }> {
  const [installBun = "", ...rest] = (await readmeCommand()).split(" && ");
  return { installBun, rest: rest.join(" && ") };
}

/** Starts the steps with `PATH` and `TMPDIR` given (the demo makes its folder in TMPDIR). */
export function runSteps(rest: string, env: { PATH: string; TMPDIR: string }): Child {
  return startProcess(["sh", "-c", rest], { name: "README command", cwd: repoRoot, env: { ...env, NO_COLOR: "1" } });
}

/** The one folder the demo made in `tmp`. */
export function demoFolder(tmp: string): string {
  const made = readdirSync(tmp).filter((name) => name.startsWith("dispatch-demo-"));
  if (made.length !== 1) throw new Error(`expected one dispatch-demo-… folder in ${tmp}, found ${made.join(", ") || "none"}`);
  return join(tmp, made[0]!);
}

/** The report files' front matter, by workload. */
export async function reportsByWorkload(folder: string): Promise<Map<string, string>> {
  const dir = join(folder, "reports");
  const byWorkload = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    const text = await readFile(join(dir, name), "utf8");
    const workload = /^workload: "(.+)"$/m.exec(text)?.[1];
    if (workload) byWorkload.set(workload, text);
  }
  return byWorkload;
}

/** Its exit status, waiting at most `timeoutMs` (a hang guard: a demo that hangs fails with its output). */
export async function exitStatus(child: Child, timeoutMs: number): Promise<number> {
  await until(() => !child.running(), `${child.name} to end`, { timeoutMs, everyMs: 200, context: () => child.output() });
  return child.exited;
}
