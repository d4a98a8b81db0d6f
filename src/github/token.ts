export type TokenSources = {
  readonly flag?: string;
  readonly env: (name: string) => string | undefined;
  /** Runs `gh auth token`; resolves to its trimmed output, or undefined if gh is missing or logged out. */
  readonly ghAuthToken: () => Promise<string | undefined>;
};

/** `--token`, then GITHUB_TOKEN, GH_TOKEN, then the GitHub CLI's stored login. */
export async function resolveToken(sources: TokenSources): Promise<string | undefined> {
  const candidates = [sources.flag, sources.env("GITHUB_TOKEN"), sources.env("GH_TOKEN")];
  const found = candidates.map((t) => t?.trim()).find((t) => t);
  return found || (await sources.ghAuthToken())?.trim() || undefined;
}

export const authHelp = `dispatch needs a GitHub token to read the release and file issues. Any one of these works:

  1. Log in with the GitHub CLI in a browser:      gh auth login   (choose "Login with a web browser")
  2. Log in with the GitHub CLI by pasting a token: gh auth login   (choose "Paste an authentication token")
  3. Pass a token on the command line:             dispatch --token <TOKEN> …
  4. Set it in the environment:                    GITHUB_TOKEN=<TOKEN> dispatch …   (GH_TOKEN works too)

The token needs:
  fine-grained token: Contents: read-only, Issues: read and write (on the repository)
  classic token:      the "repo" scope`;
