import { Octokit } from "octokit";

export type GitHubConfig = {
  readonly apiUrl: string;
  readonly token: string;
  readonly owner: string;
  readonly repo: string;
  readonly userAgent: string;
};

type RequestInfo = { readonly method: string; readonly url: string };

export type Warn = (message: string) => void;

/**
 * An Octokit with retries and rate-limit throttling (both built into the `octokit` package).
 * Its own logging goes through `warn`, so nothing reaches the terminal unformatted.
 */
export function createOctokit(config: GitHubConfig, warn: Warn): Octokit {
  return new Octokit({
    auth: config.token,
    baseUrl: config.apiUrl.replace(/\/+$/, ""),
    userAgent: config.userAgent,
    log: { debug: () => {}, info: () => {}, warn, error: warn },
    throttle: {
      onRateLimit: (retryAfter: number, options: RequestInfo, _octokit: unknown, retryCount: number) => {
        warn(`GitHub rate limit on ${options.method} ${options.url}: retrying in ${retryAfter}s`);
        return retryCount < 3;
      },
      onSecondaryRateLimit: (retryAfter: number, options: RequestInfo, _octokit: unknown, retryCount: number) => {
        warn(`GitHub secondary rate limit on ${options.method} ${options.url}: retrying in ${retryAfter}s`);
        return retryCount < 3;
      },
    },
  });
}
