import { describe, expect, test } from "bun:test";
import { readLabelTerms } from "../../src/github/asset-label.ts";

// Issue 20: a release asset's label may say where its workload runs, in a short form.

describe("an asset label's placement terms", () => {
  test("the text after dispatch: — every key of a [[rule]] but workloads", () => {
    expect(readLabelTerms("Memory test dispatch: tags=2p,genoa each run_timeout=12h download_timeout=90 retries=2 servers=genoa-1,192.0.2.9")).toEqual({
      tags: ["2p", "genoa"],
      each: true,
      runMs: 43_200_000,
      downloadMs: 90_000,
      retries: 2,
      servers: ["genoa-1", "192.0.2.9"],
    });
    expect(readLabelTerms("DISPATCH:   each")).toEqual({ each: true });
  });

  test("a label without dispatch: is only a label", () => {
    expect(readLabelTerms("Memory test, 2 sockets")).toBeUndefined();
    expect(readLabelTerms(undefined)).toBeUndefined();
  });

  const refused: [string, RegExp][] = [
    ["dispatch:", /is followed by nothing: give tags=A,B/],
    ["dispatch: tag=2p", /"tag=2p" is not understood: give tags=A,B, servers=NAME,ADDRESS, each/],
    ["dispatch: each=yes", /each takes no value/],
    ["dispatch: retries=two", /retries must be a whole number/],
    ["dispatch: run_timeout=12 hours", /"hours" is not understood/],
    ["dispatch: run_timeout=forever", /run_timeout "forever" is not a duration/],
    ["dispatch: tags=", /tags needs a value/],
    ["dispatch: tags=a tags=b", /tags is given twice/],
    ["dispatch: tags=2p;rm", /tags must be words/],
  ];
  for (const [label, message] of refused) {
    test(`refused: ${label}`, () => {
      expect(() => readLabelTerms(label)).toThrow(message);
    });
  }
});
