import type { ArgsDef } from "citty";
import { optionTable, readTokens } from "./option-table.ts";

/**
 * Every value of a string flag given more than once (`--mdns-interface a --mdns-interface b`).
 * citty 0.2 keeps only the last one: it calls node:util parseArgs without `multiple`. This reads
 * the raw arguments with the same parser and the same option table, so values, `--flag=value`,
 * aliases, `--no-…` and `--` are read exactly as citty reads them, and collects the repeats.
 */
export function repeatedValues(
  rawArgs: readonly string[],
  argsDef: ArgsDef,
  name: string,
  // `beacon report -l ""` sends [""], as the earlier beacon does; other flags drop empty values.
  { keepEmpty = false }: { keepEmpty?: boolean } = {},
): string[] {
  const table = optionTable(argsDef);
  const spellings = new Set(table.spellings.get(name) ?? []);
  const values: string[] = [];
  for (const token of readTokens(rawArgs, table).tokens) {
    if (token.kind === "option" && spellings.has(token.name) && typeof token.value === "string" && (keepEmpty || token.value !== "")) values.push(token.value);
  }
  return values;
}
