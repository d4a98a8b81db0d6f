import { parseDuration } from "../core/duration.ts";
import type { RuleTerms } from "../core/rule-terms.ts";

/**
 * A release asset's label (set when uploading; GitHub shows it in place of the file's name) may
 * say where the workload runs, so a release can say what it needs without touching the jump
 * host. The short form is the label's text after `dispatch:`, words apart:
 *
 *     Memory test dispatch: tags=2p,genoa each run_timeout=12h retries=2
 *
 * `tags=A,B`, `servers=NAME,ADDRESS`, `each`, `run_timeout=`, `download_timeout=` (durations as
 * on the command line), `retries=N`: the keys of a lab file `[[rule]]`. A label without
 * `dispatch:` is only a label.
 */

export const labelKeys = ["tags", "servers", "each", "run_timeout", "download_timeout", "retries"] as const;

/** What the label says; undefined when it says nothing to dispatch. Throws with what is wrong and what is allowed. */
export function readLabelTerms(label: string | undefined): RuleTerms | undefined {
  const at = label?.search(/dispatch:/i) ?? -1;
  if (label === undefined || at < 0) return undefined;
  const words = label.slice(at + "dispatch:".length).trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new Error(`"dispatch:" is followed by nothing: give ${allowed}`);
  const terms: { -readonly [K in keyof RuleTerms]: RuleTerms[K] } = {};
  const seen = new Set<string>();
  for (const word of words) {
    const eq = word.indexOf("=");
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? undefined : word.slice(eq + 1);
    if (seen.has(key)) throw new Error(`${key} is given twice`);
    seen.add(key);
    const list = () => {
      const items = (value ?? "").split(",").filter(Boolean);
      if (items.length === 0) throw new Error(`${key} needs a value: ${key}=A,B`);
      return [...new Set(items)];
    };
    switch (key) {
      case "tags":
        terms.tags = list();
        if (terms.tags.some((tag) => !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(tag))) throw new Error(`tags must be words of letters, digits, ".", "_" and "-", e.g. tags=genoa,2p`);
        break;
      case "servers":
        terms.servers = list();
        break;
      case "each":
        if (value !== undefined) throw new Error(`each takes no value: write "each" alone`);
        terms.each = true;
        break;
      case "run_timeout":
      case "download_timeout": {
        if (value === undefined) throw new Error(`${key} needs a duration: ${key}=90s, 5m or 12h`);
        const ms = parseDuration(value, key);
        if (key === "run_timeout") terms.runMs = ms;
        else terms.downloadMs = ms;
        break;
      }
      case "retries":
        if (value === undefined || !/^\d+$/.test(value)) throw new Error(`retries must be a whole number: retries=2`);
        terms.retries = Number(value);
        break;
      default:
        throw new Error(`"${word}" is not understood: give ${allowed}`);
    }
  }
  return terms;
}

const allowed = "tags=A,B, servers=NAME,ADDRESS, each, run_timeout=12h, download_timeout=10m, retries=N (words apart)";
