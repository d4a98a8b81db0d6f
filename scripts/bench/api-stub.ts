/** One release asset of the stand-in: its name, size, and the path of its file on the storage host. */
export type StubAsset = { readonly name: string; readonly size: number; readonly path: string };

export type ApiStub = { readonly url: string; readonly owner: string; readonly repo: string; readonly tag: string; readonly token: string; stop(): Promise<void> };

/**
 * The GitHub API calls dispatch makes to start and serve, and nothing else: the release by
 * tag, the repository and the empty-title issue of the start-up filing check (GitHub answers
 * 422), and an asset's octet-stream URL redirecting to the storage host. The test fake GitHub keeps its
 * assets in memory; the bench needs files of several GiB served by nginx, so it uses this.
 * The storage host must be on the API's hostname (dispatch follows redirects only there).
 */
export function startApiStub(assets: readonly StubAsset[], storageUrl: string): ApiStub {
  const owner = "bench";
  const repo = "bench";
  const tag = "bench";
  const token = "bench-token";
  const byId = new Map(assets.map((asset, i) => [1000 + i, asset]));
  let apiUrl = "";
  const release = () => ({
    id: 1,
    tag_name: tag,
    name: tag,
    html_url: `${apiUrl}/${owner}/${repo}/releases/tag/${tag}`,
    assets: [...byId].map(([id, asset]) => ({
      id,
      name: asset.name,
      size: asset.size,
      content_type: "application/vnd.dispatch+iso",
      url: `${apiUrl}/repos/${owner}/${repo}/releases/assets/${id}`,
      state: "uploaded",
    })),
  });
  // Every answer of GitHub's API carries this header; dispatch checks --api-url by it.
  const api = { "x-github-media-type": "github.v3; format=json" };
  const json = (body: unknown, status = 200) => Response.json(body, { status, headers: api });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname === "/" && !request.headers.has("authorization")) return json({ current_user_url: `${apiUrl}/user` });
      if (request.headers.get("authorization") !== `Bearer ${token}` && request.headers.get("authorization") !== `token ${token}`) {
        return json({ message: "Bad credentials" }, 401);
      }
      if (pathname === `/repos/${owner}/${repo}/releases/tags/${tag}`) return json(release());
      if (pathname === `/repos/${owner}/${repo}`) return json({ name: repo, full_name: `${owner}/${repo}`, has_issues: true, archived: false, permissions: { push: true } });
      if (pathname === `/repos/${owner}/${repo}/issues` && request.method === "POST") {
        return json({ message: "Validation Failed", errors: [{ resource: "Issue", code: "missing_field", field: "title" }] }, 422);
      }
      const asset = /^\/repos\/[^/]+\/[^/]+\/releases\/assets\/(\d+)$/.exec(pathname);
      const found = asset && byId.get(Number(asset[1]));
      if (found && request.headers.get("accept") === "application/octet-stream") {
        return new Response(null, { status: 302, headers: { location: `${storageUrl}/${found.path}` } });
      }
      return json({ message: "Not Found" }, 404);
    },
  });
  apiUrl = `http://127.0.0.1:${server.port}`;
  return { url: apiUrl, owner, repo, tag, token, stop: () => server.stop(true) };
}
