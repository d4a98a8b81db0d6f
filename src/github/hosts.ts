import { isGitHubDotCom } from "./api-url.ts";

/**
 * Where an asset download may be redirected. github.com sends release assets to its own
 * storage hosts, and only those are followed, so a tampered answer cannot point servers
 * elsewhere. Enterprise Server keeps assets wherever its admin put them (S3, Azure Blob, GCS,
 * MinIO, any host), so for another API any host is followed: the API that names the host is
 * the one trusted with the token, and the token itself never leaves the API's origin.
 */
const githubHosts = [/^(.+\.)?github\.com$/, /^(.+\.)?githubusercontent\.com$/, /^github-production-release-asset-[a-z0-9]+\.s3\.amazonaws\.com$/];

export function isAllowedRedirect(target: URL, apiUrl: URL): boolean {
  // Never downgrade to plain HTTP unless the API itself is plain HTTP (a test or a lab GHE).
  if (target.protocol !== "https:" && !(target.protocol === "http:" && apiUrl.protocol === "http:")) return false;
  if (!isGitHubDotCom(apiUrl)) return true;
  return githubHosts.some((pattern) => pattern.test(target.hostname));
}

/** The token goes only to the API's own origin (scheme, host and port). */
export function mayCarryToken(target: URL, apiUrl: URL): boolean {
  return target.origin === apiUrl.origin;
}
