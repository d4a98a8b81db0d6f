import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bunRuntime } from "../../src/runtime/bun/index.ts";
import type { RunOptions, RunResult } from "../../src/runtime/types.ts";
import { run as runNow } from "../support/processes.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { until } from "../support/until.ts";
import { denoLaunch } from "./deno-launch.ts";

// runtime.run, the one way dispatch starts a child with a secret in its environment and a time
// bound (ipmitool, a lab's power commands), under both runtimes.

type Run = (command: string[], options?: RunOptions) => Promise<RunResult | undefined>;

const underBun: Run = (command, options) => bunRuntime.run(command, options);

const underDeno: Run | undefined = (() => {
  const launch = denoLaunch();
  if (!launch) return undefined;
  return async (command, options) => {
    const script = join(import.meta.dir, "run-under-deno.ts");
    const { stdout } = runNow([...launch.command.slice(0, 3), script, JSON.stringify({ command, options })], {
      timeoutMs: 30_000,
      env: launch.env,
    });
    return JSON.parse(stdout) ?? undefined;
  };
})();

const strays: number[] = [];
afterEach(() => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

for (const [name, run] of [["bun", underBun], ["deno", underDeno]] as const) {
  describe.skipIf(!run)(`runtime.run under ${name}`, () => {
    test("exit status, both streams, and the environment it was given beside the inherited one", async () => {
      const result = await run!(["sh", "-c", 'echo "out $DISPATCH_TEST_SECRET"; echo "err $HOME" >&2; exit 3'], {
        env: { DISPATCH_TEST_SECRET: "s3cret" },
      });
      expect(result).toMatchObject({ code: 3, stdout: "out s3cret\n", timedOut: false, truncated: false });
      expect(result!.stderr).toBe(`err ${process.env.HOME}\n`);
    });

    test("a command that is not installed gives undefined", async () => {
      expect(await run!(["dispatch-no-such-command"])).toBeUndefined();
    });

    test("a child past its time bound is stopped and said to have timed out", async () => {
      const result = await run!(["sh", "-c", "echo begun; exec sleep 30"], { timeoutMs: 300 });
      expect(result).toMatchObject({ timedOut: true, code: 128 + 15, stdout: "begun\n" });
    });

    test("a child that ignores SIGTERM is killed", async () => {
      const result = await run!(["sh", "-c", "trap '' TERM; echo begun; while :; do sleep 1; done"], { timeoutMs: 300 });
      expect(result).toMatchObject({ timedOut: true, code: 128 + 9 });
    });

    test("a grandchild holding the pipes open does not hold the run past its bound", async () => {
      const result = await run!(["sh", "-c", "sleep 30 & echo $!"], { timeoutMs: 500 });
      strays.push(Number(result!.stdout.trim()));
      expect(result).toMatchObject({ code: 0, timedOut: false });
      expect(result!.stdout).toMatch(/^\d+\n$/);
    });

    test("output past the bound is dropped and said to be", async () => {
      const result = await run!(["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x; echo done >&2"], { maxOutputBytes: 1000 });
      expect(result).toMatchObject({ code: 0, stdout: "x".repeat(1000), stderr: "done\n", truncated: true });
    });
  });
}

// An AbortSignal cannot cross into the Deno script; the stopping is the shared boundedRun.
describe("runtime.run's signal (Bun)", () => {
  const temp = tempDirs();
  afterEach(() => temp.removeAll());

  test("aborted while the child runs: stopped at once, not said to have timed out", async () => {
    const started = join(temp.make("run-abort-"), "started");
    const stop = new AbortController();
    const result = underBun(["sh", "-c", `echo begun; touch ${started}; exec sleep 30`], { timeoutMs: 60_000, signal: stop.signal });
    await until(() => existsSync(started), "the child to start");
    stop.abort();
    expect(await result).toMatchObject({ timedOut: false, code: 128 + 15, stdout: "begun\n" });
  });

  test("aborted before it starts: the child is stopped as soon as it is there", async () => {
    const result = await underBun(["sleep", "30"], { signal: AbortSignal.abort() });
    expect(result).toMatchObject({ timedOut: false, code: 128 + 15 });
  });
});
