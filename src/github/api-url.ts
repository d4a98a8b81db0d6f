/**
 * Where GitHub's REST API is, from what the user gave `--api-url`: the API itself
 * (https://api.github.com, https://ghe.example.com/api/v3, https://api.SUB.ghe.com) or, for
 * Enterprise Server, the web address copied from the browser (https://ghe.example.com).
 */

const githubApi = "https://api.github.com";

/** The host `gh` knows the login by: github.com, the Enterprise Server host, or SUB.ghe.com. */
export function webHostOf(apiUrl: string): string {
  // gh knows hosts by name, without a port.
  const host = new URL(apiUrl).hostname.toLowerCase();
  if (host === "api.github.com") return "github.com";
  // GitHub Enterprise Cloud with data residency: the API is api.SUB.ghe.com, the web SUB.ghe.com.
  const ghe = /^api\.([^.]+\.ghe\.com)$/.exec(host);
  if (ghe) return ghe[1]!;
  return host;
}

/** The API is github.com's own: its storage hosts are known, and `gh auth token` needs no --hostname. */
export function isGitHubDotCom(apiUrl: string | URL): boolean {
  return new URL(apiUrl).host.toLowerCase() === "api.github.com";
}

export type ApiUrlProbe = (url: string) => Promise<{ readonly status: number; readonly headers: Headers } | undefined>;

export type ApiUrlResult =
  | { readonly kind: "ok"; readonly apiUrl: string; readonly note?: string }
  | { readonly kind: "wrong"; readonly message: string };

/** Every answer of GitHub's API carries this header, errors included; a web page never does. */
const answersAsApi = (response: { headers: Headers } | undefined) => response?.headers.has("x-github-media-type") ?? false;

/**
 * Finds the API behind `given`. A URL that is plainly an API (api.github.com, api.SUB.ghe.com,
 * a path ending in /api/v3) is taken as it is, without a request. Otherwise its root is asked
 * (without the token) whether it answers as the API; if not, `/api/v3` under it, where GitHub
 * Enterprise Server keeps its API. When neither answers as the API, the message names /api/v3.
 * A probe that cannot run (network down) leaves the URL as given: reading the release then
 * says what is wrong.
 */
export async function findApiUrl(given: string, probe: ApiUrlProbe): Promise<ApiUrlResult> {
  const url = new URL(given);
  const trimmed = given.replace(/\/+$/, "");
  const host = url.host.toLowerCase();
  if (host === "api.github.com" || /^api\.[^.]+\.ghe\.com$/.test(host) || /\/api\/v3$/i.test(url.pathname.replace(/\/+$/, ""))) {
    return { kind: "ok", apiUrl: trimmed };
  }
  // The address of github.com itself, or of a GHE.com tenant, copied from the browser.
  if (host === "github.com" && url.pathname.replace(/\/+$/, "") === "") return { kind: "ok", apiUrl: githubApi, note: `using ${githubApi} for github.com` };
  const tenant = /^([^.]+)\.ghe\.com$/.exec(host);
  if (tenant && url.pathname.replace(/\/+$/, "") === "") {
    const api = `${url.protocol}//api.${host}`;
    return { kind: "ok", apiUrl: api, note: `using ${api}, the API of ${host}` };
  }

  const atRoot = await probe(`${trimmed}/`);
  if (atRoot === undefined || answersAsApi(atRoot)) return { kind: "ok", apiUrl: trimmed };
  const v3 = `${trimmed}/api/v3`;
  const underV3 = await probe(`${v3}/`);
  if (answersAsApi(underV3)) return { kind: "ok", apiUrl: v3, note: `using ${v3}: the API of GitHub Enterprise Server at ${url.host}` };
  return {
    kind: "wrong",
    message:
      `--api-url ${given} is not GitHub's API (it answered ${atRoot.status}, not as the API), and neither is ${v3}` +
      `${underV3 ? ` (${underV3.status})` : ""}. For GitHub Enterprise Server give https://HOST/api/v3; for github.com leave --api-url out.`,
  };
}

/** The probe dispatch uses: a GET without credentials, redirects not followed, bounded in time. */
export const probeWithFetch =
  (userAgent: string, timeoutMs = 10_000): ApiUrlProbe =>
  async (url) => {
    try {
      const response = await fetch(url, { headers: { "user-agent": userAgent, accept: "application/vnd.github+json" }, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
      await response.body?.cancel();
      return { status: response.status, headers: response.headers };
    } catch {
      return undefined;
    }
  };
