import { isGitHubDotCom, webHostOf } from "./api-url.ts";

export type TokenSources = {
  readonly flag?: string;
  readonly env: (name: string) => string | undefined;
  /** The API the token is for: an Enterprise host has its own login in gh and its own variables. */
  readonly apiUrl?: string;
  /** Runs this `gh` command; resolves to its trimmed output, or undefined if gh is missing or logged out. */
  readonly gh: (command: readonly string[]) => Promise<string | undefined>;
};

/** An Enterprise Server host (not github.com, not a GHE.com tenant): gh keeps its token apart. */
function isEnterpriseServer(apiUrl: string): boolean {
  return !isGitHubDotCom(apiUrl) && !webHostOf(apiUrl).endsWith(".ghe.com");
}

/** `gh auth token` for the API's host: gh stores one login per host. */
export function ghAuthTokenCommand(apiUrl: string | undefined): readonly string[] {
  if (apiUrl === undefined || isGitHubDotCom(apiUrl)) return ["gh", "auth", "token"];
  return ["gh", "auth", "token", "--hostname", webHostOf(apiUrl)];
}

/**
 * `--token`, then the environment (GH_ENTERPRISE_TOKEN and GITHUB_ENTERPRISE_TOKEN first for an
 * Enterprise Server, as gh reads them), GITHUB_TOKEN, GH_TOKEN, then the GitHub CLI's stored
 * login for the API's host.
 */
export async function resolveToken(sources: TokenSources): Promise<string | undefined> {
  const enterprise = sources.apiUrl !== undefined && isEnterpriseServer(sources.apiUrl);
  const names = [...(enterprise ? ["GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"] : []), "GITHUB_TOKEN", "GH_TOKEN"];
  const candidates = [sources.flag, ...names.map((name) => sources.env(name))];
  const found = candidates.map((t) => t?.trim()).find((t) => t);
  return found || (await sources.gh(ghAuthTokenCommand(sources.apiUrl)))?.trim() || undefined;
}

/** What to tell a user without a token; names the Enterprise host when there is one. */
export function authHelp(apiUrl?: string): string {
  const host = apiUrl === undefined || isGitHubDotCom(apiUrl) ? undefined : webHostOf(apiUrl);
  const login = host ? `gh auth login --hostname ${host}` : "gh auth login";
  const env = host && apiUrl && isEnterpriseServer(apiUrl) ? "GH_ENTERPRISE_TOKEN, GITHUB_TOKEN and GH_TOKEN work too" : "GH_TOKEN works too";
  return `dispatch needs a GitHub token to read the release and file issues. Any one of these works:

  1. Log in with the GitHub CLI in a browser:      ${login}   (choose "Login with a web browser")
  2. Log in with the GitHub CLI by pasting a token: ${login}   (choose "Paste an authentication token")
  3. Pass a token on the command line:             dispatch --token <TOKEN> …
  4. Set it in the environment:                    GITHUB_TOKEN=<TOKEN> dispatch …   (${env})

The token needs:
  fine-grained token: Contents: read-only, Issues: read and write (on the repository)
  classic token:      the "repo" scope`;
}
