import type { RuleTerms } from "./rule-terms.ts";
import type { Workload } from "./workload.ts";

/**
 * Which server runs what (issue 20). Rules from the lab file (`[[rule]]`) and from a release
 * asset's label say where a workload may run, whether it runs once on every matching server
 * (`each`), and its own limits. The plan is worked out once, from the rules, the workloads and
 * the lab file's servers; the journal records it, so a resumed run keeps it.
 */

/** A `[[rule]]` of the lab file. */
export type Rule = RuleTerms & {
  /** Globs on the workload's name (`*`, `?`, `[abc]`); the rule applies when any matches. */
  readonly workloads: readonly string[];
  /** Where it is written, for views and messages ("lab.toml:12"). */
  readonly origin: string;
};

/** A server of the lab file, whether or not dispatch controls its power. */
export type PlacementServer = {
  readonly name: string;
  /** Unset when only its MAC is known and the neighbour table had no address for it. */
  readonly ip?: string;
  readonly tags: readonly string[];
};

/** A job's own limits, over the run's (`--run-timeout`, `--download-timeout`, `--retries`). */
export type JobLimits = { readonly runMs?: number; readonly downloadMs?: number; readonly retries?: number };

/** One job of the plan. */
export type JobPlan = {
  /** The job's name: the workload's, or `WORKLOAD@SERVER` for `each`. */
  readonly name: string;
  readonly workload: string;
  /** The servers it may run on (lab file names; addresses for others); unset: any server. */
  readonly servers?: readonly string[];
  readonly limits?: JobLimits;
  /** No server can ever run it, and why: it fails at once. */
  readonly impossible?: string;
  /** Where its placement comes from ("lab.toml:12", "its label"), for views. */
  readonly rule?: string;
};

/**
 * The plan: for each workload in queue order, its job (or, with `each`, one job per matching
 * server, in the lab file's order, then the addresses in the rule's order). A workload takes the
 * first lab file rule that matches its name; its label's terms fill in the keys that rule leaves
 * out (the jump host's operator knows the lab; the release author knows what the workload needs).
 */
export function planJobs(workloads: readonly Workload[], rules: readonly Rule[], servers: readonly PlacementServer[]): JobPlan[] {
  return workloads.flatMap((workload) => {
    const rule = rules.find((r) => r.workloads.some((glob) => globMatches(glob, workload.name)));
    const label = workload.labelTerms;
    if (!rule && !label) return [{ name: workload.name, workload: workload.name }];
    const terms: RuleTerms = { ...label, ...definedOnly(rule ?? {}) };
    const origin = [rule?.origin, label && "its label"].filter(Boolean).join(" and ");
    return jobsOf(workload.name, terms, origin, servers);
  });
}

function jobsOf(workload: string, terms: RuleTerms, origin: string, lab: readonly PlacementServer[]): JobPlan[] {
  const limits = limitsOf(terms);
  const base = { workload, rule: origin, ...(limits && { limits }) };
  const selects = terms.tags !== undefined || terms.servers !== undefined;
  if (!selects && !terms.each) return [{ name: workload, ...base }];
  const matched = matching(terms, lab);
  if (matched.length === 0) return [{ name: workload, ...base, servers: [], impossible: `no server matches (${describeTerms(terms)}, ${origin})` }];
  if (terms.each) return matched.map((server) => ({ name: `${workload}@${server}`, ...base, servers: [server] }));
  return [{ name: workload, ...base, servers: matched }];
}

/** The servers the terms select, by lab name (or address, for one outside the lab file). */
function matching(terms: RuleTerms, lab: readonly PlacementServer[]): string[] {
  const hasTags = (tags: readonly string[]) => (terms.tags ?? []).every((tag) => tags.includes(tag));
  if (terms.servers === undefined) return lab.filter((s) => hasTags(s.tags)).map((s) => s.name);
  const named = lab.filter((s) => terms.servers!.some((given) => given === s.name || given === s.ip) && hasTags(s.tags)).map((s) => s.name);
  // An address the lab file does not know is a server outside it: it carries no tags.
  const outside = (terms.tags ?? []).length > 0 ? [] : terms.servers.filter((given) => isAddress(given) && !lab.some((s) => s.name === given || s.ip === given));
  return [...new Set([...named, ...outside])];
}

function limitsOf(terms: RuleTerms): JobLimits | undefined {
  const limits: JobLimits = {
    ...(terms.runMs !== undefined && { runMs: terms.runMs }),
    ...(terms.downloadMs !== undefined && { downloadMs: terms.downloadMs }),
    ...(terms.retries !== undefined && { retries: terms.retries }),
  };
  return Object.keys(limits).length > 0 ? limits : undefined;
}

/** "tags 2p, genoa; servers genoa-1": what the terms ask of a server, for reasons. */
export function describeTerms(terms: RuleTerms): string {
  const parts = [
    terms.tags?.length ? `tags ${terms.tags.join(", ")}` : undefined,
    terms.servers !== undefined ? `servers ${terms.servers.join(", ")}` : undefined,
    terms.each ? "each" : undefined,
  ];
  return parts.filter(Boolean).join("; ") || "any server";
}

const definedOnly = (rule: RuleTerms): RuleTerms => Object.fromEntries(Object.entries(rule).filter(([key, value]) => value !== undefined && key !== "workloads" && key !== "origin"));

/** IPv4 dotted quad or anything with a colon (IPv6): names in the lab file have neither. */
const isAddress = (text: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(text) || text.includes(":");

/**
 * Shell-style globs on a workload's name: `*` any run of characters, `?` one, `[abc]`/`[a-z]`/`[!x]`
 * one of a set. Written here because the core imports no package; names hold no `/`, so `*` needs
 * no path rules.
 */
export function globMatches(glob: string, name: string): boolean {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[" && glob.indexOf("]", i + 2) > i) {
      const end = glob.indexOf("]", i + 2);
      let set = glob.slice(i + 1, end);
      if (set.startsWith("!")) set = `^${set.slice(1)}`;
      source += `[${set.replace(/[\\\]]/g, "\\$&")}]`;
      i = end;
    } else source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s").test(name);
}

/** The plan as the journal keeps it: what must be the same for a resumed run to decide the same way. */
export function planKey(plan: readonly JobPlan[]): string[] {
  return plan.map((job) => {
    const limits = job.limits ? ` ${JSON.stringify(job.limits)}` : "";
    return `${job.name} on ${job.servers === undefined ? "any server" : job.servers.join(", ") || "none"}${limits}`;
  });
}
