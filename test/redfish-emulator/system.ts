/**
 * What the emulated BMC switches: a machine with power. The emulator tells it the boot URL the
 * BMC's settings give at each power-on or reset, as real firmware would read them.
 */
export type EmulatedSystem = {
  power(): "On" | "Off";
  /** Powers on; `bootUrl` is where the firmware will HTTP-boot from (undefined: none set). */
  on(bootUrl: string | undefined): Promise<void>;
  /** Cuts the power (ForceOff). */
  off(): Promise<void>;
  /** A warm reset of a machine that is on: it boots again, from `bootUrl`. */
  reset(bootUrl: string | undefined): Promise<void>;
};

/** A machine in memory: power and the boot URLs it was started with, for fast tests. */
export type MemorySystem = EmulatedSystem & {
  /** Each boot's URL, in order (power-ons and resets). */
  readonly boots: (string | undefined)[];
  /** The guest switches itself off (as poweroff.efi does). */
  shutdownFromGuest(): void;
};

export function memorySystem(initial: "On" | "Off" = "Off"): MemorySystem {
  let state = initial;
  const boots: (string | undefined)[] = [];
  return {
    boots,
    power: () => state,
    async on(bootUrl) {
      if (state === "On") return;
      state = "On";
      boots.push(bootUrl);
    },
    async off() {
      state = "Off";
    },
    async reset(bootUrl) {
      if (state === "Off") return;
      boots.push(bootUrl);
    },
    shutdownFromGuest() {
      state = "Off";
    },
  };
}
