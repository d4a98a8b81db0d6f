import type { Runtime } from "../runtime/types.ts";

/**
 * The jump host's neighbour table (ARP and NDP): how a server given by `mac = …` is matched to
 * the address it boots from. A server that is off has no entry yet, so the lookup that matters
 * is the other way: an address that asks for a workload, and the MAC behind it.
 */
export type Neighbour = { readonly ip: string; readonly mac: string; readonly device: string };

/** `ip -j neigh`: entries with a link-layer address (FAILED and INCOMPLETE ones have none, NOARP ones all zeros). */
export function parseIpNeigh(json: string): Neighbour[] {
  const entries = JSON.parse(json) as { dst?: string; dev?: string; lladdr?: string; state?: string[] }[];
  return entries.flatMap(({ dst, dev, lladdr, state }) =>
    dst && lladdr && usable(lladdr) && !state?.some((s) => s === "FAILED" || s === "INCOMPLETE") ? [{ ip: dst, mac: lladdr.toLowerCase(), device: dev ?? "" }] : [],
  );
}

/** /proc/net/arp (IPv4 only): flags 0x0 is an entry still being resolved. */
export function parseProcNetArp(text: string): Neighbour[] {
  return text
    .split("\n")
    .slice(1)
    .flatMap((line) => {
      const [ip, , flags, mac, , device] = line.trim().split(/\s+/);
      return ip && mac && device && Number(flags) !== 0 && usable(mac) ? [{ ip, mac: mac.toLowerCase(), device }] : [];
    });
}

const usable = (mac: string) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) && !/^(00:){5}00$/.test(mac);

/** The table now: `ip -j neigh`, or /proc/net/arp where iproute2 is missing. */
export async function readNeighbours(runtime: Pick<Runtime, "run" | "files">): Promise<Neighbour[]> {
  const result = await runtime.run(["ip", "-j", "neigh", "show"], { timeoutMs: 5_000 });
  if (result?.code === 0) return parseIpNeigh(result.stdout);
  return parseProcNetArp((await runtime.files.readText("/proc/net/arp")) ?? "");
}

/** The address a MAC has now: IPv4 first (UEFI HTTP boot is mostly over IPv4), link-local IPv6 last. */
export function addressOf(mac: string, table: readonly Neighbour[]): string | undefined {
  const wanted = mac.toLowerCase().replaceAll("-", ":");
  const rank = (ip: string) => (ip.includes(":") ? (/^fe80:/i.test(ip) ? 2 : 1) : 0);
  return table
    .filter((n) => n.mac === wanted)
    .map((n) => n.ip)
    .sort((a, b) => rank(a) - rank(b))[0];
}

/** The MAC behind an address that asked, to match a boot request to a `mac = …` server. */
export function macOf(ip: string, table: readonly Neighbour[]): string | undefined {
  return table.find((n) => n.ip === ip)?.mac;
}
