/**
 * `poweroff.efi`: what dispatch serves once its queue is empty, so a machine that HTTP-boots
 * after the last workload switches itself off instead of booting the next thing in line.
 */

import { efiApp } from "./app.ts";

export const POWEROFF_MESSAGE = "dispatch: queue empty, powering off";

/**
 * The image (about 1 KiB), built once at module load; it is the same every time (no timestamps).
 * Shared: callers must not modify it.
 */
export const poweroffEfi: Uint8Array<ArrayBuffer> = efiApp({ message: POWEROFF_MESSAGE, reset: "shutdown" });
