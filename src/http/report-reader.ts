import { createHash } from "node:crypto";
import type { Token } from "stream-json/core/parser.js";
import { issueBodyLimit } from "../core/issue.ts";
import type { Report } from "../core/report.ts";

/** Where a long report body goes while it arrives: a file in the state folder. */
export type TextSpool = {
  /** Appends the next piece of the text, as UTF-8. */
  write(bytes: Uint8Array): Promise<void>;
  /** Flushes the text to the disk and closes the file; its name relative to the state folder. */
  finish(): Promise<string>;
  /** Removes the file (the report was not taken, or was a copy of one already kept). */
  discard(): Promise<void>;
};

/** Opens a spool for the body of a report arriving now from `ip`. */
export type OpenSpool = (at: number, ip: string) => Promise<TextSpool>;

export type ReadLimits = {
  /** Request bodies over this are refused (413): far above anything beacon sends (the server's `maxReportBytes`). */
  readonly maxBytes: number;
  /** Bodies up to this many characters stay in the report (and the journal); longer ones go to a file. */
  readonly inlineChars: number;
  /** How much of a body sent to a file the report keeps, for the issue. */
  readonly keepChars: number;
};

export const readLimits: ReadLimits = {
  maxBytes: 256 * 1024 * 1024,
  // Room under GitHub's limit for the footer and notes: a body up to this fits an issue whole.
  inlineChars: issueBodyLimit - 8192,
  keepChars: issueBodyLimit,
};

export type ReadReport =
  | {
      readonly ok: true;
      readonly report: Report;
      /** Drops the body's file, if one was written: call when the report was not taken, or taken again. */
      readonly discard: () => Promise<void>;
    }
  | { readonly ok: false; readonly status: 400 | 408 | 413; readonly message: string };

/**
 * Reads `beacon report`'s JSON as it arrives, holding only what the issue needs: anything that
 * is a JSON object with a string `title` is a report. The body is streamed to a file once it
 * outgrows `inlineChars` (a whole log piped to `beacon report` may be many MiB), so memory stays
 * flat; its digest recognises the same report sent again. Fields beacon does not send, and
 * fields of the wrong type or null, are ignored; empty names in `labels`/`assignees` and an
 * empty `milestone` are dropped (beacon sends `[""]` and `""` for `-l ""` and `-m ""`).
 */
export async function readReport(
  body: ReadableStream<Uint8Array> | null,
  open: () => Promise<TextSpool>,
  limits: ReadLimits = readLimits,
): Promise<ReadReport> {
  const fields = new ReportFields(open, limits);
  // Loaded with the first report, not at start: a run spends most of its time serving downloads.
  const { jsonParser } = await import("stream-json/core/parser.js");
  // The bare tokenizer, called on each decoded chunk: tokens come back in one array per chunk,
  // with no stream or promise per token (a log full of escapes is millions of tokens).
  const tokenize = jsonParser({ packKeys: true, streamKeys: false, packStrings: false, streamStrings: true, packNumbers: true, streamNumbers: false });
  const decoder = new TextDecoder();
  const take = (text: string) => {
    const out = tokenize(text) as unknown;
    if (typeof out === "object" && out !== null && "values" in out) for (const token of (out as { values: Token[] }).values) fields.take(token);
  };
  const reader = body?.getReader();
  let bytes = 0;
  try {
    for (;;) {
      const chunk = await reader?.read().catch((error: Error) => Promise.reject(new BodyCut(`the report stopped arriving after ${bytes} bytes: ${error.message}`)));
      if (!chunk || chunk.done) break;
      bytes += chunk.value.byteLength;
      if (bytes > limits.maxBytes) {
        leave(reader);
        await fields.discard();
        return { ok: false, status: 413, message: `report too large: the limit is ${limits.maxBytes} bytes` };
      }
      take(decoder.decode(chunk.value, { stream: true }));
      await fields.drain();
    }
    take(decoder.decode());
    return { ok: true, report: await fields.report(), discard: () => fields.discard() };
  } catch (error) {
    leave(reader);
    await fields.discard();
    if (error instanceof NotReport) return { ok: false, status: 400, message: error.message };
    if (error instanceof BodyCut) return { ok: false, status: 408, message: `${error.message}; send it again` };
    if (error instanceof Error && !(error instanceof SpoolError)) return { ok: false, status: 400, message: `report is not valid JSON (${error.message}): ${notAnObject}` };
    throw error;
  }
}

/**
 * Stops reading a body that will not be read to its end. Not `cancel()`: Deno's node:http body
 * stream (2.9) then still enqueues the client's next bytes and throws, which ends the process.
 * The answer closes the connection instead (see `closeAfter`).
 */
function leave(reader: ReadableStreamDefaultReader<Uint8Array> | undefined): void {
  try {
    reader?.releaseLock();
  } catch {
    // already released
  }
}

/** Headers for an answer given before the body was read whole: the rest of it is not wanted. */
export const closeAfter = { connection: "close" } as const;

/** The state folder refused the body's file: not the client's fault. */
export class SpoolError extends Error {
  override name = "SpoolError";
}

class NotReport extends Error {}

/** The connection failed or went silent before the body's end: nothing wrong with the report itself. */
class BodyCut extends Error {}

const notAnObject = 'a report is a JSON object with a string "title", e.g. {"title":"memtest passed","body":"…"}';

