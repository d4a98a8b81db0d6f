import type { Runtime } from "../runtime/types.ts";
import type { Output } from "../ui/output.ts";
import { exitCodeOf } from "./errors.ts";
import type { Run } from "./run.ts";

export type ProcessOptions = {
  readonly runtime: Runtime;
  /** Where "stopping" and "done" go; may change once the output is chosen. */
  readonly out: () => Output;
  /** Exit once the run is settled: 0 if every job finished, 1 if any failed (or its report carries a --fail-label). */
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
  const end = async (code: number, lines: readonly { warn?: boolean; text: string }[]) => {
    if (ending) return;
    ending = true;
    const out = options.out();
    for (const line of lines) (line.warn ? out.warn : out.info)(line.text);
    await run?.stop();
    runtime.exit(code);
  };
  // A second signal while stopping: stop waiting for reports in flight.
  const quit = () => (ending ? run?.hurry() : void end(0, [{ text: "stopping" }]));
  runtime.onSignal("SIGINT", quit);
  runtime.onSignal("SIGTERM", quit);
  try {
    run = await start(quit);
  } catch (error) {
    console.error(`dispatch: ${(error as Error).message}`);
    runtime.exit(exitCodeOf(error));
  }
  if (options.exitWhenDone && run) {
    const stateDir = run.stateDir;
    void run.settled.then(({ finished, failed, labelled, unfiled, takenOut }) =>
      end(failed > 0 || labelled > 0 || unfiled.length > 0 || takenOut.length > 0 ? 1 : 0, [
        {
          text: `done: ${finished} finished, ${failed} failed${labelled ? `, ${labelled} failed by a --fail-label` : ""}${unfiled.length ? `, ${unfiled.length} not filed` : ""}`,
        },
        // A refusal for good ends the run too, with where its reports are: the next start files them.
        ...[...new Set(unfiled.map((job) => job.reason))].map((reason) => ({ warn: true, text: `not filed: ${reason}` })),
        ...unfiled.map((job) => ({ warn: true, text: `  ${job.name}: its text is in ${job.keptAt}` })),
        ...takenOut.map((server) => ({ warn: true, text: `taken out: ${server}` })),
        ...(unfiled.length ? [{ warn: true, text: `the reports are kept in ${stateDir}; the next start with the same state folder files them` }] : []),
      ]),
    );
  }
}
