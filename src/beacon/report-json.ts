/** The flags of `beacon report`, as given. */
export type ReportFlags = {
  readonly title: string;
  readonly body: string;
  readonly labels: readonly string[];
  readonly assignees: readonly string[];
  /** Absent when `-m` was not given; "" when it was given empty. */
  readonly milestone?: string;
};

/**
 * The JSON the earlier beacon sends, byte for byte: compact, fields in this order, `body` left
 * out when empty, `labels`/`assignees` when none were given, `milestone` only when `-m` was not
 * given (so `-m ""` sends ""). Scripts that switch clients get the same issues.
 */
export function reportJson(flags: ReportFlags): string {
  return JSON.stringify({
    title: flags.title,
    ...(flags.body !== "" && { body: flags.body }),
    ...(flags.labels.length > 0 && { labels: flags.labels }),
    ...(flags.assignees.length > 0 && { assignees: flags.assignees }),
    ...(flags.milestone !== undefined && { milestone: flags.milestone }),
  });
}
