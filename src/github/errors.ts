/** Turns an Octokit failure into a sentence that says what to do next. */
export function explainGitHubError(error: unknown, what: string): string {
  const status = (error as { status?: number }).status;
  const message = (error as Error).message ?? String(error);
  switch (status) {
    case 401:
      return `${what}: GitHub rejected the token (401). Check that it has not expired or been revoked; run with another --token or \`gh auth login\`.`;
    case 403:
      return `${what}: GitHub refused access (403: ${message}). The token needs Contents read and Issues read/write (fine-grained) or \`repo\` (classic).`;
    case 404:
      return `${what}: not found (404). Check --owner, --repo and --tag, and that the token can see the repository.`;
    case undefined:
      return `${what}: cannot reach GitHub (${message}). Check the network or --api-url.`;
    default:
      return `${what}: GitHub answered ${status} (${message}).`;
  }
}

/** `--api-url` does not lead to GitHub's API: a usage error (exit status 2), the message says what to give. */
export class ApiUrlError extends Error {
  override name = "ApiUrlError";
  readonly exitCode = 2;
}
