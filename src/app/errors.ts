/** A problem with how dispatch was started (arguments, token, permissions): exit status 2, no stack trace. */
export class UsageError extends Error {
  override name = "UsageError";
}
