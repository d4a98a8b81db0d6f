/** What `beacon report` sends, once validated at the HTTP edge. */
export type Report = {
  readonly title: string;
  readonly body?: string;
  readonly labels?: readonly string[];
  readonly assignees?: readonly string[];
  /** A milestone title; the GitHub edge looks up its number. */
  readonly milestone?: string;
};
