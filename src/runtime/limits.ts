import * as v from "valibot";
import type { ServeLimits } from "./types.ts";

/** The environment variable that changes the client limits (for tests, and labs with unusual clients). */
export const limitsVariable = "DISPATCH_SERVE_LIMITS";

const example = `${limitsVariable}='{"writeStallMs":300000,"maxHeaderBytes":32768}'`;
/** The fields it takes, as the README lists them. */
const names = ["headersTimeoutMs", "bodyIdleMs", "bodyTotalMs", "writeStallMs", "maxHeaderBytes", "maxBodyBytes", "maxReportBytes", "stopGraceMs"];
const positive = (what: string) => v.pipe(v.number(`must be a number of ${what}`), v.safeInteger(`must be a whole number of ${what}`), v.minValue(1, "must be at least 1"));
const Schema = v.strictObject(
  {
    headersTimeoutMs: v.optional(positive("milliseconds")),
    bodyIdleMs: v.optional(positive("milliseconds")),
    bodyTotalMs: v.optional(positive("milliseconds")),
    // The older name: a deadline for the whole body. Taken as the idle window, which gives every
    // value at least the room it gave before.
    bodyTimeoutMs: v.optional(positive("milliseconds")),
    writeStallMs: v.optional(positive("milliseconds")),
    maxHeaderBytes: v.optional(positive("bytes")),
    maxBodyBytes: v.optional(positive("bytes")),
    maxReportBytes: v.optional(positive("bytes")),
    stopGraceMs: v.optional(positive("milliseconds")),
  },
  `is not one of ${names.join(", ")}`,
);

/** DISPATCH_SERVE_LIMITS cannot be used: a usage error (exit status 2), the message says what to set. */
export class LimitsError extends Error {
  override name = "LimitsError";
  readonly exitCode = 2;
}

/** The limits set in DISPATCH_SERVE_LIMITS (a JSON object of `ServeLimits` fields); none when unset. */
export function limitsFromEnv(text: string | undefined): Partial<ServeLimits> {
  if (text === undefined || text.trim() === "") return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LimitsError(`${limitsVariable} is not JSON: ${JSON.stringify(text.slice(0, 80))}. Set it like ${example}, or unset it.`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new LimitsError(`${limitsVariable} must be a JSON object. Set it like ${example}, or unset it.`);
  }
  const result = v.safeParse(Schema, json);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? "the value"} ${issue.message}`);
    throw new LimitsError(`${limitsVariable}: ${problems.join("; ")}. Set it like ${example}, or unset it.`);
  }
  const { bodyTimeoutMs, ...given } = result.output;
  const limits: Partial<ServeLimits> = { ...(bodyTimeoutMs !== undefined && { bodyIdleMs: bodyTimeoutMs }), ...given };
  // Drop absent fields, so they do not overwrite the defaults when spread.
  return Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
}
