import type { Files } from "../../runtime/types.ts";

/**
 * The lines GitHub Actions reads from `$GITHUB_OUTPUT`: `name=value`, or for a value with a line
 * break the heredoc form `name<<DELIMITER … DELIMITER`, with a delimiter the value cannot hold
 * (as @actions/core writes them).
 */
export function actionsOutputLines(outputs: Readonly<Record<string, string>>, delimiter: () => string = () => `ghadelimiter_${crypto.randomUUID()}`): string {
  return Object.entries(outputs)
    .map(([name, value]) => {
      if (!/[\r\n]/.test(value)) return `${name}=${value}\n`;
      let end = delimiter();
      while (value.includes(end)) end = delimiter();
      return `${name}<<${end}\n${value}\n${end}\n`;
    })
    .join("");
}

/** Appends to a file Actions gave (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`), flushed. */
export async function appendTo(files: Files, path: string, text: string): Promise<void> {
  const file = await files.openAppend(path);
  try {
    await file.write(new TextEncoder().encode(text));
    await file.sync();
  } finally {
    await file.close();
  }
}
