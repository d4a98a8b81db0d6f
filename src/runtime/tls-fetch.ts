/**
 * fetch towards a host whose TLS certificate is checked against a CA of the lab's, or not at all
 * (BMCs ship self-signed certificates). Web fetch has no standard way to say either per request,
 * so each runtime gives its own: Bun's `tls` option, Deno's HttpClient (a CA) and node:https
 * (no verification: Deno's HttpClient has no switch for it, only a process-wide flag).
 */

import type { FetchLike, TlsPolicy } from "./tls-types.ts";

export type { FetchInit, FetchLike, TlsPolicy } from "./tls-types.ts";

export async function tlsFetch(policy: TlsPolicy): Promise<FetchLike> {
  if ("Deno" in globalThis) return (await import("./deno/tls-fetch.ts")).denoTlsFetch(policy);
  return (await import("./bun/tls-fetch.ts")).bunTlsFetch(policy);
}
