import type { ArgsDef } from "citty";
import { distance } from "fastest-levenshtein";
import { optionTable, readTokens } from "./option-table.ts";

/** Flags every command takes besides its own table (handled before citty runs). */
const always = ["help", "h", "version", "v"];

/**
 * The first option on the command line that `argsDef` does not know, as a sentence naming the
 * closest known one; undefined when there is none. citty takes unknown options silently (and
 * the value after one as a positional), so a typo such as `--bnd 192.0.2.1:8080` would
 * otherwise become a filter while dispatch listens on the default address.
 */
export function unknownOption(rawArgs: readonly string[], argsDef: ArgsDef): string | undefined {
  const table = optionTable(argsDef);
  const known = new Set([...Object.keys(table.options), ...Object.values(table.options).flatMap((o) => (o.short ? [o.short] : [])), ...always]);
  const { tokens, negated } = readTokens(rawArgs, table);
  const given = [
    ...tokens.flatMap((t) => (t.kind === "option" && !known.has(t.name) ? [{ name: t.name, spelled: t.rawName, at: t.index }] : [])),
    ...negated.filter((name) => !known.has(name)).map((name) => ({ name, spelled: `--no-${name}`, at: rawArgs.indexOf(`--no-${name}`) })),
  ].sort((a, b) => a.at - b.at)[0];
  if (!given) return undefined;
  const flags = [...table.spellings.keys()];
  const candidates = given.spelled.startsWith("--no-")
    ? flags.filter((f) => argsDef[f]?.type === "boolean").map((f) => `--no-${f}`)
    : flags.map((f) => `--${f}`);
  // A one-letter flag is as near to one name as to another: no guess for it.
  const closest = given.spelled.startsWith("--") ? closestOf(given.spelled, candidates) : undefined;
  return `unknown option ${given.spelled}${closest ? ` (did you mean ${closest}?)` : ""}`;
}

/** The candidate nearest to `spelled` by edit distance, when near enough to be a typo of it. */
function closestOf(spelled: string, candidates: readonly string[]): string | undefined {
  const word = spelled.replace(/^-+/, "").toLowerCase();
  let best: { candidate: string; d: number } | undefined;
  for (const candidate of candidates) {
    const d = distance(word, candidate.replace(/^-+/, ""));
    if (!best || d < best.d) best = { candidate, d };
  }
  return best && best.d <= Math.max(2, Math.floor(word.length / 3)) ? best.candidate : undefined;
}