/** The report's fields, collected token by token. */
class ReportFields {
  private depth = 0;
  private started = false;
  private complete = false;
  private key: string | undefined;
  /** Where the string being read goes, if anywhere. */
  private into: ((text: string) => void) | undefined;
  private parts: string[] = [];
  private list: string[] | undefined;
  private title: string | undefined;
  private milestone: string | undefined;
  private labels: string[] | undefined;
  private assignees: string[] | undefined;
  private body: Body | undefined;
  private inBody = false;

  constructor(
    private readonly open: () => Promise<TextSpool>,
    private readonly limits: ReadLimits,
  ) {}

  take(token: Token): void {
    if (!this.started) {
      this.started = true;
      if (token.name !== "startObject") throw new NotReport(notAnObject);
    }
    switch (token.name) {
      case "startObject":
      case "startArray":
        if (this.depth === 1 && token.name === "startArray" && (this.key === "labels" || this.key === "assignees")) this.list = [];
        this.depth++;
        return;
      case "endObject":
      case "endArray":
        this.depth--;
        if (this.depth === 0) this.complete = true;
        if (this.depth === 1 && this.list) {
          const names = this.list.filter((name) => name.trim() !== "");
          if (this.key === "labels") this.labels = names;
          else this.assignees = names;
          this.list = undefined;
        }
        return;
      case "keyValue":
        if (this.depth === 1) this.key = String(token.value);
        return;
      case "startString":
        this.parts = [];
        this.into = undefined;
        // The first body is the one kept (beacon sends one; JSON.parse would keep the last).
        if (this.depth === 1 && this.key === "body" && !this.body) {
          this.body = new Body(this.limits);
          this.inBody = true;
        } else if (this.depth === 1 && this.key === "title") this.into = (text) => (this.title = text);
        else if (this.depth === 1 && this.key === "milestone") this.into = (text) => (this.milestone = text);
        else if (this.depth === 2 && this.list) this.into = (text) => this.list!.push(text);
        return;
      case "stringChunk":
        if (this.inBody) this.body!.write(String(token.value));
        else if (this.into) this.parts.push(String(token.value));
        return;
      case "endString":
        if (this.inBody) this.inBody = false;
        else this.into?.(this.parts.join(""));
        this.into = undefined;
        this.parts = [];
        return;
      default:
        return; // numbers, true, false, null: no field of a report takes them
    }
  }

  /** Moves what the body holds to its file, once it is long enough to go there. */
  drain(): Promise<void> {
    return this.body?.drain(this.open) ?? Promise.resolve();
  }

  async report(): Promise<Report> {
    if (!this.started) throw new NotReport(`the report is empty: ${notAnObject}`);
    if (!this.complete) throw new Error("the JSON ends before the report does");
    if (this.title === undefined) throw new NotReport(`report has no "title" string: ${notAnObject}`);
    const body = await this.body?.finish(this.open);
    const milestone = this.milestone?.trim() ? this.milestone : undefined;
    return {
      title: this.title,
      ...(body && body.text !== "" && { body: body.text }),
      ...(body?.kept && { kept: body.kept }),
      ...(this.labels?.length && { labels: this.labels }),
      ...(this.assignees?.length && { assignees: this.assignees }),
      ...(milestone !== undefined && { milestone }),
    };
  }

  discard(): Promise<void> {
    return this.body?.discard() ?? Promise.resolve();
  }
}

/** Writes to the body's file happen in pieces of about this many characters: few writes, little held. */
const pieceChars = 1 << 20;

/** A report body: in memory while short, then streamed to a file with its first part kept. */
class Body {
  private head = "";
  private chars = 0;
  private bytes = 0;
  private readonly hash = createHash("sha256");
  private readonly encoder = new TextEncoder();
  private spool: TextSpool | undefined;
  /** Text not yet in the file (all of it, while the body is short). */
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(private readonly limits: ReadLimits) {}

  write(text: string): void {
    if (text === "") return;
    this.chars += text.length;
    if (this.head.length < this.limits.keepChars) this.head += text.slice(0, this.limits.keepChars - this.head.length);
    this.pending.push(text);
    this.pendingChars += text.length;
  }

  async drain(open: () => Promise<TextSpool>, all = false): Promise<void> {
    if (!this.spool) {
      if (this.chars <= this.limits.inlineChars) return;
      // Too long to carry around: from here on the whole text goes to a file.
      this.spool = await open().catch((error: Error) => Promise.reject(new SpoolError(error.message)));
    }
    if (this.pendingChars < pieceChars && !all) return;
    const text = this.pending.join("");
    this.pending = [];
    this.pendingChars = 0;
    // Encoded, counted and hashed a piece at a time: per chunk it would be millions of small buffers.
    const bytes = this.encoder.encode(text);
    this.bytes += bytes.byteLength;
    this.hash.update(bytes);
    const spool = this.spool!;
    if (bytes.byteLength) await spool.write(bytes).catch((error: Error) => Promise.reject(new SpoolError(error.message)));
  }

  async finish(open: () => Promise<TextSpool>): Promise<{ text: string; kept?: Report["kept"] }> {
    await this.drain(open, true);
    if (!this.spool) return { text: this.head };
    const file = await this.spool.finish().catch((error: Error) => Promise.reject(new SpoolError(error.message)));
    return { text: this.head, kept: { file, bytes: this.bytes, chars: this.chars, sha256: this.hash.digest("hex") } };
  }

  async discard(): Promise<void> {
    await this.spool?.discard().catch(() => {});
    this.spool = undefined;
  }
}
