import type { ParsedArgs } from "citty";
import type { DispatchConfig } from "../app/config.ts";
import { UsageError } from "../app/errors.ts";
import { authHelp, resolveToken } from "../github/token.ts";
import type { Runtime } from "../runtime/types.ts";
import { args, missingHints } from "./args.ts";
import { parseBind } from "./bind.ts";
import { parseDuration } from "../core/duration.ts";
import { repeatedValues } from "./repeated.ts";

/** Turns parsed arguments and the environment into a run's configuration. */
export async function resolveConfig(parsed: ParsedArgs<typeof args>, runtime: Runtime, rawArgs: readonly string[] = []): Promise<DispatchConfig> {
  const attempt = <T>(f: () => T): T => {
    try {
      return f();
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  };
  const path = parsed.path.startsWith("/") ? parsed.path : `/${parsed.path}`;
  const apiUrl = parsed["api-url"] ?? runtime.env("GITHUB_API_URL") ?? "https://api.github.com";
  attempt(() => {
    const url = new URL(apiUrl);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`--api-url must be http(s): ${apiUrl}`);
  });
  const source = attempt(() => chooseSource(parsed));
  const config = {
    ...(parsed.owner !== undefined && { owner: parsed.owner }),
    ...(parsed.repo !== undefined && { repo: parsed.repo }),
    // A folder run has no tag; chooseSource made sure a release run has one.
    tag: parsed.tag ?? "",
    ...(parsed.dir !== undefined && { dir: parsed.dir }),
    ...(parsed.reports !== undefined && { reportsDir: parsed.reports }),
    filters: parsed._.map(String),
    apiUrl: apiUrl.replace(/\/+$/, ""),
    bind: attempt(() => parseBind(parsed.bind)),
    path,
    mdns: parsed.mdns,
    mdnsInterfaces: mdnsInterfaces(parsed, rawArgs),
    timeouts: {
      downloadMs: attempt(() => parseDuration(parsed["download-timeout"], "--download-timeout")),
      runMs: attempt(() => parseDuration(parsed["run-timeout"], "--run-timeout")),
    },
    ...(parsed.state !== undefined && { stateDir: parsed.state }),
    fresh: parsed.fresh,
    fileFailures: parsed["file-failures"],
    ...(parsed["summary-issue"] && { summaryIssue: true }),
    ...(parsed.junit !== undefined && { junit: parsed.junit }),
    failLabels: repeated(parsed, rawArgs, "fail-label"),
    ...(parsed.lab !== undefined && { lab: parsed.lab }),
    bootTimeoutMs: attempt(() => parseDuration(parsed["boot-timeout"], "--boot-timeout")),
    retries: attempt(() => parseCount(parsed.retries, "--retries")),
    ...(parsed["console-in-reports"] && { consoleInReports: true }),
  };
  if (config.summaryIssue && source === "folder" && parsed.reports !== undefined) {
    throw new UsageError("--summary-issue files an issue in --owner/--repo, but with --dir and --reports nothing goes to GitHub: leave out one of them");
  }
  // GitHub is asked nothing, so no token is looked for (nor `gh` run).
  if (source === "folder" && parsed.reports !== undefined) return config;
  const token = await resolveToken({
    flag: parsed.token,
    env: runtime.env,
    apiUrl: config.apiUrl,
    gh: async (command) => {
      const result = await runtime.run(command);
      return result?.code === 0 ? result.stdout : undefined;
    },
  });
  if (!token) throw new UsageError(`no GitHub token found.\n\n${authHelp(config.apiUrl)}`);
  return { ...config, token };
}

/**
 * Where the workloads come from and whether the flags fit together: a release needs --owner
 * and --repo; a folder (--dir) takes no --tag, and needs --owner/--repo only for filing issues.
 */
function chooseSource(parsed: ParsedArgs<typeof args>): "release" | "folder" {
  const named = parsed.owner !== undefined || parsed.repo !== undefined;
  const both = parsed.owner !== undefined && parsed.repo !== undefined;
  if (parsed.dir === undefined) {
    if (!named) {
      throw new Error(
        "say where the workloads come from: --owner OWNER --repo REPO --tag TAG for a GitHub release, " +
          "or --dir DIR for a folder of .efi, .iso and .img files (with --reports DIR, nothing needs GitHub)",
      );
    }
    if (!both) throw new Error(`a release needs both --owner and --repo\n${missingHints.owner}`);
    // As with the earlier dispatch: a forgotten -t must not quietly serve some release.
    if (parsed.tag === undefined) throw new Error(`Missing required argument: --tag\n${missingHints.tag}`);
    return "release";
  }
  if (parsed.tag !== undefined) throw new Error("--tag picks a release, but --dir serves a folder: leave out one of them");
  if (parsed.reports !== undefined && named) {
    throw new Error("--owner/--repo name a GitHub repository, but with --dir and --reports nothing goes to GitHub: leave them out");
  }
  if (parsed.reports === undefined && !both) {
    throw new Error("with --dir, reports are filed as issues of --owner/--repo: give both, or --reports DIR to write them into a folder");
  }
  return "folder";
}

/** Every --mdns-interface given; what citty parsed (its last one) when the raw arguments are not at hand. */
function mdnsInterfaces(parsed: ParsedArgs<typeof args>, rawArgs: readonly string[]): string[] {
  return repeated(parsed, rawArgs, "mdns-interface");
}

/** Every value of a repeatable flag; what citty parsed (its last one) when the raw arguments are not at hand. */
function repeated(parsed: ParsedArgs<typeof args>, rawArgs: readonly string[], name: "mdns-interface" | "fail-label"): string[] {
  const all = repeatedValues(rawArgs, args, name);
  const last = parsed[name];
  return all.length > 0 ? all : last ? [last] : [];
}

/** A whole number of 0 or more, for a flag like --retries. */
function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim())) throw new Error(`${flag} takes a whole number (0 or more), not "${text}"`);
  return Number(text.trim());
}
