import { expect, test } from "bun:test";
import { parseReport } from "../../src/http/report-schema.ts";

test("a full report passes; nulls and unknown fields are dropped", () => {
  expect(parseReport({ title: " t ", body: "b", labels: ["x"], assignees: ["u"], milestone: "m", extra: 1 })).toEqual({
    ok: true,
    report: { title: "t", body: "b", labels: ["x"], assignees: ["u"], milestone: "m" },
  });
  expect(parseReport({ title: "t", body: null, labels: null, milestone: null })).toEqual({ ok: true, report: { title: "t" } });
});

test("wrong shapes name the field at fault", () => {
  const message = (json: unknown) => {
    const r = parseReport(json);
    return r.ok ? "" : r.message;
  };
  expect(message({})).toContain("title");
  expect(message({ title: "" })).toContain("title");
  expect(message({ title: 5 })).toContain("title");
  expect(message({ title: "t", labels: "bug" })).toContain("labels");
  expect(message({ title: "t", assignees: [1] })).toContain("assignees");
  expect(message({ title: "t", milestone: 3 })).toContain("milestone");
  expect(message([])).not.toBe("");
  expect(message("title")).not.toBe("");
});
