// dispatch's side of GitHub: redirects it refuses to follow, milestones found across pages.
import { expect, test } from "bun:test";
import { type TestDispatch, dispatchPerTest, until } from "../support/dispatch.ts";
import { http } from "../support/http-client.ts";
import { efi } from "../support/workloads.ts";

const lab = dispatchPerTest();

async function setup(milestones?: { title: string; state?: "open" | "closed" }[]) {
  return lab.start({ releases: [{ tag: "v1", assets: [efi("a.efi", 2_000_000), efi("b.efi", 1000)] }], milestones });
}
const status = async (d: TestDispatch) =>
  ((await (await fetch(`http://127.0.0.1:${d.port}/api/status`)).json()) as { jobs: { name: string; state: string; ip: string | null }[] }).jobs;

test("a redirect to a host that is not GitHub's is refused, and the token goes nowhere", async () => {
  const { gh, d } = await setup();
  const evil = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("evil") });
  try {
    gh.faults.redirectTo = `http://localhost:${evil.port}/x`; // another hostname than the API's
    const reply = await http(d.url, { from: "127.0.0.2" });
    expect(reply.status).toBe(502);
    expect(new TextDecoder().decode(reply.body)).toContain("not a GitHub host");
  } finally {
    evil.stop(true);
  }
});

test("a milestone title becomes its number (closed ones too); an unknown title is dropped but the issue is filed", async () => {
  const many = Array.from({ length: 120 }, (_, i) => ({ title: `sprint ${i}` }));
  const { gh, d } = await setup([...many, { title: "Q4 lab run", state: "closed" }]);
  const cycle = async (from: string, milestone: string) => {
    await http(d.url, { from });
    expect((await http(d.url, { method: "POST", from })).status).toBe(200);
    const put = await http(d.url, { method: "PUT", from, body: JSON.stringify({ title: `from ${from}`, milestone }) });
    expect(put.status).toBe(200);
  };
  await cycle("127.0.0.2", "Q4 lab run");
  await cycle("127.0.0.3", "no such milestone");
  await until(() => gh.issues.length === 2, "two issues", 15_000);
  const byTitle = Object.fromEntries(gh.issues.map((i) => [i.title, i]));
  expect(byTitle["from 127.0.0.2"]!.milestone).toBe(121);
  expect(byTitle["from 127.0.0.3"]!.milestone).toBeNull();
  // The milestone list took more than one page, followed through GitHub's Link header.
  expect(gh.requests.filter((r) => r.path.includes("milestones")).length).toBeGreaterThan(2);
  await until(async () => (await status(d)).every((j) => j.state === "finished"), "both finished");
});

