import * as v from "valibot";
import type { Report } from "../core/report.ts";

/** Reports larger than this are refused with 413; GitHub's own issue body limit is 65,536 characters. */
export const maxReportBytes = 1024 * 1024;

const text = v.pipe(v.string(), v.maxLength(maxReportBytes));
const names = v.pipe(v.array(v.pipe(v.string(), v.minLength(1, "must not be empty"))), v.maxLength(100));

/**
 * `beacon report`'s JSON. Optional fields may also be null (serializers often write None so);
 * unknown fields are ignored so newer beacons keep working.
 */
export const ReportSchema = v.object({
  title: v.pipe(v.string("title must be a string"), v.trim(), v.minLength(1, "title must not be empty"), v.maxLength(256)),
  body: v.nullish(text),
  labels: v.nullish(names),
  assignees: v.nullish(names),
  milestone: v.nullish(v.pipe(v.string(), v.minLength(1))),
});

export type ParsedReport = { ok: true; report: Report } | { ok: false; message: string };

export function parseReport(json: unknown): ParsedReport {
  const result = v.safeParse(ReportSchema, json);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? "report"}: ${issue.message}`);
    return { ok: false, message: problems.join("; ") };
  }
  const { title, body, labels, assignees, milestone } = result.output;
  // Drop nulls so the core sees absent fields as absent.
  const report: Report = {
    title,
    ...(body != null && { body }),
    ...(labels != null && { labels }),
    ...(assignees != null && { assignees }),
    ...(milestone != null && { milestone }),
  };
  return { ok: true, report };
}
