/**
 * A report body too long to carry around whole: its full text is in a file in the state folder,
 * and the report keeps only its first part (enough for an issue) and this reference.
 */
export type KeptText = {
  /** The file's name relative to the state folder, e.g. `reports/2026-12-01T10-00-00.000Z-192.0.2.7.txt`. */
  readonly file: string;
  /** UTF-8 bytes of the whole text. */
  readonly bytes: number;
  /** UTF-16 code units of the whole text (what GitHub's limit and the cut are counted in). */
  readonly chars: number;
  /** SHA-256 of the whole text's UTF-8, hex: a report sent again is recognised by it. */
  readonly sha256: string;
};

/** What `beacon report` sends, once read at the HTTP edge. */
export type Report = {
  /** As sent; may be blank (`beacon report -t ""`): the issue then gets a title of dispatch's own. */
  readonly title: string;
  /** The whole text, or only its first part when `kept` says where the whole is. */
  readonly body?: string;
  readonly kept?: KeptText;
  readonly labels?: readonly string[];
  readonly assignees?: readonly string[];
  /** A milestone title; the GitHub edge looks up its number. */
  readonly milestone?: string;
};

/**
 * The same report, sent again (beacon got no answer the first time). A kept body is compared by
 * its digest, never by its text, and not by its file: the copy sent again was stored apart.
 */
export function sameReport(a: Report, b: Report): boolean {
  const identity = (r: Report) =>
    JSON.stringify([r.title, r.kept ? ["kept", r.kept.sha256, r.kept.chars] : ["inline", r.body ?? ""], r.labels ?? [], r.assignees ?? [], r.milestone ?? null]);
  return identity(a) === identity(b);
}
