import { readFile } from "node:fs/promises";
import { type ArgsDef, defineCommand } from "citty";
import { parseDuration } from "../core/duration.ts";
import { repeatedValues } from "../cli/repeated.ts";
import { unknownOption } from "../cli/unknown-options.ts";
import { terminalSafe } from "../ui/terminal-text.ts";
import { DEFAULT_EFIVARS, fromEfivars } from "./discover/efivars.ts";
import { fromMdns } from "./discover/mdns.ts";
import { URL_VARIABLE, givenUrl } from "./discover/url.ts";
import { reportJson } from "./report-json.ts";
import { type Log, type Source, deliver } from "./retry.ts";
import type { BeaconRequest } from "./send.ts";

/** How long beacon listens for mDNS answers each time it asks. */
const MDNS_WINDOW_MS = 1500;

/** Flags both `beacon boot` and `beacon report` take: where dispatch is, and how long to keep trying. */
const common = {
  url: { type: "string", description: `dispatch's boot URL (else ${URL_VARIABLE}); when given, nothing else is tried`, valueHint: "url" },
  efivars: { type: "string", default: DEFAULT_EFIVARS, description: "Where the firmware's variables are mounted (efivarfs)", valueHint: "dir" },
  mdns: { type: "boolean", default: true, description: "Look for dispatch with mDNS", negativeDescription: "Do not look for dispatch with mDNS" },
  "retry-for": { type: "string", default: "10m", description: "Keep trying this long while no dispatch takes it", valueHint: "duration" },
  verbose: { type: "boolean", alias: "v", default: false, description: "Say where dispatch was found and how it answered" },
} as const satisfies ArgsDef;

const reportArgs = {
  title: { type: "string", alias: "t", required: true, description: "The issue's title", valueHint: "title" },
  body: { type: "string", alias: "b", description: "File with the issue's body (default: standard input; - for standard input)", valueHint: "file" },
  label: { type: "string", alias: "l", description: "Label for the issue (repeatable)", valueHint: "label" },
  assignee: { type: "string", alias: "a", description: "Assignee for the issue (repeatable)", valueHint: "login" },
  milestone: { type: "string", alias: "m", description: "The issue's milestone, by title", valueHint: "title" },
  ...common,
} as const satisfies ArgsDef;

type CommonParsed = { url?: string; efivars: string; mdns: boolean; "retry-for": string; verbose: boolean };

class BeaconUsageError extends Error {}

// A line may quote what the server at the URL answered: made safe for the console it goes to.
const stderr = (line: string) => process.stderr.write(`dispatch beacon: ${terminalSafe(line)}\n`);

/** The ways of finding dispatch, in the order the README gives: the URL given, the firmware's boot options, mDNS. */
function sources(parsed: CommonParsed): Source[] {
  let given;
  try {
    given = givenUrl(parsed.url, process.env);
  } catch (error) {
    throw new BeaconUsageError((error as Error).message);
  }
  if (given) return [async () => ({ candidates: [given], notes: [] })];
  return [() => fromEfivars(parsed.efivars), ...(parsed.mdns ? [() => fromMdns(MDNS_WINDOW_MS)] : [])];
}

async function send(what: string, request: () => Promise<BeaconRequest>, parsed: CommonParsed): Promise<void> {
  try {
    let retryForMs: number;
    try {
      retryForMs = parseDuration(parsed["retry-for"], "--retry-for");
    } catch (error) {
      throw new BeaconUsageError((error as Error).message);
    }
    const found = sources(parsed);
    const log: Log = { verbose: parsed.verbose ? stderr : () => {}, warn: stderr };
    const result = await deliver({ request: await request(), sources: found, retryForMs, log });
    if (result.ok) {
      log.verbose(`${what} taken by ${result.url} (from ${result.from})`);
      process.exitCode = 0;
      return;
    }
    stderr(`${what} not delivered, ${result.message}`);
    process.exitCode = 1;
  } catch (error) {
    stderr((error as Error).message);
    process.exitCode = error instanceof BeaconUsageError ? 2 : 1;
  }
}

/** The body: the file `-b` names, else all of standard input (none when that is a terminal: nobody is typing a report). */
async function readBody(file: string | undefined): Promise<string> {
  if (file !== undefined && file !== "-") {
    try {
      return await readFile(file, "utf8");
    } catch (error) {
      throw new BeaconUsageError(`cannot read the body from ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (file === undefined && process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const boot = defineCommand({
  meta: { name: "boot", description: "Tell dispatch this workload is running (POST to the boot URL)" },
  args: common,
  run: ({ args }) => send("boot", async () => ({ method: "POST" }), args),
});

const report = defineCommand({
  meta: { name: "report", description: "Send this workload's results, filed by dispatch as a GitHub issue (PUT to the boot URL)" },
  args: reportArgs,
  run: ({ args, rawArgs }) =>
    send(
      "report",
      async () => ({
        method: "PUT",
        json: reportJson({
          title: args.title,
          body: await readBody(args.body),
          labels: repeatedValues(rawArgs, reportArgs, "label", { keepEmpty: true }),
          assignees: repeatedValues(rawArgs, reportArgs, "assignee", { keepEmpty: true }),
          ...(args.milestone !== undefined && { milestone: args.milestone }),
        }),
      }),
      args,
    ),
});

/** `dispatch beacon boot|report`: the workload's side, from the same binary. */
export const beaconCommand = defineCommand({
  meta: { name: "dispatch beacon", description: "Call back to dispatch from inside a booted workload" },
  subCommands: { boot, report },
});

/**
 * `dispatch beacon boot|report ARGS` with an option that subcommand does not know: the sentence
 * that says so and names the closest it knows (a usage error, exit 2); else undefined.
 */
export function beaconUnknownOption(rawArgs: readonly string[]): string | undefined {
  const [name, ...rest] = rawArgs;
  const args = name === "boot" ? common : name === "report" ? reportArgs : undefined;
  const unknown = args && unknownOption(rest, args);
  return unknown && `${unknown}; dispatch beacon ${name} --help lists every option.`;
}
