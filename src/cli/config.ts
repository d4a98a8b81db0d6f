import type { ParsedArgs } from "citty";
import type { DispatchConfig } from "../app/config.ts";
import { UsageError } from "../app/errors.ts";
import { authHelp, resolveToken } from "../github/token.ts";
import type { Runtime } from "../runtime/types.ts";
import { args } from "./args.ts";
import { parseBind } from "./bind.ts";
import { parseDuration } from "./duration.ts";
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
  const config = {
    owner: parsed.owner,
    repo: parsed.repo,
    tag: parsed.tag,
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
  };
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

/** Every --mdns-interface given; what citty parsed (its last one) when the raw arguments are not at hand. */
function mdnsInterfaces(parsed: ParsedArgs<typeof args>, rawArgs: readonly string[]): string[] {
  const all = repeatedValues(rawArgs, args, "mdns-interface");
  const last = parsed["mdns-interface"];
  return all.length > 0 ? all : last ? [last] : [];
}
