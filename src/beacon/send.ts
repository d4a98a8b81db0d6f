/** What beacon sends: `boot` is a bare POST, `report` a PUT of the report's JSON. */
export type BeaconRequest = { readonly method: "POST" } | { readonly method: "PUT"; readonly json: string };

/** How one dispatch answered one attempt. */
export type Outcome =
  /** 200: done. */
  | { readonly kind: "accepted" }
  /** 417: this dispatch has no job for this machine; another one may. */
  | { readonly kind: "not-mine"; readonly detail: string }
  /** No answer, or one that may change (5xx, 408, 425, 429): ask again later. */
  | { readonly kind: "unanswered"; readonly detail: string }
  /** Any other answer (a 400 for the report's content, 404 for a wrong path): retried too, and named as it is. */
  | { readonly kind: "refused"; readonly detail: string };

const TRANSIENT = new Set([408, 425, 429]);

/** The first line of an answer's text, short enough for one log line. */
const firstLine = (text: string) => (text.split("\n").find((l) => l.trim() !== "")?.trim() ?? "").slice(0, 200);

export async function sendOnce(url: string, request: BeaconRequest, timeoutMs: number): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method,
      ...(request.method === "PUT" && { body: request.json, headers: { "content-type": "application/json" } }),
      signal: AbortSignal.timeout(timeoutMs),
      // Bun: a fresh connection each time (after a dispatch restart a kept-alive one is dead).
      keepalive: false,
    });
  } catch (error) {
    const e = error as Error & { code?: string };
    const reason = e.name === "TimeoutError" ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (e.code ?? e.message);
    return { kind: "unanswered", detail: `no answer (${reason})` };
  }
  const text = await response.text().catch(() => "");
  const detail = `${response.status}${firstLine(text) ? ` ${firstLine(text)}` : ""}`;
  if (response.status === 200) return { kind: "accepted" };
  if (response.status === 417) return { kind: "not-mine", detail };
  if (response.status >= 500 || TRANSIENT.has(response.status)) return { kind: "unanswered", detail };
  return { kind: "refused", detail };
}
