import { create } from "xmlbuilder2";
import { cutAt } from "../core/issue.ts";
import type { Time } from "../core/job.ts";
import { type SummaryRow, tally } from "../core/summary.ts";

/** A run as one JUnit test suite (the shape Jenkins, GitLab, GitHub's test-report actions read). */
export type JUnitRun = {
  /** The suite's name and each case's classname: the release (or folder) as people read it. */
  readonly source: string;
  readonly startedAt: Time;
  readonly now: Time;
  readonly rows: readonly SummaryRow[];
  /** dispatch is exiting: a job not settled now never ran in this run (an error), not one still to come (skipped). */
  readonly final: boolean;
  /** The suite's properties (repository, release, summary issue, dispatch version). */
  readonly properties: readonly (readonly [string, string])[];
  readonly hostname?: string;
};

/** What `system-out` keeps of a report's body: enough to read in a CI view; the whole is in the issue. */
export const systemOutLimit = 16_384;

/**
 * The JUnit XML of a run: one `testsuite`, one `testcase` per job (name the workload, time its
 * run in seconds); `failure` for a job that ran and failed (or whose report carries a failing
 * label), `error` for one that never ran, `skipped` for one still to come. Each job's issue is a
 * suite property (`issue: WORKLOAD`): Jenkins' schema (xunit's junit-10.xsd) allows properties
 * only on a suite. Characters XML 1.0 forbids (control characters, lone surrogates) become U+FFFD.
 */
export function junitXml(run: JUnitRun): string {
  const counts = tally(run.rows);
  const cases = run.rows.map((row) => ({ row, outcome: outcomeOf(row, run.final) }));
  const failures = cases.filter((c) => c.outcome?.kind === "failure").length;
  const errors = cases.filter((c) => c.outcome?.kind === "error").length;
  const skipped = cases.filter((c) => c.outcome?.kind === "skipped").length;
  const time = seconds(run.now - run.startedAt);

  const doc = create({ version: "1.0", encoding: "UTF-8", invalidCharReplacement: "\uFFFD" });
  const suites = doc.ele("testsuites", { name: "dispatch", tests: String(counts.total), failures: String(failures), errors: String(errors), time });
  const suite = suites.ele("testsuite", {
    name: run.source,
    tests: String(counts.total),
    failures: String(failures),
    errors: String(errors),
    skipped: String(skipped),
    time,
    timestamp: new Date(run.startedAt).toISOString().slice(0, 19),
    ...(run.hostname && { hostname: run.hostname }),
  });
  const properties = suite.ele("properties");
  for (const [name, value] of run.properties) properties.ele("property", { name: oneLine(name), value: oneLine(value) });
  for (const { row } of cases) if (row.issue) properties.ele("property", { name: oneLine(`issue: ${row.job}`), value: oneLine(row.issue.url) });

  for (const { row, outcome } of cases) {
    // The jobs of one workload run on every matching server share a class, so CI views group them.
    const classname = row.job === row.workload ? run.source : `${run.source}/${row.workload}`;
    const testcase = suite.ele("testcase", { name: row.job, classname, time: seconds(row.durationMs ?? 0) });
    if (outcome) testcase.ele(outcome.kind, { message: oneLine(outcome.message), type: outcome.type }).txt(details(row));
    const out = systemOut(row);
    if (out) testcase.ele("system-out").txt(out);
  }
  return doc.end({ prettyPrint: true });
}

type Outcome = { readonly kind: "failure" | "error" | "skipped"; readonly type: string; readonly message: string };

function outcomeOf(row: SummaryRow, final: boolean): Outcome | undefined {
  switch (row.verdict) {
    case "passed":
      return undefined;
    case "failed":
      return row.failingLabels.length > 0
        ? { kind: "failure", type: "failing-label", message: row.reason ?? "failing label" }
        : { kind: "failure", type: "failed", message: row.reason ?? "failed" };
    case "never-run":
      return { kind: "error", type: "never-run", message: `never run: ${row.reason ?? "no server ran it"}` };
    case "pending":
      return final
        ? { kind: "error", type: "not-finished", message: `not finished when dispatch stopped (${row.state}); the next start resumes it` }
        : { kind: "skipped", type: "pending", message: `pending (${row.state}): the run is not over` };
    default:
      return row.verdict satisfies never;
  }
}

/** The facts of a failure or error, one per line. */
function details(row: SummaryRow): string {
  return [
    ...(row.job === row.workload ? [] : [`job: ${row.job}`]),
    `workload: ${row.workload}`,
    `state: ${row.state}`,
    ...(row.reason ? [`reason: ${row.reason}`] : []),
    ...(row.server ? [`server: ${row.server}`] : []),
    ...(row.attempts !== undefined ? [`attempts: ${row.attempts}`] : []),
    ...(row.failingLabels.length ? [`failing labels: ${row.failingLabels.join(", ")}`] : []),
    ...(row.issue ? [`issue: ${row.issue.url}`] : []),
  ].join("\n");
}

/** The report (its title, where it was filed, its body cut to `systemOutLimit`). */
function systemOut(row: SummaryRow): string | undefined {
  const report = row.report;
  if (!report) return undefined;
  const body = report.body ?? "";
  const whole = report.kept?.chars ?? body.length;
  const cut = whole > systemOutLimit || body.length > systemOutLimit;
  const head = [`report: ${report.title}`, ...(row.issue ? [`issue: ${row.issue.url}`] : []), ""];
  const text = cut ? `${cutAt(body, systemOutLimit)}\n\n[cut by dispatch: ${whole} characters in all; the whole report is in its issue]` : body;
  return `${head.join("\n")}\n${text}`;
}

/** Attribute values are normalised to spaces by XML parsers anyway; say so plainly. */
const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);
