import { afterEach, describe, expect, test } from "bun:test";
import { findApiUrl, probeWithFetch, webHostOf } from "../../src/github/api-url.ts";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";

const probe = probeWithFetch("dispatch-test", 5_000);
const running: FakeGitHub[] = [];
const servers: ReturnType<typeof Bun.serve>[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.stop()));
  await Promise.all(servers.splice(0).map((s) => s.stop(true)));
});

async function enterprise(): Promise<FakeGitHub> {
  const gh = await startFakeGitHub({ releases: [], apiPrefix: "/api/v3" });
  running.push(gh);
  return gh;
}

describe("webHostOf: the host gh knows the login by", () => {
  test("github.com, an Enterprise Server, a GHE.com tenant", () => {
    expect(webHostOf("https://api.github.com")).toBe("github.com");
    expect(webHostOf("https://ghe.example.com/api/v3")).toBe("ghe.example.com");
    expect(webHostOf("https://GHE.example.com")).toBe("ghe.example.com");
    expect(webHostOf("https://api.acme.ghe.com")).toBe("acme.ghe.com");
    expect(webHostOf("http://127.0.0.1:8443/api/v3")).toBe("127.0.0.1");
  });
});

describe("findApiUrl", () => {
  test("URLs that are plainly the API are kept as given, without a request", async () => {
    const asked: string[] = [];
    const counting = async (url: string) => (asked.push(url), undefined);
    for (const url of ["https://api.github.com", "https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/", "https://api.acme.ghe.com"]) {
      expect(await findApiUrl(url, counting)).toEqual({ kind: "ok", apiUrl: url.replace(/\/$/, "") });
    }
    expect(asked).toEqual([]);
  });

  test("the browser's address of github.com or of a GHE.com tenant is turned into its API", async () => {
    expect(await findApiUrl("https://github.com", probe)).toMatchObject({ kind: "ok", apiUrl: "https://api.github.com" });
    expect(await findApiUrl("https://acme.ghe.com/", probe)).toMatchObject({ kind: "ok", apiUrl: "https://api.acme.ghe.com" });
  });

  test("an Enterprise Server's web address finds the API under /api/v3, and says so", async () => {
    const gh = await enterprise();
    const found = await findApiUrl(gh.webUrl, probe);
    expect(found).toMatchObject({ kind: "ok", apiUrl: gh.apiUrl });
    if (found.kind === "ok") expect(found.note).toContain("/api/v3");
    // No token goes to a URL that is not yet known to be the API.
    expect(gh.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  test("an API at the root (the test fake, a proxy) is kept", async () => {
    const gh = await startFakeGitHub({ releases: [] });
    running.push(gh);
    expect(await findApiUrl(gh.apiUrl, probe)).toEqual({ kind: "ok", apiUrl: gh.apiUrl });
  });

  test("a web server that is not GitHub: a message that names /api/v3", async () => {
    const web = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<html>intranet</html>", { headers: { "content-type": "text/html" } }) });
    servers.push(web);
    const found = await findApiUrl(`http://127.0.0.1:${web.port}`, probe);
    expect(found.kind).toBe("wrong");
    if (found.kind === "wrong") {
      expect(found.message).toContain("/api/v3");
      expect(found.message).toContain("https://HOST/api/v3");
    }
  });

  test("unreachable: kept as given, reading the release will say what is wrong", async () => {
    expect(await findApiUrl("http://127.0.0.1:9", probe)).toEqual({ kind: "ok", apiUrl: "http://127.0.0.1:9" });
  });
});
