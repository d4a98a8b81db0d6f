/**
 * Lines with which firmware says why it did not HTTP-boot, so a server that never asks shows
 * why in its row. From EDK2 (OVMF and most server firmware): HttpBootDxe's "Error: Could not
 * retrieve NBP file size from HTTP server" (a wrong boot URL, nothing listening) and its other
 * "Could not retrieve …" errors, the boot manager's "Access Denied" (Secure Boot refused the
 * image); PXE ROMs' "PXE-Exx" codes; and DHCP that got no answer.
 */
const patterns = [
  /Error: Could not retrieve [^\n]*/,
  /\bAccess Denied\b[^\n]*/,
  /\bPXE-E[0-9A-F]{2}\b[^\n]*/,
  /\bDHCP\b[^\n]*\b(?:time ?out|timed out|failed|no (?:valid )?offers?|not respond)[^\n]*/i,
];
const any = new RegExp(patterns.map((p) => p.source).join("|"), "i");

/** The last line of `lines` that shows a firmware boot error, trimmed; undefined when none does. */
export function firmwareError(lines: readonly string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (any.test(line)) return line.trim();
  }
  return undefined;
}
