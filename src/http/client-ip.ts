import type { Context } from "hono";

/** What each runtime adapter passes to the app alongside the request. */
export type Bindings = { readonly remoteAddress: string };
export type AppEnv = { Bindings: Bindings };

/** The server's identity: its address, with IPv4-mapped IPv6 (`::ffff:a.b.c.d`) folded to IPv4. */
export function normalizeIp(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}

export function clientIp(c: Context<AppEnv>): string {
  return normalizeIp(c.env.remoteAddress);
}
