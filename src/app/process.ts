import type { Runtime } from "../runtime/types.ts";
import type { Output } from "../ui/output.ts";
import { UsageError } from "./errors.ts";
import type { Run } from "./run.ts";

export type ProcessOptions = {
  readonly runtime: Runtime;
  /** Where "stopping" and "done" go; may change once the output is chosen. */
  readonly out: () => Output;
  /** Exit once the run is settled: 0 if every job finished, 1 if any failed. */
  readonly exitWhenDone: boolean;
};

/**
 * Owns the process around a run: the signals, `--exit-when-done`, and the exit status. One stop
 * sequence whatever ends the run. Signal handlers go in before anything starts: a signal right
 * after the "listening" line (a supervisor, a quick Ctrl-C) must still stop the run cleanly; a
 * signal while starting exits at once, since nothing is serving yet.
 */
export async function runProcess(start: (quit: () => void) => Promise<Run>, options: ProcessOptions): Promise<void> {
  const { runtime } = options;
  let run: Run | undefined;
  let ending = false;
  const end = async (code: number, line: string) => {
    if (ending) return;
    ending = true;
    options.out().info(line);
    await run?.stop();
    runtime.exit(code);
  };
  const quit = () => void end(0, "stopping");
  runtime.onSignal("SIGINT", quit);
  runtime.onSignal("SIGTERM", quit);
  try {
    run = await start(quit);
  } catch (error) {
    console.error(`dispatch: ${(error as Error).message}`);
    runtime.exit(error instanceof UsageError ? 2 : 1);
  }
  if (options.exitWhenDone && run) {
    void run.settled.then(({ finished, failed }) => end(failed > 0 ? 1 : 0, `done: ${finished} finished, ${failed} failed`));
  }
}
