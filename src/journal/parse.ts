import * as v from "valibot";
import type { DispatchEvent } from "../core/events.ts";
import { EventSchema, HeaderSchema, type JournalHeader } from "./format.ts";

export type ParsedJournal =
  /** No header at all (an empty file, or one cut while its header was written). */
  | { readonly kind: "empty"; readonly damaged?: string }
  | {
      readonly kind: "journal";
      readonly header: JournalHeader;
      readonly events: readonly DispatchEvent[];
      /** Bytes up to the end of the last good line: where appending goes on. */
      readonly goodBytes: number;
      /** The last line, cut mid-write (power loss): dropped, with its start for the message. */
      readonly damagedTail?: string;
      /** The last line was whole but lost its newline: it is kept, and the newline must be added. */
      readonly missingNewline?: boolean;
    }
  /** Damage before the last line: we cannot know what happened after it. */
  | { readonly kind: "corrupt"; readonly line: number; readonly problem: string };

const encoder = new TextEncoder();

/**
 * Reads a journal's text. Only the last line may be damaged: the writer appends whole lines,
 * so a cut can only hit the one being written, and its answer was never sent. Trailing NUL
 * bytes (what some file systems leave after a power cut) count as part of that cut.
 */
export function parseJournal(text: string): ParsedJournal {
  const trimmed = text.replace(/\0+$/, "");
  const lines = trimmed.split("\n");
  const complete = trimmed.endsWith("\n");
  if (complete) lines.pop(); // the empty string after the final newline
  if (lines.length === 0) return { kind: "empty" };

  const isLast = (i: number) => i === lines.length - 1;
  const header = decode(lines[0]!, HeaderSchema);
  if (!header.ok) {
    if (isLast(0)) return { kind: "empty", damaged: preview(lines[0]!) };
    return { kind: "corrupt", line: 1, problem: `the header ${header.problem}` };
  }

  const events: DispatchEvent[] = [];
  let goodBytes = encoder.encode(lines[0]!).byteLength + 1;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const event = decode(line, EventSchema);
    if (!event.ok) {
      // Valid JSON that is not an event was written whole: that is damage, not a cut.
      if (isLast(i) && !event.json) return { kind: "journal", header: header.value, events, goodBytes, damagedTail: preview(line) };
      return { kind: "corrupt", line: i + 1, problem: event.problem };
    }
    events.push(event.value);
    goodBytes += encoder.encode(line).byteLength + 1;
  }
  return { kind: "journal", header: header.value, events, goodBytes: complete ? goodBytes : goodBytes - 1, missingNewline: !complete };
}

type Decoded<T> = { ok: true; value: T } | { ok: false; json: boolean; problem: string };

function decode<S extends v.GenericSchema>(line: string, schema: S): Decoded<v.InferOutput<S>> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, json: false, problem: `is not JSON: ${preview(line)}` };
  }
  const result = v.safeParse(schema, json);
  if (result.success) return { ok: true, value: result.output };
  const issue = result.issues[0];
  return { ok: false, json: true, problem: `is not what dispatch writes (${v.getDotPath(issue) ?? "line"}: ${issue.message}): ${preview(line)}` };
}

function preview(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
}
