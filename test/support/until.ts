/** What a wait may be told besides its condition. */
export type UntilOptions = {
  /** How long before it gives up (default 10 s: room for a busy 2-core machine). */
  readonly timeoutMs?: number;
  /** Time between two checks (default 20 ms). */
  readonly everyMs?: number;
  /** Why waiting longer is pointless (e.g. the process exited), or undefined to keep waiting. */
  readonly hopeless?: () => string | undefined;
  /** What to show beside the error when the wait fails (a log, a screen). */
  readonly context?: () => string;
};

/**
 * The one polling wait of the tests: checks until `check` gives a truthy value and returns it.
 * Bounded, so a broken test fails with what it waited for instead of hanging; `hopeless` ends
 * the wait early once the thing waited on cannot happen any more.
 */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string,
  options: number | UntilOptions = {},
): Promise<Exclude<T, false | 0 | "" | null | undefined>> {
  const { timeoutMs = 10_000, everyMs = 20, hopeless, context } = typeof options === "number" ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  const fail = (why: string) => new Error(`${why} ${what}${context ? `:\n${context()}` : ""}`);
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | 0 | "" | null | undefined>;
    const reason = hopeless?.();
    if (reason !== undefined) throw fail(`${reason} before`);
    if (Date.now() > deadline) throw fail(`timed out after ${timeoutMs / 1000} s waiting for`);
    await Bun.sleep(everyMs);
  }
}

/**
 * For "nothing happens" checks, which no signal can end: checks `check` through a stated
 * window and fails the moment it stops holding. The window is what the test claims: the thing
 * must not happen within `windowMs` (chosen well past the time it would take if it did).
 */
export async function holds(check: () => boolean | Promise<boolean>, what: string, windowMs: number, everyMs = 20): Promise<void> {
  const end = Date.now() + windowMs;
  do {
    if (!(await check())) throw new Error(`${what} stopped holding within the ${windowMs} ms window`);
    await Bun.sleep(everyMs);
  } while (Date.now() < end);
  if (!(await check())) throw new Error(`${what} stopped holding within the ${windowMs} ms window`);
}
