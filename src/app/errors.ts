/** A problem with how dispatch was started (arguments, token, permissions): exit status 2, no stack trace. */
export class UsageError extends Error {
  override name = "UsageError";
  readonly exitCode = 2;
}

/** The exit status a start-up error asks for: 2 for what the user must change (it says so), else 1. */
export function exitCodeOf(error: unknown): number {
  const code = (error as { exitCode?: unknown }).exitCode;
  return typeof code === "number" ? code : 1;
}
