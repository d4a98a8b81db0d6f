import type { Log } from "../core/log.ts";
import { networkInterfaces } from "node:os";
import type { Announcement } from "./announce.ts";
import { type AnnounceTarget, announceTarget } from "./interfaces.ts";
import { multicastProblem } from "./preflight.ts";
import { instanceName, serviceTxt } from "./service.ts";

export type MdnsOptions = {
  readonly bindHost: string;
  readonly port: number;
  /** --mdns-interface: announce on these instead of the interfaces that serve the bind address. */
  readonly interfaces: readonly string[];
  readonly path: string;
  readonly version: string;
  readonly description: string;
  readonly log: Log;
  /** How often the interfaces are looked at again, for one that came up (a lab NIC plugged in late). */
  readonly watchMs?: number;
};

/** A lab NIC that comes up is announced on within about this long (plus probing, about a second). */
const watchEveryMs = 5000;

type Nic = AnnounceTarget["interfaces"][number];
const keyOf = (nic: Nic) => `${nic.name} ${nic.ipv4}`;

/**
 * Announces dispatch where it listens, so beacon finds it without the firmware's boot URI, and
 * follows the interfaces: one that comes up later (or gets its IPv4 address later) and serves
 * the bind address is announced on too. (ciao follows address changes and removals on the
 * interfaces it was given, but is given names once: a new one means a new responder, with a
 * goodbye and a new announcement on the others.) Never throws: whatever stops the announcement
 * is a warning, and serving goes on.
 */
export async function startMdns(options: MdnsOptions): Promise<Announcement | undefined> {
  const { log } = options;
  const name = instanceName();
  const txt = serviceTxt(options.path, options.version, options.description);
  /** Interfaces judged already (announced on, or refused by the multicast check), by name and address. */
  const judged = new Set<string>();
  let current: { readonly announcement: Announcement; readonly on: readonly Nic[] } | undefined;

  /** The target's interfaces not judged yet that pass the multicast check; each warns once. */
  const fresh = async (target: AnnounceTarget): Promise<Nic[]> => {
    const usable: Nic[] = [];
    for (const nic of target.interfaces) {
      if (judged.has(keyOf(nic))) continue;
      judged.add(keyOf(nic));
      const problem = await multicastProblem(nic.ipv4);
      if (problem) log.warn(`mDNS: not announcing on ${nic.name}: ${problem}`);
      else usable.push(nic);
    }
    return usable;
  };
  const announceOn = async (target: AnnounceTarget, on: readonly Nic[]) => {
    await current?.announcement.stop();
    // ciao is loaded only by a run that announces: about 5 MiB that --no-mdns never needs.
    const { announce } = await import("./announce.ts");
    current = { announcement: announce({ name, port: options.port, txt, target: { ...target, interfaces: on }, log }), on };
  };

  try {
    const nics = networkInterfaces();
    // ciao always adds the loopback interface and fails without one (an unhandled rejection).
    if (!Object.values(nics).some((addresses) => addresses?.some((a) => a.internal))) {
      log.warn("mDNS: not announcing: the loopback interface is down, and ciao needs it");
      return undefined;
    }
    const target = announceTarget(options.bindHost, options.interfaces, nics);
    for (const problem of target.problems) log.warn(`mDNS: ${problem}`);
    const usable = await fresh(target);
    if (usable.length === 0) {
      log.warn("mDNS: not announcing on any interface; beacon will find dispatch only through the firmware's boot URI (dispatch announces on one that comes up)");
    } else await announceOn(target, usable);
  } catch (error) {
    log.warn(`mDNS: could not announce: ${(error as Error).message}. Serving goes on.`);
    return undefined;
  }

  let stopped = false;
  let looking: Promise<void> = Promise.resolve();
  const look = async () => {
    const target = announceTarget(options.bindHost, options.interfaces, networkInterfaces());
    const added = await fresh(target);
    if (added.length === 0 || stopped) return;
    // Those announced on that are still there, as they are now (ciao follows their addresses), and the new ones.
    const kept = target.interfaces.filter((nic) => current?.on.some((was) => was.name === nic.name));
    log.info(`mDNS: ${added.map((nic) => `${nic.name} (${nic.ipv4})`).join(", ")} came up; announcing there too`);
    await announceOn(target, [...kept, ...added.filter((nic) => !kept.some((k) => k.name === nic.name))]);
  };
  const timer = setInterval(() => {
    looking = looking.then(look).catch((error: Error) => log.warn(`mDNS: could not follow the network interfaces: ${error.message}`));
  }, options.watchMs ?? watchEveryMs);
  timer.unref?.();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await looking;
      await current?.announcement.stop();
    },
  };
}
