/** One address of a network interface, as `node:os` networkInterfaces() lists it. */
export type NicAddress = { readonly address: string; readonly family: string | number; readonly internal: boolean };
export type Nics = Readonly<Record<string, readonly NicAddress[] | undefined>>;

/** Where to announce: interface names (with the IPv4 address ciao sends from) and the addresses to advertise. */
export type AnnounceTarget = {
  readonly interfaces: readonly { readonly name: string; readonly ipv4: string }[];
  /** Only these addresses go into the A/AAAA records; undefined = every address of the interfaces. */
  readonly addresses?: readonly string[];
  /** Whether AAAA records are advertised (the server listens on IPv6 too). */
  readonly ipv6: boolean;
  /** Why an interface (or everything) was left out, for a warning. */
  readonly problems: readonly string[];
};

const isIPv4 = (a: NicAddress) => a.family === "IPv4" || a.family === 4;
const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The interfaces that serve the bind address. A wildcard bind is served by every non-loopback
 * interface; a specific address by the one holding it. `chosen` (--mdns-interface) overrides the
 * list. ciao sends over IPv4 multicast, so an interface needs an IPv4 address to announce on.
 */
export function announceTarget(bindHost: string, chosen: readonly string[], nics: Nics): AnnounceTarget {
  const problems: string[] = [];
  const wildcard = bindHost === "0.0.0.0" || bindHost === "::";
  const ipv6 = bindHost.includes(":");
  const ipv4Of = (name: string) => nics[name]?.find(isIPv4)?.address;

  let names: string[];
  if (chosen.length > 0) {
    names = [];
    for (const name of new Set(chosen)) {
      if (!nics[name]) problems.push(`there is no network interface "${name}" that is up (up: ${Object.keys(nics).join(", ")})`);
      else names.push(name);
    }
  } else {
    names = Object.entries(nics)
      .filter(([, addresses]) => addresses?.some((a) => !a.internal))
      .map(([name]) => name);
  }

  if (!wildcard) {
    const holder = Object.keys(nics).find((name) => nics[name]?.some((a) => sameAddress(a.address, bindHost)));
    if (!holder) {
      problems.push(`no network interface holds the bind address ${bindHost}`);
      names = [];
    } else if (nics[holder]?.some((a) => a.internal && sameAddress(a.address, bindHost))) {
      problems.push(`bound to loopback (${bindHost}): nothing on the network can reach it`);
      names = [];
    } else if (!ipv6 && ipv4Of(holder) !== bindHost) {
      // ciao keeps one IPv4 address per interface, the first; it cannot announce another one.
      problems.push(`ciao announces only the first IPv4 address of ${holder} (${ipv4Of(holder)}), not ${bindHost}: bind to that or to 0.0.0.0`);
      names = [];
    } else if (!names.includes(holder)) {
      problems.push(`the bind address ${bindHost} is on ${holder}, which --mdns-interface leaves out`);
      names = [];
    } else {
      names = [holder];
    }
  }

  const interfaces: { name: string; ipv4: string }[] = [];
  for (const name of names) {
    const ipv4 = ipv4Of(name);
    if (ipv4) interfaces.push({ name, ipv4 });
    // Unasked-for interfaces without IPv4 (a container's veth, say) are left out quietly.
    else if (chosen.length > 0 || !wildcard) problems.push(`${name} has no IPv4 address, which mDNS announcements are sent from`);
  }
  if (interfaces.length === 0 && problems.length === 0) {
    problems.push("there is no network interface with an IPv4 address besides loopback");
  }
  return { interfaces, ...(!wildcard && { addresses: [bindHost] }), ipv6, problems };
}
