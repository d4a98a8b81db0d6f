/** What a failed attempt to file says about the next one. */
export type FilingFailure = {
  /** The issue may exist although the attempt failed (timeout, connection lost, 5xx): look before filing again. */
  readonly uncertain: boolean;
  /** The sink named when to come back (GitHub's rate limits); otherwise the filer's backoff decides. */
  readonly retryAt?: number;
  readonly message: string;
};
