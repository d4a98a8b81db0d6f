/**
 * Where each table and key of a TOML text is written, for messages: the parser gives values,
 * not positions. A plain line scan: headers (`[defaults]`, `[[server]]`, counted per name) and
 * `key =` lines, skipping the inside of multi-line strings. Good enough to point at a line; the
 * parser has already accepted the text.
 */
export type Where = { readonly table?: string; readonly index?: number };

export type KeyLines = {
  /** The line of `key` in the table (top level when `table` is unset; `index` counts `[[table]]`s). */
  key(where: Where, key: string): number | undefined;
  /** The line of the table's header (1 for the top level). */
  table(where: Where): number | undefined;
};

const id = ({ table, index }: Where) => (table === undefined ? "" : index === undefined ? table : `${table}#${index}`);

export function keyLines(text: string): KeyLines {
  const lines = new Map<string, number>();
  const counts = new Map<string, number>();
  let section = "";
  let inString: '"""' | "'''" | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    const number = i + 1;
    if (inString) {
      if (line.split(inString).length % 2 === 0) inString = undefined;
      return;
    }
    const array = /^\s*\[\[\s*([^\]\s]+)\s*\]\]/.exec(line);
    const table = array ? undefined : /^\s*\[\s*([^\]\s]+)\s*\]/.exec(line);
    if (array) {
      const name = array[1]!;
      const index = counts.get(name) ?? 0;
      counts.set(name, index + 1);
      section = id({ table: name, index });
      lines.set(section, number);
    } else if (table) {
      section = id({ table: table[1]! });
      lines.set(section, number);
    } else {
      const key = /^\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*=/.exec(line);
      if (key) {
        const name = key[1] ?? key[2] ?? key[3]!;
        const where = `${section}\0${name}`;
        if (!lines.has(where)) lines.set(where, number);
      }
      for (const quotes of ['"""', "'''"] as const) if (line.split(quotes).length % 2 === 0) inString = quotes;
    }
  });
  return {
    key: (where, key) => lines.get(`${id(where)}\0${key}`),
    table: (where) => (where.table === undefined ? 1 : lines.get(id(where))),
  };
}
