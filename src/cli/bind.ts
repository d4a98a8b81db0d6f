import type { BindAddress } from "../app/config.ts";

/**
 * `0.0.0.0:8080`, `[::]:8080`, `127.0.0.2:0`, or a bare port (`8080`, all IPv4 interfaces).
 * Throws with the accepted forms on anything else.
 */
export function parseBind(value: string): BindAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new Error(`--bind "${value}" is not an address and port: use e.g. 0.0.0.0:8080, [::]:8080 or 192.0.2.1:8080`);
  }
  return { hostname: match[1] || match[2] || "0.0.0.0", port };
}
