import type { ArgDef, ArgsDef } from "citty";

/** What `--help` prints about the command itself. */
export type HelpMeta = { readonly name: string; readonly version: string; readonly description: string };

const width = 80;
/** The description column: options longer than this put their description on the next line. */
const column = 30;

/**
 * `--help` from the citty argument definitions: one option per line in one aligned column,
 * descriptions wrapped to 80 columns, no trailing spaces. (citty's renderUsage pads each line
 * to the longest description and right-aligns the options, which reads badly in a terminal.)
 */
export function renderHelp(meta: HelpMeta, args: ArgsDef, examples: string): string {
  const entries = Object.entries(args) as [string, ArgDef][];
  const positionals = entries.filter(([, def]) => def.type === "positional");
  const options = entries.filter(([, def]) => def.type !== "positional");
  const required = options.filter(([, def]) => def.required).map(([name, def]) => `--${name} ${placeholder(name, def)}`);
  const usage = [meta.name, ...required, "[options]", ...positionals.map(([name]) => `[${name.toUpperCase()}...]`)].join(" ");

  const lines = [
    ...wrap(`${meta.name} ${meta.version}: ${meta.description}`, width),
    "",
    ...hanging("Usage: ", usage),
    "",
    "Arguments:",
    ...positionals.flatMap(([name, def]) => row(`${name.toUpperCase()}...`, def.description ?? "")),
    "",
    "Options:",
    ...options.flatMap(([name, def]) => optionRows(name, def)),
    ...row("-h, --help", "Show this help"),
    ...row("-v, --version", "Show the version"),
    "",
    ...examples.split("\n"),
  ];
  return lines.map((line) => line.trimEnd()).join("\n");
}

function placeholder(name: string, def: ArgDef): string {
  return "valueHint" in def && def.valueHint ? def.valueHint.toUpperCase() : name.toUpperCase();
}

function optionRows(name: string, def: ArgDef): string[] {
  const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
  const short = aliases.map((a) => `-${a}, `).join("");
  const lead = short ? `${short}` : "    ";
  if (def.type === "boolean") {
    // A flag that is on unless turned off is shown by its --no- form.
    if (def.default === true) return row(`    --no-${name}`, def.negativeDescription ?? `Turn off ${name}`);
    return row(`${lead}--${name}`, def.description ?? "");
  }
  const facts = [def.required && "required", "default" in def && def.default !== undefined && `default: ${String(def.default)}`].filter(Boolean);
  const description = `${def.description ?? ""}${facts.length ? ` (${facts.join("; ")})` : ""}`;
  return row(`${lead}--${name} ${placeholder(name, def)}`, description);
}

/** One option: its name in the first column, its description wrapped beside it. */
function row(label: string, description: string): string[] {
  const left = `  ${label}`;
  const [first = "", ...rest] = wrap(description, width - column);
  const more = rest.map((l) => `${" ".repeat(column)}${l}`);
  if (left.length + 2 <= column) return [`${left.padEnd(column)}${first}`, ...more];
  return [left, `${" ".repeat(column)}${first}`, ...more];
}

/** `text` wrapped at word boundaries into lines of at most `room` characters (a longer word keeps its own line). */
function wrap(text: string, room: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Wrapped with a hanging indent: the first line starts with `lead`, the others line up after it. */
function hanging(lead: string, text: string): string[] {
  return wrap(text, width - lead.length).map((l, i) => `${i === 0 ? lead : " ".repeat(lead.length)}${l}`);
}
