// Pre-signed storage URLs, in the shape GitHub's asset redirect uses
// (https://objects.githubusercontent.com/github-production-release-asset-2e65be/<repo_id>/<uuid>?X-Amz-...).
// The signature is an HMAC over the path and every other query parameter, so any tampering fails.

import type { AssetRecord, State } from "./model.ts";

export const STORAGE_PREFIX = "/github-production-release-asset-2e65be";
export const URL_TTL_SECONDS = 300;

function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return Number.NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

function canonical(path: string, params: URLSearchParams): string {
  const pairs = [...params.entries()].filter(([k]) => k !== "X-Amz-Signature");
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${path}\n${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`;
}

function hmac(key: string, text: string): string {
  const h = new Bun.CryptoHasher("sha256", key);
  h.update(text);
  return h.digest("hex");
}

export function signedAssetUrl(state: State, asset: AssetRecord, now = new Date()): string {
  const path = `${STORAGE_PREFIX}/${state.repoId}/${asset.storageKey}`;
  const date = amzDate(now);
  const params = new URLSearchParams({
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": `AKIAFAKEFAKEFAKEFAKE/${date.slice(0, 8)}/us-east-1/s3/aws4_request`,
    "X-Amz-Date": date,
    "X-Amz-Expires": String(URL_TTL_SECONDS),
    "X-Amz-SignedHeaders": "host",
    actor_id: "0",
    key_id: "0",
    repo_id: String(state.repoId),
    // A name beyond ASCII (the tests' emoji names) goes as RFC 6266's filename*: a header holds no such bytes.
    "response-content-disposition": /^[\x20-\x7e]*$/.test(asset.name) ? `attachment; filename=${asset.name}` : `attachment; filename*=UTF-8''${encodeURIComponent(asset.name)}`,
    "response-content-type": "application/octet-stream",
  });
  params.set("X-Amz-Signature", hmac(state.signingKey, canonical(path, params)));
  return `${state.storageUrl}${path}?${params.toString()}`;
}

export type SignatureCheck = { ok: true } | { ok: false; code: "AccessDenied" | "SignatureDoesNotMatch"; message: string };

export function checkSignature(state: State, path: string, params: URLSearchParams, now = Date.now()): SignatureCheck {
  const signature = params.get("X-Amz-Signature");
  if (!signature || params.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") {
    return { ok: false, code: "AccessDenied", message: "Access Denied" };
  }
  if (hmac(state.signingKey, canonical(path, params)) !== signature) {
    return {
      ok: false,
      code: "SignatureDoesNotMatch",
      message: "The request signature we calculated does not match the signature you provided.",
    };
  }
  const issued = parseAmzDate(params.get("X-Amz-Date") ?? "");
  const ttl = Number(params.get("X-Amz-Expires"));
  if (!(now <= issued + ttl * 1000)) return { ok: false, code: "AccessDenied", message: "Request has expired" };
  return { ok: true };
}
