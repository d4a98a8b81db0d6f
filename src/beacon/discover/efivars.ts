import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Candidate, Found } from "../candidate.ts";
import { bootVariableName, parseLoadOption, parseOptionNumbers } from "../load-option.ts";

/** Where Linux mounts the firmware's variables (`mount -t efivarfs efivarfs /sys/firmware/efi/efivars`). */
export const DEFAULT_EFIVARS = "/sys/firmware/efi/efivars";
/** The UEFI global variable GUID: Boot####, BootOrder and BootCurrent live under it. */
const GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c";

/** efivarfs shows each variable as a file: 4 bytes of attributes, then the value. */
async function readVariable(dir: string, name: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(join(dir, `${name}-${GLOBAL}`))).subarray(4);
  } catch {
    return undefined;
  }
}

/**
 * HTTP-boot URLs from the firmware's boot options: every `Boot####` whose device path ends in
 * a non-empty URI node. The option the machine booted from (`BootCurrent`) comes first, then
 * `BootOrder`, then any others, so the dispatch that served this boot is asked first.
 */
export async function fromEfivars(dir: string): Promise<Found> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    return { candidates: [], notes: [`no firmware variables at ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`] };
  }
  const options = names
    .flatMap((file) => (file.endsWith(`-${GLOBAL}`) && /^Boot[0-9A-Fa-f]{4}-/.test(file) ? [parseInt(file.slice(4, 8), 16)] : []))
    .sort((a, b) => a - b);
  const current = parseOptionNumbers((await readVariable(dir, "BootCurrent")) ?? new Uint8Array());
  const order = parseOptionNumbers((await readVariable(dir, "BootOrder")) ?? new Uint8Array());
  const ranked = [...new Set([...current, ...order, ...options])].filter((n) => options.includes(n));

  const candidates: Candidate[] = [];
  const notes: string[] = [];
  for (const option of ranked) {
    const name = bootVariableName(option);
    const value = await readVariable(dir, name);
    if (!value) continue;
    let parsed;
    try {
      parsed = parseLoadOption(value);
    } catch (error) {
      notes.push(`${name}: not a load option (${(error as Error).message}), skipped`);
      continue;
    }
    if (parsed.uri === undefined) continue;
    const label = `${name} "${parsed.description}"${current.includes(option) ? " (booted from)" : ""}`;
    if (parsed.uri === "") {
      notes.push(`${label}: HTTP boot with an empty URI (the firmware got its URL from DHCP), skipped`);
      continue;
    }
    candidates.push({ url: parsed.uri, from: label });
  }
  if (ranked.length === 0) notes.push(`no Boot#### variables in ${dir}`);
  else if (candidates.length === 0 && notes.length === 0) notes.push(`no HTTP-boot option among ${ranked.length} Boot#### variables`);
  return { candidates, notes };
}
