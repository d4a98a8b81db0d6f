/** What a failed attempt to file says about the next one. */
export type FilingFailure = {
  /** The issue may exist although the attempt failed (timeout, connection lost, 5xx): look before filing again. */
  readonly uncertain: boolean;
  /** The sink named when to come back (GitHub's rate limits); otherwise the filer's backoff decides. */
  readonly retryAt?: number;
  /**
   * The sink refuses for good (GitHub: 401, 403 that is no rate limit, 404, 410): retrying soon
   * cannot help, only a change of token or settings will. The filer keeps trying, slowly.
   */
  readonly permanent: boolean;
  readonly message: string;
};
