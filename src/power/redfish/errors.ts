import { PowerError } from "../driver.ts";

/** Redfish error bodies carry their reason in `error.@Message.ExtendedInfo[].Message` (DMTF DSP0266 §9.6). */
export function extendedMessages(body: unknown): string[] {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  const infos = (error?.["@Message.ExtendedInfo"] ?? []) as { Message?: unknown; MessageId?: unknown }[];
  const messages = Array.isArray(infos) ? infos.flatMap((i) => (typeof i?.Message === "string" ? [i.Message] : typeof i?.MessageId === "string" ? [i.MessageId] : [])) : [];
  if (messages.length === 0 && typeof error?.message === "string") messages.push(error.message);
  return messages;
}

/** The MessageIds of an error body, without their registry prefix: "Base.1.8.PropertyNotWritable" → "PropertyNotWritable". */
export function messageIds(body: unknown): string[] {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  const infos = (error?.["@Message.ExtendedInfo"] ?? []) as { MessageId?: unknown }[];
  const ids = Array.isArray(infos) ? infos.flatMap((i) => (typeof i?.MessageId === "string" ? [i.MessageId] : [])) : [];
  if (typeof error?.code === "string") ids.push(error.code);
  return ids.map((id) => id.split(".").pop()!);
}

/** A BMC's answer of 4xx/5xx as a PowerError the core can act on. */
export function statusError(what: string, status: number, body: unknown): PowerError {
  const said = extendedMessages(body);
  const detail = said.length ? `: ${said.join(" ")}` : "";
  if (status === 401 || status === 403) {
    return new PowerError(`${what}: ${status}, the BMC refused the user name or password (or the user lacks the rights)${detail}`, "credentials");
  }
  if (status === 404 || status === 405 || status === 501) return new PowerError(`${what}: ${status}, the BMC does not offer this${detail}`, "unsupported");
  if (status >= 500) return new PowerError(`${what}: ${status}, the BMC failed${detail}`, "refused");
  return new PowerError(`${what}: ${status}, refused${detail || " (no reason given)"}`, "refused");
}

/** A fetch that threw (no HTTP answer at all) as a PowerError; `retryable` when another try may work. */
export function transportError(what: string, error: unknown, timeoutMs: number): { error: PowerError; retryable: boolean } {
  const name = (error as { name?: string })?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return { error: new PowerError(`${what}: no answer within ${timeoutMs / 1000} s`, "timeout"), retryable: true };
  }
  const code = String((error as { code?: unknown })?.code ?? "");
  // Deno puts the reason (e.g. "invalid peer certificate: UnknownIssuer") in the cause.
  const cause = (error as { cause?: { message?: unknown } })?.cause?.message;
  const text = `${code} ${String((error as { message?: unknown })?.message ?? error)} ${String(cause ?? "")}`;
  if (/CERT|certificate|self.signed|UNABLE_TO_VERIFY|UnknownIssuer|CaUsedAsEndEntity|TLS|SSL/i.test(text)) {
    const reason = code || "not trusted";
    return {
      error: new PowerError(`${what}: the BMC's TLS certificate was not accepted (${reason}); give its CA with ca = "…" in the lab file, or set tls_verify = false for this server`, "unreachable"),
      retryable: false,
    };
  }
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo|dns error|failed to lookup/i.test(text)) {
    return { error: new PowerError(`${what}: the BMC's host name does not resolve (${code || "DNS"})`, "unreachable"), retryable: true };
  }
  const why = /ECONNREFUSED|refused/i.test(text) ? "connection refused" : /ECONNRESET|reset/i.test(text) ? "connection reset" : code || "no connection";
  return { error: new PowerError(`${what}: the BMC cannot be reached (${why})`, "unreachable"), retryable: true };
}
