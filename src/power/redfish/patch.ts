import { PowerError } from "../driver.ts";
import type { Answer, RedfishClient } from "./client.ts";
import { statusError } from "./errors.ts";
import { settle, type TaskLimits } from "./task.ts";

/** A resource's ETag: the header, else `@odata.etag` in the body (some BMCs give only one). */
export function etagOf(answer: Answer): string | undefined {
  const header = answer.headers.get("etag");
  const property = (answer.body as { "@odata.etag"?: unknown } | undefined)?.["@odata.etag"];
  const tag = header ?? (typeof property === "string" ? property : undefined);
  return tag?.trim() || undefined;
}

const isWeak = (tag: string) => tag.startsWith("W/");
/** `W/"x"` → `"x"`; a bare `x` (a BMC that forgot the quotes) → `"x"`. */
const strong = (tag: string) => {
  const opaque = tag.replace(/^W\//, "");
  return opaque.startsWith('"') ? opaque : `"${opaque}"`;
};

/**
 * PATCHes `path` with If-Match, the way real BMCs need it (DSP0266 §13.2.4: a service may
 * require If-Match and answer 428 without it, 412 when it does not match):
 * - the ETag of the last GET is always sent when there is one;
 * - 428 without one: GET again for it, else send `If-Match: *`;
 * - 412: GET again and retry with the fresh ETag; a weak ETag (`W/"…"`) that strong comparison
 *   can never match (RFC 9110 §13.1.1) is sent again without `W/`; a last try goes without
 *   If-Match, as some BMCs (seen on Lenovo XCC and Gigabyte) refuse even their own ETag.
 * At most five PATCHes. `notes` gets one line for each quirk met. Other 4xx throw, with the BMC's
 * message; 400s are handed back when listed in `accept` (the caller has a fallback).
 */
export async function patchResource(
  client: RedfishClient,
  path: string,
  body: unknown,
  known: { etag: string | undefined },
  limits: TaskLimits,
  notes: string[],
  accept: readonly number[] = [],
): Promise<Answer> {
  const what = `PATCH ${path}`;
  const refetch = async () => etagOf(await client.request("GET", path));
  // The ETag of the last GET; after a change of ours it is stale, so GET it again first.
  let ifMatch = known.etag ?? (await refetch());
  const tried = new Set<string>();
  for (let attempt = 0; attempt < 5; attempt++) {
    tried.add(ifMatch ?? "(none)");
    const answer = await client.request("PATCH", path, {
      body,
      headers: ifMatch ? { "if-match": ifMatch } : {},
      accept: [412, 428, ...accept],
    });
    if (answer.status === 428) {
      const fresh = await refetch();
      const next = fresh && !tried.has(fresh) ? fresh : "*";
      if (tried.has(next)) break;
      notes.push(`the BMC requires If-Match (428) ${fresh ? "and gave its ETag on a second GET" : "and gives no ETag: sent If-Match: *"}`);
      ifMatch = next;
      continue;
    }
    if (answer.status === 412) {
      const fresh = (await refetch()) ?? ifMatch;
      if (fresh && !tried.has(fresh)) {
        ifMatch = fresh;
        continue;
      }
      if (fresh && isWeak(fresh) && !tried.has(strong(fresh))) {
        notes.push(`the BMC refused its own weak ETag ${fresh} in If-Match (412): sent it without W/`);
        ifMatch = strong(fresh);
        continue;
      }
      if (!tried.has("(none)")) {
        notes.push("the BMC refused its own ETag in If-Match (412): sent the change without If-Match");
        ifMatch = undefined;
        continue;
      }
      throw statusError(`${what} (If-Match ${[...tried].join(", ")})`, 412, answer.body);
    }
    known.etag = undefined; // changed: the next PATCH GETs the new ETag first
    return settle(client, what, answer, limits);
  }
  throw new PowerError(`${what}: the BMC keeps asking for a precondition (428) whatever If-Match is sent`, "refused");
}
