/** One attempt's last console lines, read by the console edge, for an issue. */
export type ConsoleTail = {
  /** The attempt's place among the job's attempts, 1-based. */
  readonly index: number;
  readonly server: string;
  readonly ip: string;
  /** Oldest first, each "ISO-TIME text". */
  readonly lines: readonly string[];
};

/**
 * The consoles' last lines as collapsed `<details>` blocks, the newest attempt last, within
 * `room` characters: the newest attempt gets room first, and each block loses its oldest lines
 * before the block before it is left out. "" when nothing fits or there is nothing.
 */
export function consoleBlocks(tails: readonly ConsoleTail[], room: number): string {
  const blocks: string[] = [];
  let left = room;
  for (const tail of [...tails].reverse()) {
    const block = fitBlock(tail, left - 2);
    if (block === undefined) break;
    blocks.unshift(block);
    left -= block.length + 2;
  }
  return blocks.join("\n\n");
}

function fitBlock(tail: ConsoleTail, room: number): string | undefined {
  // A fence longer than any run of backticks in the lines, so none of them can close it.
  const longest = Math.max(2, ...tail.lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))));
  const fence = "`".repeat(longest + 1);
  const shell = (lines: readonly string[]) =>
    `<details><summary>Console of attempt ${tail.index} on ${tail.server} (${tail.ip}): its last ${lines.length} lines</summary>\n\n${fence}text\n${lines.join("\n")}\n${fence}\n\n</details>`;
  let lines = tail.lines;
  let text = shell(lines);
  // Oldest lines out first; a line longer than all the room is cut.
  while (text.length > room && lines.length > 1) {
    const over = text.length - room;
    let drop = 0;
    for (let freed = 0; freed < over && drop < lines.length - 1; drop++) freed += lines[drop]!.length + 1;
    lines = lines.slice(Math.max(1, drop));
    text = shell(lines);
  }
  if (text.length > room) {
    const only = lines[0] ?? "";
    const cut = only.slice(0, Math.max(0, only.length - (text.length - room)));
    if (cut.length === 0) return undefined;
    text = shell([cut]);
  }
  return text;
}
