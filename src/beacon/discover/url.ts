import type { Candidate } from "../candidate.ts";

/** The environment variable a workload can set instead of `--url`. */
export const URL_VARIABLE = "DISPATCH_URL";

/**
 * The URL given on the command line, else in DISPATCH_URL. Checked here so a typo fails at once
 * with what to write instead, not after ten minutes of retries.
 */
export function givenUrl(flag: string | undefined, env: Record<string, string | undefined>): Candidate | undefined {
  const [value, from] = flag !== undefined && flag !== "" ? [flag, "--url"] : [env[URL_VARIABLE] ?? "", URL_VARIABLE];
  if (value === "") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${from} "${value}" is not a URL: give the boot URL dispatch prints, e.g. http://192.0.2.1:8080/dispatch`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`${from} "${value}" is not an http:// URL: give the boot URL dispatch prints, e.g. http://192.0.2.1:8080/dispatch`);
  }
  return { url: url.href, from };
}
