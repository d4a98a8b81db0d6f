import { join } from "node:path";
import type { AppendFile, Files } from "../runtime/types.ts";

/**
 * Where a console is kept: `consoles/SERVER/` in the state folder (owner-only, as the whole
 * state folder), one part per attempt (`attempt-N`: from the server's boot request for a job to
 * its next one), and `no-job` for what a server printed before it ever asked for one.
 *
 * Bounded per part: the first `headBytes` (firmware, boot loader, kernel start: where a boot
 * fails) in `PART.head.txt`, then the rest in pieces of `pieceBytes`, of which the last `pieces`
 * are kept (where a hang or a panic shows). A piece is named by how many bytes of the part came
 * before it, so what was dropped in between is known from the names alone, after a restart too.
 */
export type ConsoleBounds = {
  readonly headBytes: number;
  readonly pieceBytes: number;
  readonly pieces: number;
};

const MiB = 1024 * 1024;

/**
 * 1 MiB of head and the last 1–2 MiB: at most 3 MiB per attempt. A serial console at 115,200 baud
 * writes at most 11.25 KiB/s, so 1 MiB is 90 s of non-stop output (a whole firmware and kernel
 * boot, thousands of lines) and an issue shows only its last 100 lines anyway; a workload that
 * prints for ever costs 3 MiB per attempt, not the disk.
 */
export const defaultBounds: ConsoleBounds = { headBytes: MiB, pieceBytes: MiB, pieces: 2 };

/** The part before a server's first job. */
export const noJob = "no-job";
export const attemptPart = (n: number) => `attempt-${n}`;

const pieceName = (part: string, offset: number) => `${part}.tail-${String(offset).padStart(15, "0")}.txt`;
const headName = (part: string) => `${part}.head.txt`;
const piecePattern = (part: string) => new RegExp(`^${part.replace(/[.-]/g, "\\$&")}\\.tail-(\\d{15})\\.txt$`);

/** One part's files on the disk. */
async function partFiles(files: Files, dir: string, part: string): Promise<{ head: number; pieces: { offset: number; name: string }[] }> {
  let names: string[] = [];
  try {
    names = await files.list(dir);
  } catch {
    return { head: 0, pieces: [] };
  }
  const pattern = piecePattern(part);
  const pieces = names.flatMap((name) => {
    const m = pattern.exec(name);
    return m ? [{ offset: Number(m[1]), name }] : [];
  });
  pieces.sort((a, b) => a.offset - b.offset);
  return { head: (await files.stat(join(dir, headName(part))))?.size ?? 0, pieces };
}

/**
 * Appends one part's lines within its bounds. Opened on what is on the disk, so a restarted
 * dispatch goes on where the last one stopped (its bounds included).
 */
export class PartWriter {
  #headSize: number;
  #piece?: { offset: number; size: number; file: AppendFile };
  #pieces: { offset: number; name: string }[];
  #chain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly files: Files,
    private readonly dir: string,
    readonly part: string,
    private readonly bounds: ConsoleBounds,
    head: number,
    pieces: { offset: number; name: string }[],
  ) {
    this.#headSize = head;
    this.#pieces = pieces;
  }

  static async open(files: Files, dir: string, part: string, bounds: ConsoleBounds): Promise<PartWriter> {
    await files.mkdirp(dir);
    const { head, pieces } = await partFiles(files, dir, part);
    return new PartWriter(files, dir, part, bounds, head, pieces);
  }

  /** Appends whole lines (each ending in "\n"); writes happen in the order they were asked for. */
  write(text: string): Promise<void> {
    const bytes = new TextEncoder().encode(text);
    const done = this.#chain.then(() => this.#write(bytes));
    // One failed write (a full disk) must not stop the ones after it.
    this.#chain = done.catch(() => {});
    return done;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let rest = bytes;
    const headRoom = this.#pieces.length === 0 ? this.bounds.headBytes - this.#headSize : 0;
    if (headRoom > 0) {
      const cut = rest.length <= headRoom ? rest.length : rest.lastIndexOf(0x0a, headRoom - 1) + 1;
      if (cut > 0) {
        await appendTo(this.files, join(this.dir, headName(this.part)), rest.subarray(0, cut));
        this.#headSize += cut;
        rest = rest.subarray(cut);
      }
    }
    while (rest.length > 0) {
      const piece = await this.#currentPiece();
      const room = this.bounds.pieceBytes - piece.size;
      let cut = rest.length <= room ? rest.length : rest.lastIndexOf(0x0a, room - 1) + 1;
      // Not one whole line fits: a fresh piece takes it (a line is far smaller than a piece).
      if (cut <= 0) cut = piece.size === 0 ? Math.min(rest.length, room) : 0;
      if (cut > 0) {
        await piece.file.write(rest.subarray(0, cut));
        piece.size += cut;
        rest = rest.subarray(cut);
      }
      if (rest.length > 0) await this.#nextPiece();
    }
  }

  async #currentPiece() {
    if (this.#piece) return this.#piece;
    const last = this.#pieces.at(-1);
    if (last) {
      const size = (await this.files.stat(join(this.dir, last.name)))?.size ?? 0;
      this.#piece = { offset: last.offset, size, file: await this.files.openAppend(join(this.dir, last.name)) };
      return this.#piece;
    }
    return this.#startPiece(this.#headSize);
  }

  async #nextPiece() {
    const piece = this.#piece!;
    await piece.file.close();
    this.#piece = undefined;
    await this.#startPiece(piece.offset + piece.size);
    // The oldest pieces go: only the last `pieces` are kept.
    while (this.#pieces.length > this.bounds.pieces) {
      const old = this.#pieces.shift()!;
      await this.files.remove(join(this.dir, old.name));
    }
  }

  async #startPiece(offset: number) {
    const name = pieceName(this.part, offset);
    this.#pieces.push({ offset, name });
    this.#piece = { offset, size: 0, file: await this.files.openAppend(join(this.dir, name)) };
    return this.#piece;
  }

  async close(): Promise<void> {
    await this.#chain;
    await this.#piece?.file.close();
    this.#piece = undefined;
  }
}

async function appendTo(files: Files, path: string, bytes: Uint8Array): Promise<void> {
  const file = await files.openAppend(path);
  try {
    await file.write(bytes);
  } finally {
    await file.close();
  }
}

/** What is kept of one part: its text (a note where the middle was dropped), and its size. */
export async function readPart(files: Files, dir: string, part: string): Promise<{ text: string; droppedBytes: number } | undefined> {
  const { head, pieces } = await partFiles(files, dir, part);
  const headText = head > 0 ? ((await files.readText(join(dir, headName(part)))) ?? "") : "";
  if (head === 0 && pieces.length === 0) return undefined;
  const dropped = pieces.length ? pieces[0]!.offset - head : 0;
  const tail = await Promise.all(pieces.map(async (p) => (await files.readText(join(dir, p.name))) ?? ""));
  const note = dropped > 0 ? `[… ${dropped} bytes of console dropped here: dispatch keeps each attempt's first ${mib(head)} and its last pieces …]\n` : "";
  return { text: headText + note + tail.join(""), droppedBytes: dropped };
}

/** The last `n` lines kept of one part (without a trailing empty one). */
export async function lastLines(files: Files, dir: string, part: string, n: number): Promise<string[]> {
  const kept = await readPart(files, dir, part);
  if (!kept) return [];
  const lines = kept.text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-n);
}

const mib = (bytes: number) => (bytes >= MiB ? `${(bytes / MiB).toFixed(bytes % MiB ? 1 : 0)} MiB` : `${Math.ceil(bytes / 1024)} KiB`);
