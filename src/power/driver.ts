/**
 * The power port: what dispatch asks of a server's BMC (Redfish, IPMI) or of the commands a lab
 * gives for a PDU. Drivers carry out what the core decided and say what the BMC answered; they
 * decide nothing themselves.
 */

/** A server's power, by its BMC's word. */
export type PowerState = "on" | "off" | "unknown";

/** What the start-of-run check learned about a BMC. */
export type BmcCheck = {
  readonly power: PowerState;
  /** How the boot target will be set, in words for the start table (e.g. "UefiHttp + HttpBootUri, Continuous"). */
  readonly bootTarget: string;
  /** What the user should know: fallbacks taken, quirks met. One line each. */
  readonly notes: readonly string[];
  /** The boot override lasts one boot: dispatch arms it again after each `beacon boot`. */
  readonly once?: boolean;
};

/** Why a BMC call failed, so the core can tell a broken server from a refusing BMC. */
export type PowerErrorKind = "unreachable" | "credentials" | "refused" | "unsupported" | "timeout";

export class PowerError extends Error {
  constructor(
    message: string,
    readonly kind: PowerErrorKind,
  ) {
    super(message);
    this.name = "PowerError";
  }
}

export type PowerDriver = {
  readonly kind: "redfish" | "ipmi" | "command";
  /** The BMC as views may show it: an address or a command's name, never credentials. */
  readonly bmc: string;
  /** Reachable, credentials taken, power state and what it supports. Throws PowerError. */
  check(): Promise<BmcCheck>;
  /**
   * Makes the server's next boots HTTP-boot from `url` (continuous where the BMC allows it) and
   * remembers what was set before, for `restore`. Returns what was set, in words for the log.
   */
  pointAt(url: string): Promise<string>;
  /** After `beacon boot`: arms a once-only boot override again; nothing where it is continuous. */
  rearm(url: string): Promise<void>;
  powerState(): Promise<PowerState>;
  on(): Promise<void>;
  off(): Promise<void>;
  /** Off then on (or the BMC's own cycle); a server that is off is switched on. */
  cycle(): Promise<void>;
  /** Puts back the boot settings found before `pointAt`. */
  restore(): Promise<void>;
  /** Ends sessions the driver opened. */
  close(): Promise<void>;
};
