import { parseArgs } from "node:util";
import type { ArgsDef } from "citty";

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
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  const spellings = new Set<string>();
  for (const [key, def] of Object.entries(argsDef)) {
    if (def.type === "positional") continue;
    const type = def.type === "boolean" ? "boolean" : "string";
    const given = "alias" in def && def.alias !== undefined ? def.alias : [];
    // citty also accepts the camelCase spelling of a kebab-case flag.
    const camel = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const aliases = [...(Array.isArray(given) ? given : [given]), ...(camel !== key ? [camel] : [])];
    const short = aliases.find((a) => a.length === 1);
    options[key] = { type, ...(short && { short }) };
    for (const alias of aliases) if (alias.length > 1) options[alias] = { type };
    if (key === name) for (const spelling of [key, ...aliases]) spellings.add(spelling);
  }
  // citty strips `--no-…` before parsing; do the same so they are not read as values.
  const end = rawArgs.indexOf("--");
  const args = rawArgs.filter((arg, i) => !(arg.startsWith("--no-") && (end === -1 || i < end)));
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const values: string[] = [];
  for (const token of tokens) {
    if (token.kind === "option" && spellings.has(token.name) && typeof token.value === "string" && (keepEmpty || token.value !== "")) values.push(token.value);
  }
  return values;
}
