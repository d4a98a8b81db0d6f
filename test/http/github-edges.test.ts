// dispatch's side of GitHub: redirects to storage elsewhere, milestones found across pages.
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

test("a redirect to storage on another host is followed without the token (an Enterprise API); one to another scheme is refused", async () => {
  const { gh, d } = await setup();
  const seen: (string | null)[] = [];
  const bytes = new Uint8Array(1000).fill(9);
  const storage = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => (seen.push(request.headers.get("authorization")), new Response(bytes, { headers: { "content-type": "application/octet-stream" } })),
  });
  try {
    // Another hostname than the API's: the fake is not github.com, so its storage may be anywhere.
    gh.faults.redirectTo = `http://localhost:${storage.port}/bucket/b.efi?X-Amz-Signature=abc`;
    await http(d.url, { method: "HEAD", from: "127.0.0.2" }); // a.efi, the first in the queue
    const reply = await http(d.url, { from: "127.0.0.3" }); // b.efi: 1000 bytes, as the storage has
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual(bytes);
    expect(seen).toEqual([null]);

    gh.faults.redirectTo = "file:///etc/passwd";
    const refused = await http(d.url, { from: "127.0.0.2" }); // a.efi, assigned by its HEAD
    expect(refused.status).toBe(502);
    expect(new TextDecoder().decode(refused.body)).toContain("not http(s)");
    expect(d.lines.join("\n")).not.toContain(gh.token);
  } finally {
    storage.stop(true);
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

