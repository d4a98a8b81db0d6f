import colors from "yoctocolors";

/** Styles for the live view. Tests use `plainPaint`, so rendered rows compare as plain text. */
export type Paint = {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
};

const same = (s: string) => s;
export const plainPaint: Paint = { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same };

/** yoctocolors honours NO_COLOR, FORCE_COLOR and TERM=dumb. */
export const colorPaint: Paint = {
  bold: colors.bold,
  dim: colors.dim,
  red: colors.red,
  green: colors.green,
  yellow: colors.yellow,
  cyan: colors.cyan,
};
