import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Octokit, RequestError } from "octokit";
import { type FakeGitHub, type FakeGitHubOptions, startFakeGitHub } from "./index.ts";
import { componentSchema, loadSpec, requiredKeys, responseSchema, type Spec, validate } from "./openapi.ts";
import { parseRange } from "./range.ts";

// ---- fixtures ----------------------------------------------------------------------------------

const TOKEN = "ghp_faketoken123";
const AUTH = { authorization: `token ${TOKEN}` };
const REPO = "/repos/AMDEPYC/dispatch";

/** Deterministic, non-repeating-looking bytes. */
function bytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const EFI = bytes(200_000, 7);
const MANIFEST = new TextEncoder().encode(JSON.stringify({ workloads: ["stream", "hpl"] }));

const BASE: FakeGitHubOptions = {
  releases: [
    { tag: "v0.9.0", assets: [{ name: "old.efi", contentType: "application/efi", data: bytes(1000, 3) }] },
    {
      tag: "v1.0.0",
      assets: [
        { name: "payload.efi", contentType: "application/efi", data: EFI },
        { name: "manifest.json", contentType: "application/json", data: MANIFEST },
      ],
    },
    { tag: "v1.1.0-rc1", assets: [] },
  ],
  milestones: [
    { title: "Sprint 1" },
    { title: "Sprint 2", state: "closed" },
    { title: "Sprint 3" },
    { title: "Sprint 4" },
    { title: "Sprint 5", state: "closed" },
  ],
};

const running: FakeGitHub[] = [];
async function start(overrides: Partial<FakeGitHubOptions> = {}): Promise<FakeGitHub> {
  const fake = await startFakeGitHub({ ...BASE, ...overrides });
  running.push(fake);
  return fake;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((f) => f.stop()));
});

function octokit(fake: FakeGitHub, auth: string | undefined = TOKEN) {
  // The `octokit` package bundles retry + throttling; turn them off so faults surface immediately.
  return new Octokit({ auth, baseUrl: fake.apiUrl, throttle: { enabled: false }, retry: { enabled: false } });
}

async function getJson(fake: FakeGitHub, path: string, headers: Record<string, string> = AUTH) {
  const res = await fetch(`${fake.apiUrl}${path}`, { headers });
  return { res, body: (await res.json()) as any };
}

