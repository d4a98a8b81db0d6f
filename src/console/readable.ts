import stripAnsi from "strip-ansi";

/**
 * A serial console's bytes as the lines a person can read in an issue or a file: what a
 * terminal would draw, without what it would act on. Escape sequences (colours, cursor moves,
 * screen clears) are removed; a carriage return or backspace overwrites as on a terminal, so a
 * redrawn progress line keeps its last state; other control characters are dropped. Bytes that
 * are not UTF-8 are shown as `\xNN`, and a line in UTF-16 (some firmware writes its CHAR16 text
 * to the serial port as it is) is decoded as UTF-16: nothing is dropped silently.
 */

/** A line longer than this is cut into pieces: a console without newlines still makes lines. */
export const maxLineBytes = 4096;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");
const utf16le = new TextDecoder("utf-16le");
const utf16be = new TextDecoder("utf-16be");

/** Printable ASCII, tab and line ends only: the common case, turned into lines without a byte-wise pass. */
const plainAscii = /[^\x20-\x7e\t\r\n]/;
/** What is left to drop after escapes: C0 controls but tab, DEL, C1 controls. */
const controls = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * Splits console bytes into readable lines as they arrive. Holds the line not yet ended by a
 * newline; `pending()` shows it without taking it (a console that hangs mid-line still shows).
 */
export class LineSplitter {
  #carry = new Uint8Array(0);

  /** The lines this chunk completes. */
  push(chunk: Uint8Array): string[] {
    const bytes = this.#carry.length === 0 ? chunk : concat(this.#carry, chunk);
    const end = bytes.lastIndexOf(0x0a);
    const lines: string[] = [];
    let rest = bytes;
    if (end >= 0) {
      lines.push(...readableLines(bytes.subarray(0, end)));
      rest = bytes.subarray(end + 1);
    }
    while (rest.length > maxLineBytes) {
      lines.push(readableLine(rest.subarray(0, maxLineBytes)));
      rest = rest.subarray(maxLineBytes);
    }
    this.#carry = rest.slice();
    return lines;
  }

  /** The line begun and not yet ended, readable; "" when there is none. */
  pending(): string {
    return this.#carry.length ? readableLine(this.#carry) : "";
  }

  /** Takes the line begun (the console went quiet, or ended): undefined when there is none. */
  flush(): string | undefined {
    if (this.#carry.length === 0) return undefined;
    const line = readableLine(this.#carry);
    this.#carry = new Uint8Array(0);
    return line;
  }
}

/** Lines separated by "\n" (the last one is not followed by one). */
export function readableLines(bytes: Uint8Array): string[] {
  const text = latin1.decode(bytes);
  if (!plainAscii.test(text)) return text.split("\n").map((line) => (line.includes("\r") ? overwrite(line) : line));
  const lines: string[] = [];
  for (let start = 0; start <= bytes.length; ) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    lines.push(readableLine(bytes.subarray(start, end)));
    start = end + 1;
  }
  return lines;
}

/** One line (no "\n" in it) as a person would read it. */
export function readableLine(bytes: Uint8Array): string {
  const decoded = utf16Of(bytes) ?? decodeShowingBroken(bytes);
  return overwrite(stripAnsi(decoded)).replace(controls, "");
}

/**
 * The line decoded as UTF-16 when it looks like UTF-16 text: most of its bytes' other halves are
 * NUL, all on one side. A line's first byte may be the NUL left of the previous line's "\n\0".
 */
function utf16Of(bytes: Uint8Array): string | undefined {
  if (bytes.length < 4) return undefined;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0) i % 2 === 0 ? even++ : odd++;
  const half = Math.floor(bytes.length / 2);
  if (odd >= half * 0.8 && even <= odd / 10) return utf16le.decode(bytes.subarray(0, bytes.length - (bytes.length % 2)));
  if (even >= half * 0.8 && odd <= even / 10) {
    // An odd length that starts with NUL: little-endian, after the NUL left of the previous line's "\n\0".
    if (bytes.length % 2 === 1 && bytes[0] === 0) return utf16le.decode(bytes.subarray(1));
    return utf16be.decode(bytes.subarray(0, bytes.length - (bytes.length % 2)));
  }
  return undefined;
}

/** UTF-8, with each byte that is not part of a valid sequence shown as `\xNN`. */
function decodeShowingBroken(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // Broken somewhere: decode sequence by sequence.
  }
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 1) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    if (length > 0 && i + length <= bytes.length) {
      try {
        out += utf8.decode(bytes.subarray(i, i + length));
        i += length;
        continue;
      } catch {
        // not a valid sequence: shown byte by byte below
      }
    }
    out += `\\x${b.toString(16).padStart(2, "0")}`;
    i++;
  }
  return out;
}

/** What a terminal shows after "\r" (back to the start) and "\b" (one back): later characters overwrite earlier ones. */
function overwrite(line: string): string {
  const trimmed = line.endsWith("\r") ? line.replace(/\r+$/, "") : line;
  if (!/[\r\b]/.test(trimmed)) return trimmed;
  const cells: string[] = [];
  let at = 0;
  for (const c of trimmed) {
    if (c === "\r") at = 0;
    else if (c === "\b") at = Math.max(0, at - 1);
    else cells[at++] = c;
  }
  return cells.join("");
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
