/**
 * fetch towards a host whose TLS certificate is checked against a CA of the lab's, or not at all
 * (BMCs ship self-signed certificates). Web fetch has no standard way to say either per request,
 * so each runtime gives its own: Bun's `tls` option, Deno's HttpClient (a CA) and node:https
 * (no verification: Deno's HttpClient has no switch for it, only a process-wide flag).
 */

export type TlsPolicy = {
  /** false: accept any certificate (the lab file's `tls_verify = false`). */
  readonly verify: boolean;
  /** PEM text of a CA to trust besides the system's. */
  readonly ca?: string;
};

export type FetchInit = {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly signal: AbortSignal;
};

/** The part of fetch the BMC drivers use; tests pass their own. */
export type FetchLike = (url: string, init: FetchInit) => Promise<Response>;

export async function tlsFetch(policy: TlsPolicy): Promise<FetchLike> {
  if ("Deno" in globalThis) return (await import("./deno/tls-fetch.ts")).denoTlsFetch(policy);
  return (await import("./bun/tls-fetch.ts")).bunTlsFetch(policy);
}