async function postIssue(fake: FakeGitHub, payload: unknown, headers: Record<string, string> = AUTH) {
  const res = await fetch(`${fake.apiUrl}${REPO}/issues`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
  return { res, body: (await res.json()) as any };
}

async function assetUrl(fake: FakeGitHub, name = "payload.efi"): Promise<string> {
  const { body } = await getJson(fake, `${REPO}/releases/tags/v1.0.0`);
  return body.assets.find((a: any) => a.name === name).url;
}

/** Follows the API's 302 by hand and returns the signed storage URL. */
async function signedUrl(fake: FakeGitHub, name = "payload.efi"): Promise<string> {
  const res = await fetch(await assetUrl(fake, name), {
    headers: { ...AUTH, accept: "application/octet-stream" },
    redirect: "manual",
  });
  expect(res.status).toBe(302);
  return res.headers.get("location")!;
}

/** Reads a body chunk by chunk; returns the bytes seen and the error, if the read rejected. */
async function drain(res: Response): Promise<{ received: number; chunks: number; error?: any }> {
  let received = 0;
  let chunks = 0;
  try {
    for await (const chunk of res.body!) {
      received += chunk.byteLength;
      chunks += 1;
    }
    return { received, chunks };
  } catch (error) {
    return { received, chunks, error };
  }
}

let spec: Spec;
beforeAll(async () => {
  spec = await loadSpec();
});

function expectSchema(path: string, method: string, status: number, value: unknown) {
  expect(validate(spec, responseSchema(spec, path, method, status), value)).toEqual([]);
}

// ---- OpenAPI conformance -----------------------------------------------------------------------

describe("shapes match GitHub's OpenAPI description", () => {
  test("required properties of release, release-asset, milestone, issue, label, simple-user are all present", async () => {
    const fake = await start();
    const { body: release } = await getJson(fake, `${REPO}/releases/tags/v1.0.0`);
    const { body: milestones } = await getJson(fake, `${REPO}/milestones`);
    const { body: issue } = await postIssue(fake, { title: "t", labels: ["bug"], assignees: ["octocat"], milestone: 1 });
    const missing = (component: string, value: Record<string, unknown>) =>
      requiredKeys(spec, component).filter((k) => !(k in value));

    expect(requiredKeys(spec, "release").length).toBeGreaterThan(10);
    expect(missing("release", release)).toEqual([]);
    expect(missing("simple-user", release.author)).toEqual([]);
    expect(missing("release-asset", release.assets[0])).toEqual([]);
    expect(missing("nullable-simple-user", release.assets[0].uploader)).toEqual([]);
    expect(missing("milestone", milestones[0])).toEqual([]);
    expect(missing("issue", issue)).toEqual([]);
    expect(missing("label", issue.labels[0])).toEqual([]);
    expect(missing("simple-user", issue.assignees[0])).toEqual([]);
    expect(missing("nullable-milestone", issue.milestone)).toEqual([]);
    expect(missing("reaction-rollup", issue.reactions)).toEqual([]);
  });

  test("the validator used below does catch mistakes", async () => {
    const fake = await start();
    const { body } = await getJson(fake, `${REPO}/releases/tags/v1.0.0`);
    const schema = componentSchema(spec, "release");
    expect(validate(spec, schema, body)).toEqual([]);
    const { digest: _d, ...assetWithoutDigest } = body.assets[0];
    const broken = { ...body, id: "1", assets: [{ ...assetWithoutDigest, state: "gone" }] };
    const problems = validate(spec, schema, broken);
    expect(problems).toContain("$.id: expected integer, got \"1\"");
    expect(problems).toContain("$.assets[0]: missing required property digest");
    expect(problems.some((p) => p.startsWith("$.assets[0].state:"))).toBe(true);
  });

  test("every success and error body validates against its operation's response schema", async () => {
    const fake = await start();
    expectSchema("/repos/{owner}/{repo}/releases/tags/{tag}", "get", 200, (await getJson(fake, `${REPO}/releases/tags/v1.0.0`)).body);
    expectSchema("/repos/{owner}/{repo}/releases/tags/{tag}", "get", 404, (await getJson(fake, `${REPO}/releases/tags/nope`)).body);
    expectSchema("/repos/{owner}/{repo}/releases/latest", "get", 200, (await getJson(fake, `${REPO}/releases/latest`)).body);
    const { body: release } = await getJson(fake, `${REPO}/releases/tags/v1.0.0`);
    const assetPath = new URL(release.assets[0].url).pathname;
    expectSchema("/repos/{owner}/{repo}/releases/assets/{asset_id}", "get", 200, (await getJson(fake, assetPath)).body);
    expectSchema("/repos/{owner}/{repo}/milestones", "get", 200, (await getJson(fake, `${REPO}/milestones?state=all`)).body);
    const created = await postIssue(fake, { title: "Boot failed", body: "x", labels: ["a", { name: "b" }], milestone: 3 });
    expectSchema("/repos/{owner}/{repo}/issues", "post", 201, created.body);
    expectSchema("/repos/{owner}/{repo}/issues", "post", 422, (await postIssue(fake, { title: "x", milestone: 99 })).body);
  });
});

// ---- releases ----------------------------------------------------------------------------------

describe("releases", () => {
  test("get a release by tag: fixture-shaped JSON with API URLs on the fake and GitHub's headers", async () => {
    const fake = await start();
    const { res, body } = await getJson(fake, `${REPO}/releases/tags/v1.0.0`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("x-ratelimit-limit")).toBe("5000");
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBeLessThan(5000);
    expect(res.headers.get("x-ratelimit-resource")).toBe("core");
    expect(body.tag_name).toBe("v1.0.0");
    expect(body.url).toBe(`${fake.apiUrl}${REPO}/releases/${body.id}`);
    expect(body.assets_url).toBe(`${body.url}/assets`);
    expect(body.html_url).toBe("https://github.com/AMDEPYC/dispatch/releases/tag/v1.0.0");
    expect(body.draft).toBe(false);
    expect(body.prerelease).toBe(false);
    expect(body.assets.map((a: any) => a.name)).toEqual(["payload.efi", "manifest.json"]);
    const [efi] = body.assets;
    expect(efi.url).toBe(`${fake.apiUrl}${REPO}/releases/assets/${efi.id}`);
    expect(efi.size).toBe(EFI.byteLength);
    expect(efi.content_type).toBe("application/efi");
    expect(efi.state).toBe("uploaded");
    expect(efi.digest).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(EFI).digest("hex")}`);
    expect(efi.browser_download_url).toBe("https://github.com/AMDEPYC/dispatch/releases/download/v1.0.0/payload.efi");
    expect(new Set(body.assets.map((a: any) => a.id)).size).toBe(2);
  });

  test("owner/repo match case-insensitively; another repo is 404", async () => {
    const fake = await start();
    expect((await getJson(fake, "/repos/amdepyc/DISPATCH/releases/tags/v1.0.0")).res.status).toBe(200);
    const other = await getJson(fake, "/repos/AMDEPYC/other/releases/tags/v1.0.0");
    expect(other.res.status).toBe(404);
    expect(other.body.message).toBe("Not Found");
  });

  test("unknown tag is GitHub's 404 body", async () => {
    const fake = await start();
    const { res, body } = await getJson(fake, `${REPO}/releases/tags/v9.9.9`);
    expect(res.status).toBe(404);
    expect(body).toEqual({
      message: "Not Found",
      documentation_url: "https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name",
      status: "404",
    });
  });

  test("latest is the last release unless one is flagged; none at all is 404", async () => {
    const byDefault = await start();
    expect((await getJson(byDefault, `${REPO}/releases/latest`)).body.tag_name).toBe("v1.1.0-rc1");
    const flagged = await start({
      releases: [
        { tag: "a", assets: [] },
        { tag: "b", assets: [], latest: true },
        { tag: "c", assets: [] },
      ],
    });
    expect((await getJson(flagged, `${REPO}/releases/latest`)).body.tag_name).toBe("b");
    const empty = await start({ releases: [] });
    expect((await getJson(empty, `${REPO}/releases/latest`)).res.status).toBe(404);
  });

  test("octokit.rest.repos.getReleaseByTag and getLatestRelease", async () => {
    const fake = await start();
    const gh = octokit(fake);
    const { data, status } = await gh.rest.repos.getReleaseByTag({ owner: "AMDEPYC", repo: "dispatch", tag: "v1.0.0" });
    expect(status).toBe(200);
    expect(data.assets.map((a) => a.size)).toEqual([EFI.byteLength, MANIFEST.byteLength]);
    const latest = await gh.rest.repos.getLatestRelease({ owner: "AMDEPYC", repo: "dispatch" });
    expect(latest.data.tag_name).toBe("v1.1.0-rc1");
    const error = await gh.rest.repos.getReleaseByTag({ owner: "AMDEPYC", repo: "dispatch", tag: "nope" }).catch((e) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect(error.status).toBe(404);
    expect(fake.requests.filter((r) => r.host === "api").every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
  });
});

// ---- auth --------------------------------------------------------------------------------------

describe("auth", () => {
  test("`token X` and `Bearer X` are accepted; a wrong token is 401 Bad credentials even for public reads", async () => {
    const fake = await start();
    const path = `${REPO}/releases/tags/v1.0.0`;
    expect((await getJson(fake, path, { authorization: `Bearer ${TOKEN}` })).res.status).toBe(200);
    expect((await getJson(fake, path, { authorization: `token ${TOKEN}` })).res.status).toBe(200);
    const wrong = await getJson(fake, path, { authorization: "token ghp_nope" });
    expect(wrong.res.status).toBe(401);
    expect(wrong.body).toEqual({ message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });
    expect((await getJson(fake, path, { authorization: "Basic Zm9vOmJhcg==" })).res.status).toBe(401);
  });

  test("anonymous: public reads work (with the 60/h limit), creating an issue is 401", async () => {
    const fake = await start();
    const read = await getJson(fake, `${REPO}/releases/tags/v1.0.0`, {});
    expect(read.res.status).toBe(200);
    expect(read.res.headers.get("x-ratelimit-limit")).toBe("60");
    const create = await postIssue(fake, { title: "x" }, {});
    expect(create.res.status).toBe(401);
    expect(create.body.message).toBe("Requires authentication");
    expect(fake.issues).toEqual([]);
  });
});

// ---- assets and the storage host ---------------------------------------------------------------

describe("release assets", () => {
  test("default Accept gives the asset JSON", async () => {
    const fake = await start();
    const url = await assetUrl(fake);
    const res = await fetch(url, { headers: AUTH });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.name).toBe("payload.efi");
    expect(body.url).toBe(url);
    const json = await fetch(url, { headers: { ...AUTH, accept: "application/json" } });
    expect(((await json.json()) as any).id).toBe(body.id);
  });

  test("Accept: application/octet-stream is a 302 to a signed URL on the storage origin", async () => {
    const fake = await start();
    const location = new URL(await signedUrl(fake));
    expect(location.origin).toBe(fake.storageUrl);
    expect(location.origin).not.toBe(fake.apiUrl);
    expect(location.pathname).toMatch(/^\/github-production-release-asset-2e65be\/\d+\/[0-9a-f-]{36}$/);
    for (const p of ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature", "X-Amz-SignedHeaders"]) {
      expect(location.searchParams.get(p)).toBeTruthy();
    }
    expect(location.searchParams.get("response-content-disposition")).toBe("attachment; filename=payload.efi");
  });

  test("fetch following the redirect gets the bytes, and Bun's fetch drops Authorization on the cross-origin hop", async () => {
    const fake = await start();
    const res = await fetch(await assetUrl(fake), { headers: { ...AUTH, accept: "application/octet-stream" } });
    expect(res.status).toBe(200);
    expect(res.url.startsWith(fake.storageUrl)).toBe(true);
    expect(res.headers.get("content-length")).toBe(String(EFI.byteLength));
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(EFI);
    const storageRequests = fake.requests.filter((r) => r.host === "storage");
    expect(storageRequests.length).toBe(1);
    expect(storageRequests[0]!.headers.authorization).toBeUndefined();
    expect(fake.storageSawAuthorization).toBe(false);
  });

  test("octokit getReleaseAsset with octet-stream follows the redirect without leaking the token", async () => {
    const fake = await start();
    const gh = octokit(fake);
    const id = Number((await assetUrl(fake, "manifest.json")).split("/").pop());
    const res = await gh.rest.repos.getReleaseAsset({
      owner: "AMDEPYC",
      repo: "dispatch",
      asset_id: id,
      headers: { accept: "application/octet-stream" },
    });
    expect(new Uint8Array(res.data as unknown as ArrayBuffer)).toEqual(MANIFEST);
    expect(fake.storageSawAuthorization).toBe(false);
  });

  test("storage refuses a forwarded token (S3's 400 InvalidArgument) and records that it saw one", async () => {
    const fake = await start();
    const res = await fetch(await signedUrl(fake), { headers: AUTH });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("<Code>InvalidArgument</Code>");
    expect(fake.storageSawAuthorization).toBe(true);
  });

  test("storage needs a valid signature", async () => {
    const fake = await start();
    const url = new URL(await signedUrl(fake));
    const tampered = new URL(url);
    tampered.searchParams.set("response-content-disposition", "attachment; filename=evil");
    const res = await fetch(tampered);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("SignatureDoesNotMatch");
    expect((await fetch(`${fake.storageUrl}${url.pathname}`)).status).toBe(403);
    expect((await fetch(url)).status).toBe(200);
  });

  test("unknown asset id is 404 in both Accept modes", async () => {
    const fake = await start();
    expect((await getJson(fake, `${REPO}/releases/assets/1`)).res.status).toBe(404);
    const res = await fetch(`${fake.apiUrl}${REPO}/releases/assets/1`, {
      headers: { ...AUTH, accept: "application/octet-stream" },
      redirect: "manual",
    });
    expect(res.status).toBe(404);
  });

  test("Range: 206 with Content-Range for a-b, a-, -n; clamped end; 416 when unsatisfiable", async () => {
    const fake = await start();
    const url = await signedUrl(fake);
    const size = EFI.byteLength;
    const cases: [string, number, number][] = [
      ["bytes=10-19", 10, 19],
      ["bytes=199990-", 199_990, size - 1],
      ["bytes=-5", size - 5, size - 1],
      ["bytes=100-999999", 100, size - 1],
      ["bytes=0-0", 0, 0],
    ];
    for (const [range, start, end] of cases) {
      const res = await fetch(url, { headers: { range } });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${size}`);
      expect(res.headers.get("content-length")).toBe(String(end - start + 1));
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(EFI.subarray(start, end + 1));
    }
    for (const range of [`bytes=${size}-`, "bytes=-0", `bytes=${size + 5}-${size + 10}`]) {
      const res = await fetch(url, { headers: { range } });
      expect(res.status).toBe(416);
      expect(res.headers.get("content-range")).toBe(`bytes */${size}`);
      await res.arrayBuffer();
    }
    // Several ranges, or nonsense: ignored, full body.
    for (const range of ["bytes=0-1,5-6", "bytes=5-1", "items=0-5"]) {
      const res = await fetch(url, { headers: { range } });
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(size);
    }
  });

  test("parseRange edge cases", () => {
    expect(parseRange(undefined, 10)).toEqual({ kind: "full" });
    expect(parseRange("bytes=-20", 10)).toEqual({ kind: "partial", start: 0, end: 9 });
    expect(parseRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-1", 0)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange(" Bytes = 2 - 3 ", 10)).toEqual({ kind: "partial", start: 2, end: 3 });
  });

  test("HEAD on storage gives the headers only; download_count counts GETs", async () => {
    const fake = await start();
    const url = await signedUrl(fake, "manifest.json");
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(MANIFEST.byteLength));
    await (await fetch(url)).arrayBuffer();
    await (await fetch(url, { headers: { range: "bytes=0-1" } })).arrayBuffer();
    const { body } = await getJson(fake, new URL(await assetUrl(fake, "manifest.json")).pathname);
    expect(body.download_count).toBe(2);
  });

  test("redirectTo makes the asset endpoint point anywhere", async () => {
    const fake = await start();
    fake.faults.redirectTo = "https://evil.example.com/payload.efi";
    const res = await fetch(await assetUrl(fake), {
      headers: { ...AUTH, accept: "application/octet-stream" },
      redirect: "manual",
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://evil.example.com/payload.efi");
  });
});

