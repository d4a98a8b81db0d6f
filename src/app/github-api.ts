import type { Log } from "../core/log.ts";
import { findApiUrl, probeWithFetch } from "../github/api-url.ts";
import { ApiUrlError } from "../github/errors.ts";
import type { DispatchConfig } from "./config.ts";

/**
 * The run's configuration with `--api-url` pointing at the API itself: what a user copies from
 * the browser (`https://ghe.example.com`) is found under `/api/v3`, or refused with a message
 * that names it.
 */
export async function locateGitHubApi(config: DispatchConfig, userAgent: string, log: Log): Promise<DispatchConfig> {
  const api = await findApiUrl(config.apiUrl, probeWithFetch(userAgent));
  if (api.kind === "wrong") throw new ApiUrlError(api.message);
  if (api.note) log.info(api.note);
  return { ...config, apiUrl: api.apiUrl };
}
