import type { Rule } from "../core/placement.ts";

/**
 * The lab file (`--lab lab.toml`) once read and checked: the servers dispatch may control.
 * Secrets are resolved here and held only in memory (see `Secret`).
 */

/** A credential that prints as `[redacted]` wherever it ends up by mistake (logs, JSON, errors). */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The credential itself: only for the request or environment that needs it. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "[redacted]";
  }
}

export type RedfishPower = {
  readonly kind: "redfish";
  /** https://HOST[:PORT], no path (the lab file may leave out `https://`). */
  readonly bmc: string;
  /** /redfish/v1/Systems/…, when the BMC has several systems. */
  readonly system?: string;
  readonly user: string;
  readonly password: Secret;
  readonly tlsVerify: boolean;
  /** PEM file of the CA to trust for this BMC (relative paths are taken from the lab file's folder). */
  readonly ca?: string;
};

export type IpmiPower = {
  readonly kind: "ipmi";
  /** host[:port], 623 unless given: as written, for views. */
  readonly bmc: string;
  /** `bmc` taken apart (an IPv6 host without its brackets). */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: Secret;
  /** ipmitool -C: older BMCs and ipmi_sim speak only suite 3. */
  readonly cipher?: number;
};

export type CommandPower = {
  readonly kind: "command";
  readonly on: string;
  readonly off: string;
  readonly cycle: string;
  /** Prints on/off. */
  readonly state?: string;
};

export type PowerConfig = RedfishPower | IpmiPower | CommandPower;

export type LabServer = {
  readonly name: string;
  /** The address it HTTP-boots from; or `mac`, resolved through the neighbour table. */
  readonly ip?: string;
  readonly mac?: string;
  /** The boot URL as this server reaches dispatch. */
  readonly url?: string;
  readonly tags: readonly string[];
  /** No power control when unset: served as today. */
  readonly power?: PowerConfig;
  /** A command whose stdout is the server's serial console (or "sol" for IPMI). */
  readonly console?: string;
};

export type Lab = {
  /** The file it was read from, for messages. */
  readonly file: string;
  readonly servers: readonly LabServer[];
  /** `[[rule]]`s, in the file's order: which server runs what. */
  readonly rules: readonly Rule[];
  /** Between two power-ons. */
  readonly powerOnSpacingMs: number;
  /** Failures to come up in a row before a server is taken out. */
  readonly quarantineAfter: number;
  /** What the file said that the user should hear (an inline password). */
  readonly warnings: readonly string[];
};
