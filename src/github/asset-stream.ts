import { isGitHubDotCom } from "./api-url.ts";
import { isAllowedRedirect, mayCarryToken } from "./hosts.ts";

export type AssetRequest = {
  /** The asset's API URL (`…/releases/assets/ID`): works for private repositories too. */
  readonly url: string;
  readonly apiUrl: string;
  readonly token: string;
  readonly userAgent: string;
  /** A single, already validated `bytes=a-b` range. */
  readonly range?: string;
  readonly signal?: AbortSignal;
};

/** Why an asset could not be fetched, in words for the log. Never contains the token or a signed URL. */
export class UpstreamError extends Error {
  override name = "UpstreamError";
}

const maxRedirects = 5;

/**
 * Opens an asset's bytes: asks the API with `Accept: application/octet-stream`, then follows
 * the redirect to the storage host by hand, so the token is only ever sent to the API origin
 * and, for github.com, only GitHub's hosts are followed (see hosts.ts). Returns the storage
 * host's response unread.
 */
export async function openAsset(request: AssetRequest): Promise<Response> {
  const apiUrl = new URL(request.apiUrl);
  let url = new URL(request.url);
  for (let hop = 0; hop <= maxRedirects; hop++) {
    const headers = new Headers({ accept: "application/octet-stream", "user-agent": request.userAgent });
    if (mayCarryToken(url, apiUrl)) headers.set("authorization", `Bearer ${request.token}`);
    if (request.range) headers.set("range", request.range);

    let response: Response;
    try {
      response = await fetch(url, { headers, redirect: "manual", signal: request.signal });
    } catch (error) {
      throw new UpstreamError(`cannot reach ${url.host}: ${(error as Error).message}`);
    }
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location) return response;

    await response.body?.cancel();
    const next = new URL(location, url);
    if (!isAllowedRedirect(next, apiUrl)) {
      // Only the host: a signed storage URL is a credential of its own.
      const why =
        next.protocol !== "https:" && next.protocol !== "http:"
          ? "not http(s)"
          : next.protocol === "http:" && apiUrl.protocol === "https:"
            ? "plain http from an https API"
            : isGitHubDotCom(apiUrl)
              ? "not a GitHub host"
              : "refused";
      throw new UpstreamError(`refused redirect to ${next.protocol}//${next.host}: ${why}`);
    }
    url = next;
  }
  throw new UpstreamError(`more than ${maxRedirects} redirects for ${request.url}`);
}
