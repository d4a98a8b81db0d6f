/** Eighth blocks, so a bar moves smoothly even when it is only a few cells wide. */
const partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** A bar `width` cells wide, `fraction` (0…1) of it filled; the rest is returned apart, to be dimmed. */
export function progressBar(fraction: number, width: number): { filled: string; empty: string } {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const partial = partials[eighths % 8]!;
  const filled = "█".repeat(full) + partial;
  const used = full + (partial ? 1 : 0);
  return { filled, empty: "░".repeat(Math.max(0, width - used)) };
}
