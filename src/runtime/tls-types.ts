/** What a fetch towards a BMC needs to know about TLS, and the part of fetch the drivers use. */

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
