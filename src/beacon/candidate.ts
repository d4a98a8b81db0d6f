/** A URL where a dispatch may be, and how beacon found it (for `-v` and for error lines). */
export type Candidate = {
  readonly url: string;
  readonly from: string;
};

/** What one way of looking found, and what it has to say about it for `-v`. */
export type Found = {
  readonly candidates: readonly Candidate[];
  readonly notes: readonly string[];
};
