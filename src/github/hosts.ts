/**
 * Where an asset download may be redirected. GitHub sends release assets to its own storage
 * hosts; anything else is refused, so a tampered API answer cannot point servers elsewhere.
 */
const githubHosts = [/^(.+\.)?github\.com$/, /^(.+\.)?githubusercontent\.com$/, /^github-production-release-asset-[a-z0-9]+\.s3\.amazonaws\.com$/];

export function isAllowedRedirect(target: URL, apiUrl: URL): boolean {
  // Never downgrade to plain HTTP unless the API itself is plain HTTP (a test or a lab GHE).
  if (target.protocol !== "https:" && !(target.protocol === "http:" && apiUrl.protocol === "http:")) return false;
  const host = target.hostname;
  // The configured (Enterprise) host and its subdomains, e.g. media.ghe.example.com.
  if (host === apiUrl.hostname || host.endsWith(`.${apiUrl.hostname}`)) return true;
  return githubHosts.some((pattern) => pattern.test(host));
}

/** The token goes only to the API's own origin (scheme, host and port). */
export function mayCarryToken(target: URL, apiUrl: URL): boolean {
  return target.origin === apiUrl.origin;
}
