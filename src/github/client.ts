import Bottleneck from "bottleneck";
import { Octokit } from "octokit";
import type { Log } from "../core/log.ts";

export type GitHubConfig = {
  readonly apiUrl: string;
  readonly token: string;
  readonly owner: string;
  readonly repo: string;
  readonly userAgent: string;
};

type RequestInfo = { readonly method: string; readonly url: string };

/**
 * An Octokit with retries and rate-limit throttling (both built into the `octokit` package).
 * Its own logging goes through `log`, so nothing reaches the terminal unformatted.
 */
export function createOctokit(config: GitHubConfig, log: Log): Octokit {
  const warn = (line: string) => log.warn(line);
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

export type FilingClientOptions = {
  /**
   * Time between two issue creations. Unset: the throttle plugin's own spacing (GitHub's
   * advice against secondary rate limits: writes 1 s apart, content that notifies people
   * 3 s apart). Tests shorten it; the command line never does.
   */
  readonly writeSpacingMs?: number;
  /** A request that has not finished after this long is abandoned (its outcome is then unknown). */
  readonly timeoutMs?: number;
};

/**
 * The Octokit that files issues. Its retry plugin is off and its rate-limit handlers decline
 * to wait: a POST retried blindly after a 502 or a timeout can file an issue twice, and a
 * wait inside Octokit (until a reset up to an hour away) would hide the reason from the job's
 * status. The filer retries instead, looks for the issue first when an attempt's outcome is
 * unknown, and waits for the reset time GitHub names. The throttle's spacing of writes stays.
 */
export function createFilingOctokit(config: GitHubConfig, log: Log, options: FilingClientOptions = {}): Octokit {
  const warn = (line: string) => log.warn(line);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const spacing = options.writeSpacingMs;
  const groups =
    spacing === undefined
      ? {}
      : {
          write: new Bottleneck.Group({ maxConcurrent: 1, minTime: spacing }),
          notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: spacing }),
        };
  return new Octokit({
    auth: config.token,
    baseUrl: config.apiUrl.replace(/\/+$/, ""),
    userAgent: config.userAgent,
    log: { debug: () => {}, info: () => {}, warn, error: warn },
    retry: { enabled: false },
    request: {
      // Started when the request really goes out, after the throttle's queue.
      fetch: (url: string | URL, init: RequestInit = {}) =>
        fetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs) }),
    },
    throttle: {
      ...groups,
      // Each Octokit gets its own queues: two runs in one process do not slow each other.
      id: `dispatch-filing-${++filingClients}`,
      onRateLimit: () => false,
      onSecondaryRateLimit: () => false,
    },
  });
}

let filingClients = 0;
