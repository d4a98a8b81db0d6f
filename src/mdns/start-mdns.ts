import type { Log } from "../core/log.ts";
import { networkInterfaces } from "node:os";
import { type Announcement, announce } from "./announce.ts";
import { announceTarget } from "./interfaces.ts";
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
};

/**
 * Announces dispatch where it listens, so beacon finds it without the firmware's boot URI.
 * Never throws: whatever stops the announcement is a warning, and serving goes on.
 */
export async function startMdns(options: MdnsOptions): Promise<Announcement | undefined> {
  const { log } = options;
  try {
    const nics = networkInterfaces();
    // ciao always adds the loopback interface and fails without one (an unhandled rejection).
    if (!Object.values(nics).some((addresses) => addresses?.some((a) => a.internal))) {
      log.warn("mDNS: not announcing: the loopback interface is down, and ciao needs it");
      return undefined;
    }
    const target = announceTarget(options.bindHost, options.interfaces, nics);
    for (const problem of target.problems) log.warn(`mDNS: ${problem}`);
    const usable = [];
    for (const nic of target.interfaces) {
      const problem = await multicastProblem(nic.ipv4);
      if (problem) log.warn(`mDNS: not announcing on ${nic.name}: ${problem}`);
      else usable.push(nic);
    }
    if (usable.length === 0) {
      log.warn("mDNS: not announcing on any interface; beacon will find dispatch only through the firmware's boot URI.");
      return undefined;
    }
    return announce({
      name: instanceName(),
      port: options.port,
      txt: serviceTxt(options.path, options.version, options.description),
      target: { ...target, interfaces: usable },
      log,
    });
  } catch (error) {
    log.warn(`mDNS: could not announce: ${(error as Error).message}. Serving goes on.`);
    return undefined;
  }
}