describe("storage faults", () => {
  test("cutStorageAfterBytes: Content-Length promises the whole body, the body read rejects", async () => {
    const fake = await start();
    fake.faults.cutStorageAfterBytes = 50_000;
    const url = await signedUrl(fake);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(EFI.byteLength));
    const { received, error } = await drain(res);
    expect(error).toBeDefined();
    expect(error.code).toBe("ECONNRESET");
    // The server sent exactly 50 000 bytes; Bun's fetch may drop unread bytes when the socket dies.
    expect(received).toBeLessThanOrEqual(50_000);
    // Still cut: arrayBuffer() rejects too rather than resolving short.
    await expect((await fetch(url)).arrayBuffer()).rejects.toThrow();
  });

  test("cutStorageTimes limits the cut; a Range resume then completes the file", async () => {
    const fake = await start();
    fake.faults.cutStorageAfterBytes = 80_000;
    fake.faults.cutStorageTimes = 1;
    const url = await signedUrl(fake);
    const first = await drain(await fetch(url));
    expect(first.error).toBeDefined();
    expect(fake.faults.cutStorageAfterBytes).toBeUndefined();
    const from = first.received;
    const rest = await fetch(url, { headers: { range: `bytes=${from}-` } });
    expect(rest.status).toBe(206);
    expect(new Uint8Array(await rest.arrayBuffer())).toEqual(EFI.subarray(from));
  });

  test("a cut also applies to ranged responses, counted from the range start", async () => {
    const fake = await start();
    fake.faults.cutStorageAfterBytes = 1000;
    const res = await fetch(await signedUrl(fake), { headers: { range: "bytes=100000-" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-length")).toBe("100000");
    expect((await drain(res)).error).toBeDefined();
  });

  test("storageBytesPerSecond throttles and streams in many chunks", async () => {
    const fake = await start();
    fake.faults.storageBytesPerSecond = 100_000;
    const started = performance.now();
    const res = await fetch(await signedUrl(fake), { headers: { range: "bytes=0-39999" } });
    const { received, chunks, error } = await drain(res);
    const elapsed = performance.now() - started;
    expect(error).toBeUndefined();
    expect(received).toBe(40_000);
    expect(chunks).toBeGreaterThan(4);
    expect(elapsed).toBeGreaterThanOrEqual(300); // 40 kB at 100 kB/s ≈ 400 ms
  });

  test("failNext on storage answers S3-style errors, then serves", async () => {
    const fake = await start();
    fake.faults.failNext.push({ route: "storage", status: 503, times: 1, headers: { "retry-after": "1" } });
    const url = await signedUrl(fake, "manifest.json");
    const failed = await fetch(url);
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("1");
    expect(await failed.text()).toContain("<Code>SlowDown</Code>");
    expect((await fetch(url)).status).toBe(200);
    expect(fake.faults.failNext).toEqual([]);
  });

  test("stop() does not wait for a slow in-flight download, and the client sees an error", async () => {
    const fake = await start();
    fake.faults.storageBytesPerSecond = 1000;
    const res = await fetch(await signedUrl(fake));
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false); // the download is under way
    // The whole 200 kB at 1000 B/s takes over three minutes, far past this test's timeout: a
    // stop() that waited for it could not resolve in time.
    await fake.stop();
    const rest = (async () => {
      while (!(await reader.read()).done);
    })();
    await expect(rest).rejects.toBeDefined(); // an error, not a clean end
    await fake.stop(); // idempotent
    await expect(fetch(`${fake.apiUrl}/`)).rejects.toThrow();
  });
});

// ---- milestones --------------------------------------------------------------------------------

describe("milestones", () => {
  test("state filter: open by default, closed, all", async () => {
    const fake = await start();
    const titles = async (q: string) => (await getJson(fake, `${REPO}/milestones${q}`)).body.map((m: any) => m.title);
    expect(await titles("")).toEqual(["Sprint 1", "Sprint 3", "Sprint 4"]);
    expect(await titles("?state=closed")).toEqual(["Sprint 2", "Sprint 5"]);
    expect(await titles("?state=all")).toEqual(["Sprint 1", "Sprint 2", "Sprint 3", "Sprint 4", "Sprint 5"]);
    expect(await titles("?state=all&direction=desc")).toEqual(["Sprint 5", "Sprint 4", "Sprint 3", "Sprint 2", "Sprint 1"]);
    const { body } = await getJson(fake, `${REPO}/milestones?state=all`);
    expect(body.map((m: any) => m.number)).toEqual([1, 2, 3, 4, 5]);
    expect(body[1].state).toBe("closed");
    expect(body[1].closed_at).not.toBeNull();
    expect(body[0].url).toBe(`${fake.apiUrl}${REPO}/milestones/1`);
  });

  test("pagination: Link header like the paginate-issues fixture (repositories/{id} URLs, prev/next/last/first)", async () => {
    const fake = await start();
    const first = await getJson(fake, `${REPO}/milestones?state=all&per_page=2`);
    expect(first.body.length).toBe(2);
    const base = `${fake.apiUrl}/repositories/880000001/milestones?state=all&per_page=2`;
    expect(first.res.headers.get("link")).toBe(`<${base}&page=2>; rel="next", <${base}&page=3>; rel="last"`);
    const middle = await fetch(`${base}&page=2`, { headers: AUTH });
    expect(((await middle.json()) as any[]).map((m) => m.number)).toEqual([3, 4]);
    expect(middle.headers.get("link")).toBe(
      `<${base}&page=1>; rel="prev", <${base}&page=3>; rel="next", <${base}&page=3>; rel="last", <${base}&page=1>; rel="first"`,
    );
    const last = await getJson(fake, `${REPO}/milestones?state=all&per_page=2&page=3`);
    expect(last.body.map((m: any) => m.number)).toEqual([5]);
    expect(last.res.headers.get("link")).toBe(`<${base}&page=2>; rel="prev", <${base}&page=1>; rel="first"`);
    const beyond = await getJson(fake, `${REPO}/milestones?state=all&per_page=2&page=9`);
    expect(beyond.body).toEqual([]);
    const single = await getJson(fake, `${REPO}/milestones`);
    expect(single.res.headers.get("link")).toBeNull();
  });

  test("per_page defaults to 30 and is capped at 100", async () => {
    const fake = await start({ milestones: Array.from({ length: 130 }, (_, i) => ({ title: `M${i + 1}` })) });
    expect((await getJson(fake, `${REPO}/milestones`)).body.length).toBe(30);
    const capped = await getJson(fake, `${REPO}/milestones?per_page=500`);
    expect(capped.body.length).toBe(100);
    expect(capped.res.headers.get("link")).toContain('per_page=500&page=2>; rel="next"');
  });

  test("octokit.paginate(listMilestones) walks every page through the Link header", async () => {
    const fake = await start();
    const gh = octokit(fake);
    const all = await gh.paginate(gh.rest.issues.listMilestones, { owner: "AMDEPYC", repo: "dispatch", state: "all", per_page: 2 });
    expect(all.map((m) => m.title)).toEqual(["Sprint 1", "Sprint 2", "Sprint 3", "Sprint 4", "Sprint 5"]);
    const paths = fake.requests.filter((r) => r.path.includes("milestones")).map((r) => r.path);
    expect(paths).toEqual([
      `${REPO}/milestones?state=all&per_page=2`,
      "/repositories/880000001/milestones?state=all&per_page=2&page=2",
      "/repositories/880000001/milestones?state=all&per_page=2&page=3",
    ]);
  });
});

// ---- issues ------------------------------------------------------------------------------------

describe("issues", () => {
  test("octokit.rest.issues.update: body and state edits, GitHub's shapes, the list's state filter", async () => {
    const fake = await start();
    const gh = octokit(fake);
    const repo = { owner: "AMDEPYC", repo: "dispatch" };
    const { data: created } = await gh.rest.issues.create({ ...repo, title: "summary", body: "one" });
    const { data: edited } = await gh.rest.issues.update({ ...repo, issue_number: created.number, body: "two" });
    expectSchema("/repos/{owner}/{repo}/issues/{issue_number}", "patch", 200, edited);
    expect([edited.body, edited.state, edited.title]).toEqual(["two", "open", "summary"]);
    const { data: closed } = await gh.rest.issues.update({ ...repo, issue_number: created.number, body: "three", state: "closed" });
    expectSchema("/repos/{owner}/{repo}/issues/{issue_number}", "patch", 200, closed);
    expect([closed.state, closed.state_reason, closed.body, closed.closed_by?.login]).toEqual(["closed", "completed", "three", "dispatch-bot"]);
    expect(closed.closed_at).not.toBeNull();
    expect(fake.issues[0]).toMatchObject({ body: "three", state_reason: "completed" });
    await gh.rest.issues.create({ ...repo, title: "still open" });
    const titles = async (state: "open" | "closed" | "all") => (await gh.rest.issues.listForRepo({ ...repo, state })).data.map((i) => i.title);
    expect(await titles("open")).toEqual(["still open"]);
    expect(await titles("closed")).toEqual(["summary"]);
    expect(await titles("all")).toEqual(["still open", "summary"]);
    const { data: reopened } = await gh.rest.issues.update({ ...repo, issue_number: created.number, state: "open" });
    expect([reopened.state, reopened.state_reason, reopened.closed_at]).toEqual(["open", "reopened", null]);

    const refused = await gh.rest.issues.update({ ...repo, issue_number: created.number, body: "x".repeat(65_537) }).catch((e: RequestError) => e);
    expect((refused as RequestError).status).toBe(422);
    expectSchema("/repos/{owner}/{repo}/issues/{issue_number}", "patch", 422, (refused as RequestError).response?.data);
    const badState = await gh.request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", { ...repo, issue_number: created.number, state: "gone" as "open" }).catch((e: RequestError) => e);
    expect((badState as RequestError).status).toBe(422);
    const missing = await gh.rest.issues.update({ ...repo, issue_number: 99, body: "x" }).catch((e: RequestError) => e);
    expect((missing as RequestError).status).toBe(404);
    expectSchema("/repos/{owner}/{repo}/issues/{issue_number}", "patch", 404, (missing as RequestError).response?.data);
    const anonymous = await fetch(`${fake.apiUrl}${REPO}/issues/${created.number}`, { method: "PATCH", body: JSON.stringify({ body: "x" }) });
    expect(anonymous.status).toBe(401);
    expect(fake.issues[0]?.body).toBe("three");
  });

  test("octokit.rest.issues.create: 201 with a full issue object, recorded in fake.issues", async () => {
    const fake = await start();
    const gh = octokit(fake);
    const res = await gh.rest.issues.create({
      owner: "AMDEPYC",
      repo: "dispatch",
      title: "payload.efi failed on lab-07",
      body: "Exit code 3\n<!-- dispatch:run=42 -->",
      labels: ["dispatch", "failure"],
      assignees: ["octocat"],
      milestone: 3,
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${fake.apiUrl}${REPO}/issues/1`);
    const issue = res.data;
    expect(issue.number).toBe(1);
    expect(issue.html_url).toBe("https://github.com/AMDEPYC/dispatch/issues/1");
    expect(issue.url).toBe(`${fake.apiUrl}${REPO}/issues/1`);
    expect(issue.state).toBe("open");
    expect(issue.labels.map((l) => (typeof l === "string" ? l : l.name))).toEqual(["dispatch", "failure"]);
    expect(issue.assignees?.map((a) => a.login)).toEqual(["octocat"]);
    expect(issue.assignee?.login).toBe("octocat");
    expect(issue.milestone?.number).toBe(3);
    expect(issue.milestone?.open_issues).toBe(1);
    expect(fake.issues).toEqual([
      {
        id: issue.id,
        number: 1,
        title: "payload.efi failed on lab-07",
        body: "Exit code 3\n<!-- dispatch:run=42 -->",
        labels: ["dispatch", "failure"],
        assignees: ["octocat"],
        milestone: 3,
        html_url: "https://github.com/AMDEPYC/dispatch/issues/1",
        created_at: issue.created_at,
      },
    ]);
    const second = await gh.rest.issues.create({ owner: "AMDEPYC", repo: "dispatch", title: "again" });
    expect(second.data.number).toBe(2);
    expect(second.data.milestone).toBeNull();
    expect(second.data.body).toBeNull();
    expect((await gh.rest.issues.get({ owner: "AMDEPYC", repo: "dispatch", issue_number: 1 })).data.title).toBe(
      "payload.efi failed on lab-07",
    );
  });

  test("title is required (422), empty title is Validation Failed missing_field", async () => {
    const fake = await start();
    const missing = await postIssue(fake, { body: "no title" });
    expect(missing.res.status).toBe(422);
    expect(missing.body.message).toContain('"title" wasn\'t supplied.');
    const empty = await postIssue(fake, { title: "  " });
    expect(empty.res.status).toBe(422);
    expect(empty.body.errors).toEqual([{ resource: "Issue", code: "missing_field", field: "title" }]);
    const notJson = await postIssue(fake, "{nope");
    expect(notJson.res.status).toBe(400);
    expect(notJson.body.message).toBe("Problems parsing JSON");
    expect(fake.issues).toEqual([]);
  });

  test("milestone must exist: 422 Validation Failed {resource Issue, code invalid, field milestone}", async () => {
    const fake = await start();
    const { res, body } = await postIssue(fake, { title: "x", milestone: 42 });
    expect(res.status).toBe(422);
    expect(body.message).toBe("Validation Failed");
    expect(body.documentation_url).toBe("https://docs.github.com/rest/issues/issues#create-an-issue");
    expect(body.errors).toEqual([{ value: 42, resource: "Issue", field: "milestone", code: "invalid" }]);
    expect((await postIssue(fake, { title: "x", milestone: "2" })).res.status).toBe(201); // closed, by string: allowed
    const gh = octokit(fake);
    const error = await gh.rest.issues.create({ owner: "AMDEPYC", repo: "dispatch", title: "x", milestone: 99 }).catch((e) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect(error.status).toBe(422);
    expect(error.response.data.errors[0]).toMatchObject({ resource: "Issue", code: "invalid", field: "milestone" });
    expect(fake.issues.length).toBe(1);
  });

  test("assignees are checked against `assignable`; labels are created freely", async () => {
    const fake = await start({ assignable: ["lab-admin"] });
    const bad = await postIssue(fake, { title: "x", assignees: ["Lab-Admin", "stranger"] });
    expect(bad.res.status).toBe(422);
    expect(bad.body.errors).toEqual([{ value: "stranger", resource: "Issue", field: "assignees", code: "invalid" }]);
    const ok = await postIssue(fake, { title: "x", assignees: ["Lab-Admin"], labels: ["new label", { name: "other" }, "New Label"] });
    expect(ok.res.status).toBe(201);
    expect(ok.body.labels.map((l: any) => l.name)).toEqual(["new label", "other"]);
    expect(fake.issues.map((i) => i.assignees)).toEqual([["Lab-Admin"]]);
  });

  test("one refused value per 422, as GitHub names them: a client learns of the next only by dropping the first", async () => {
    const fake = await start({ assignable: ["lab-admin"] });
    const long = `  ${"x".repeat(51)} `;
    const fields = { title: "x", assignees: ["ghost", "stranger", "lab-admin"], labels: ["ok", long, ""] };
    const first = await postIssue(fake, fields);
    expect(first.res.status).toBe(422);
    expect(first.body.errors).toEqual([{ value: "ghost", resource: "Issue", field: "assignees", code: "invalid" }]);
    const second = await postIssue(fake, { ...fields, assignees: ["stranger", "lab-admin"] });
    expect(second.body.errors).toEqual([{ value: "stranger", resource: "Issue", field: "assignees", code: "invalid" }]);
    // A label over 50 characters is named trimmed, under the Label resource (as public threads record it).
    const third = await postIssue(fake, { ...fields, assignees: ["lab-admin"] });
    expect(third.body.errors).toEqual([{ value: "x".repeat(51), resource: "Label", field: "name", code: "invalid" }]);
    expectSchema("/repos/{owner}/{repo}/issues", "post", 422, third.body);
    const fourth = await postIssue(fake, { ...fields, assignees: ["lab-admin"], labels: ["ok", ""] });
    expect(fourth.body.errors).toEqual([{ resource: "Label", field: "name", code: "missing_field" }]);
    expect((await postIssue(fake, { ...fields, assignees: ["lab-admin"], labels: ["ok", "y".repeat(50)] })).res.status).toBe(201);
    expect(fake.issues.map((i) => i.labels)).toEqual([["ok", "y".repeat(50)]]);
  });
});

// ---- API faults --------------------------------------------------------------------------------

describe("API faults", () => {
  test("failNext answers N times with the status, then behaves; rules are consumed", async () => {
    const fake = await start();
    fake.faults.failNext.push({ route: "release", status: 502, times: 2 });
    const path = `${REPO}/releases/tags/v1.0.0`;
    expect((await getJson(fake, path)).res.status).toBe(502);
    expect((await getJson(fake, `${REPO}/milestones`)).res.status).toBe(200); // other routes unaffected
    const second = await getJson(fake, path);
    expect(second.res.status).toBe(502);
    expect(second.body).toEqual({ message: "Server Error" });
    expect((await getJson(fake, path)).res.status).toBe(200);
    expect(fake.faults.failNext).toEqual([]);
  });

  test("403 primary rate limit and 429 secondary rate limit carry the given headers", async () => {
    const fake = await start();
    const reset = String(Math.floor(Date.now() / 1000) + 60);
    fake.faults.failNext.push(
      { route: "asset", status: 403, times: 1, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset } },
      { route: "milestones", status: 429, times: 1, headers: { "retry-after": "3" } },
    );
    const id = (await assetUrl(fake)).split("/").pop();
    const limited = await getJson(fake, `${REPO}/releases/assets/${id}`);
    expect(limited.res.status).toBe(403);
    expect(limited.res.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(limited.res.headers.get("x-ratelimit-reset")).toBe(reset);
    expect(limited.body.message).toMatch(/^API rate limit exceeded/);
    const secondary = await getJson(fake, `${REPO}/milestones`);
    expect(secondary.res.status).toBe(429);
    expect(secondary.res.headers.get("retry-after")).toBe("3");
    expect(secondary.body.message).toContain("secondary rate limit");
  });

  test("failNext on issue creation: octokit sees the error and nothing is filed", async () => {
    const fake = await start();
    fake.faults.failNext.push({ route: "issue", status: 500, times: 1 });
    const gh = octokit(fake);
    const error = await gh.rest.issues.create({ owner: "AMDEPYC", repo: "dispatch", title: "x" }).catch((e) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect(error.status).toBe(500);
    expect(fake.issues).toEqual([]);
    expect((await gh.rest.issues.create({ owner: "AMDEPYC", repo: "dispatch", title: "x" })).status).toBe(201);
  });

  test("down: 503 for everything until cleared", async () => {
    const fake = await start();
    fake.faults.down = true;
    expect((await getJson(fake, `${REPO}/releases/tags/v1.0.0`)).res.status).toBe(503);
    expect((await getJson(fake, "/nowhere")).res.status).toBe(503);
    expect((await postIssue(fake, { title: "x" })).res.status).toBe(503);
    fake.faults.down = false;
    expect((await getJson(fake, `${REPO}/releases/tags/v1.0.0`)).res.status).toBe(200);
  });
});

// ---- misc --------------------------------------------------------------------------------------

describe("misc", () => {
  test("unknown routes are GitHub's JSON 404", async () => {
    const fake = await start();
    for (const path of ["/nowhere", `${REPO}/pulls`, "/repos/AMDEPYC"]) {
      const { res, body } = await getJson(fake, path);
      expect(res.status).toBe(404);
      expect(body).toEqual({ message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" });
    }
    const del = await fetch(`${fake.apiUrl}${REPO}/releases/tags/v1.0.0`, { method: "DELETE", headers: AUTH });
    expect(del.status).toBe(404);
    const head = await fetch(`${fake.apiUrl}${REPO}/releases/tags/v1.0.0`, { method: "HEAD", headers: AUTH });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  test("every request to either host is recorded with lower-cased headers", async () => {
    const fake = await start();
    await (await fetch(await signedUrl(fake, "manifest.json"), { headers: { "X-Probe": "yes" } })).arrayBuffer();
    expect(fake.requests.map((r) => [r.host, r.method])).toEqual([
      ["api", "GET"],
      ["api", "GET"],
      ["storage", "GET"],
    ]);
    expect(fake.requests[0]!.path).toBe(`${REPO}/releases/tags/v1.0.0`);
    expect(fake.requests[1]!.headers.accept).toBe("application/octet-stream");
    expect(fake.requests[2]!.headers["x-probe"]).toBe("yes");
    expect(fake.requests[2]!.path).toStartWith("/github-production-release-asset-2e65be/");
  });

  test("custom owner, repo and token", async () => {
    const fake = await start({ owner: "lab", repo: "images", token: "ghp_other" });
    expect(fake.owner).toBe("lab");
    const ok = await getJson(fake, "/repos/lab/images/releases/tags/v1.0.0", { authorization: "Bearer ghp_other" });
    expect(ok.res.status).toBe(200);
    expect(ok.body.html_url).toBe("https://github.com/lab/images/releases/tag/v1.0.0");
    expect((await getJson(fake, "/repos/lab/images/releases/tags/v1.0.0")).res.status).toBe(401);
  });
});
