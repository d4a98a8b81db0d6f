/** One release asset of the stand-in: its name, size, and the path of its file on the storage host. */
export type StubAsset = { readonly name: string; readonly size: number; readonly path: string };

export type ApiStub = { readonly url: string; readonly owner: string; readonly repo: string; readonly tag: string; readonly token: string; stop(): Promise<void> };

/**
 * The two GitHub API calls dispatch makes, and nothing else: the release by tag, and an
 * asset's octet-stream URL redirecting to the storage host. The test fake GitHub keeps its
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
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const { pathname } = new URL(request.url);
      if (request.headers.get("authorization") !== `Bearer ${token}` && request.headers.get("authorization") !== `token ${token}`) {
        return Response.json({ message: "Bad credentials" }, { status: 401 });
      }
      if (pathname === `/repos/${owner}/${repo}/releases/tags/${tag}`) return Response.json(release());
      const asset = /^\/repos\/[^/]+\/[^/]+\/releases\/assets\/(\d+)$/.exec(pathname);
      const found = asset && byId.get(Number(asset[1]));
      if (found && request.headers.get("accept") === "application/octet-stream") {
        return new Response(null, { status: 302, headers: { location: `${storageUrl}/${found.path}` } });
      }
      return Response.json({ message: "Not Found" }, { status: 404 });
    },
  });
  apiUrl = `http://127.0.0.1:${server.port}`;
  return { url: apiUrl, owner, repo, tag, token, stop: () => server.stop(true) };
}
