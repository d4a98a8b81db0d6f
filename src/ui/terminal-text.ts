/**
 * Characters a terminal or a log reader would act on rather than show: the C0 controls (line
 * feeds that start a forged log line, ESC that opens an escape sequence: a window title, a
 * clear screen, leaving the alternate screen), DEL, the C1 controls (U+009B is a one-character
 * CSI on some terminals), the Unicode line and paragraph separators, and the bidirectional
 * overrides that reorder what is shown.
 */
const acting = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const named: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Text from the network (a report's title, a workload's name, an error GitHub sent) as a
 * terminal or a plain log line may show it: each of those characters written out as its
 * escape (`\n`, `\x1b`, `\u202e`), so it is seen and never acts. Everything else is kept as it
 * is (emoji, any script, backslashes). JSON log lines need none of this: JSON escapes them.
 */
export function terminalSafe(text: string): string {
  return text.replace(acting, (c) => {
    const code = c.charCodeAt(0);
    return named[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);
  });
}
