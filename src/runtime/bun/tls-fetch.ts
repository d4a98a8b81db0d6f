import type { FetchLike, TlsPolicy } from "../tls-types.ts";

/** Bun's fetch takes node-style TLS options per request. */
export function bunTlsFetch(policy: TlsPolicy): FetchLike {
  const tls = { rejectUnauthorized: policy.verify, ...(policy.ca ? { ca: policy.ca } : {}) };
  return (url, init) => fetch(url, { ...init, redirect: "manual", tls });
}
