import { networkInterfaces } from "node:os";

/**
 * The boot URLs to tell servers about. A wildcard bind is shown as one URL per interface
 * address, since "0.0.0.0" is not something a server can be pointed at.
 */
export function bootUrls(hostname: string, port: number, path: string): string[] {
  const wildcard = hostname === "0.0.0.0" || hostname === "::";
  if (!wildcard) return [`http://${urlHost(hostname)}:${port}${path}`];
  const urls: string[] = [];
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.internal || (hostname === "0.0.0.0" && a.family !== "IPv4")) continue;
      if (a.family === "IPv6" && a.address.startsWith("fe80")) continue; // link-local needs a zone
      urls.push(`http://${urlHost(a.address)}:${port}${path}`);
    }
  }
  return urls.length > 0 ? urls : [`http://${urlHost(hostname)}:${port}${path}`];
}

/** How to write the address in a URL: IPv6 literals go in brackets. */
export function urlHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
