import cliTruncate from "cli-truncate";
import stringWidth from "string-width";
import { terminalSafe } from "../terminal-text.ts";

/**
 * Text fitted to exactly `width` terminal columns: truncated with "…" or padded with spaces.
 * Widths come from string-width (emoji and East Asian characters take two columns), so a wide
 * character never pushes a column out of line. Every cell of the view comes through here, so
 * this is where what came from the network is made safe to show (`terminalSafe`).
 */
export function fit(text: string, width: number, align: "left" | "right" = "left"): string {
  if (width <= 0) return "";
  const clean = terminalSafe(text);
  const cut = stringWidth(clean) > width ? cliTruncate(clean, width) : clean;
  // cli-truncate may come in short when a wide character straddles the edge: pad what is left.
  const pad = " ".repeat(Math.max(0, width - stringWidth(cut)));
  return align === "left" ? cut + pad : pad + cut;
}

export { stringWidth };
