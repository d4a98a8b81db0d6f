// What a placement rule says (core/placement.ts), from the lab file or from a release asset's
// label (which a workload carries): a file of its own, so workload.ts and placement.ts need not
// import each other.

/** What a rule says about the workloads it matches. Unset keys say nothing. */
export type RuleTerms = {
  /** A server must carry every one of these tags. */
  readonly tags?: readonly string[];
  /** Only these servers: lab file names, or addresses (for servers outside the lab file). */
  readonly servers?: readonly string[];
  /** One job per matching server, named `WORKLOAD@SERVER`. */
  readonly each?: boolean;
  readonly runMs?: number;
  readonly downloadMs?: number;
  readonly retries?: number;
};
