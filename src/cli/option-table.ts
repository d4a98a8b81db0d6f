import { parseArgs } from "node:util";
import type { ArgsDef } from "citty";

type Option = { type: "string" | "boolean"; short?: string };

/** A citty argument table as node:util parseArgs reads it, with every spelling citty takes for each flag. */
export type OptionTable = {
  /** parseArgs' options: each flag by name, its one-letter alias as `short`, longer aliases on their own. */
  readonly options: Record<string, Option>;
  /** Every spelling of each flag (name, aliases, camelCase), by the flag's name. */
  readonly spellings: ReadonlyMap<string, readonly string[]>;
};

export function optionTable(argsDef: ArgsDef): OptionTable {
  const options: Record<string, Option> = {};
  const spellings = new Map<string, string[]>();
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
    spellings.set(key, [key, ...aliases]);
  }
  return { options, spellings };
}

/**
 * The raw arguments read exactly as citty reads them (the same parser and option table; citty
 * strips `--no-…` before parsing, so they are set aside here too): parseArgs' tokens, and the
 * `--no-…` flags given before any `--`.
 */
export function readTokens(rawArgs: readonly string[], table: OptionTable) {
  const end = rawArgs.indexOf("--");
  const negated = (arg: string, i: number) => arg.startsWith("--no-") && (end === -1 || i < end);
  const args = rawArgs.filter((arg, i) => !negated(arg, i));
  const { tokens } = parseArgs({ args, options: table.options, allowPositionals: true, strict: false, tokens: true });
  return { tokens, negated: rawArgs.filter(negated).map((arg) => arg.slice("--no-".length).split("=")[0]!) };
}
