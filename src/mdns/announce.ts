import type { Log } from "../core/log.ts";
import ciao from "@homebridge/ciao";
import type { AnnounceTarget } from "./interfaces.ts";
import { serviceType } from "./service.ts";

export type Announcement = {
  /** Sends the goodbye (so browsers drop the entry at once) and closes the sockets. */
  stop(): Promise<void>;
};

export type AnnounceOptions = {
  readonly name: string;
  readonly port: number;
  readonly txt: Record<string, string>;
  readonly target: AnnounceTarget;
  readonly log: Log;
};

/** A goodbye that cannot be sent must not hold up shutdown. */
const stopTimeoutMs = 3000;

/**
 * Announces `_dispatch._tcp` with ciao on exactly the target's interfaces. Left to pick, ciao
 * 1.3 reads `ip -o link show` and loses every interface printed with an `@` suffix (VLANs like
 * `eth0.100@eth0`, veths); older versions took only the default-route interface. Naming them
 * also keeps the announcement off interfaces that do not serve the bind address. Returns at
 * once; probing and announcing go on behind.
 */
export function announce({ name, port, txt, target, log }: AnnounceOptions): Announcement {
  const names = target.interfaces.map((i) => i.name);
  // ciao adds the loopback interface to this array, so it gets its own copy.
  const responder = ciao.getResponder({ interface: [...names], disableIpv6: !target.ipv6 });
  const service = responder.createService({
    name,
    type: serviceType,
    port,
    txt,
    restrictedAddresses: target.addresses ? [...target.addresses] : undefined,
    disabledIpv6: !target.ipv6,
  });
  let current = name;
  service.on("name-change", (taken: string) => {
    log.info(`mDNS: "${current}" is taken on the network; now "${taken}"`);
    current = taken;
  });
  const where = target.interfaces.map((i) => `${i.name} (${(target.addresses ?? [i.ipv4]).join(", ")})`).join(", ");
  let stopping = false;
  // advertise() resolves once probing is done (or was cancelled by stop()); announcing follows.
  service.advertise().then(
    () => stopping || log.info(`mDNS: announced "${current}" (_${serviceType}._tcp, port ${port}, path ${txt.path}) on ${where}`),
    (error: Error) => stopping || log.warn(`mDNS: could not announce on ${where}: ${error.message}. Serving goes on; beacon will not find dispatch by mDNS.`),
  );

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopping = true;
      stopped ??= (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(() => (log.warn("mDNS: goodbye not sent in time"), resolve()), stopTimeoutMs);
        });
        try {
          await Promise.race([responder.shutdown(), late]);
        } catch (error) {
          log.warn(`mDNS: goodbye failed: ${(error as Error).message}`);
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopped;
    },
  };
}
