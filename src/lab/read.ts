import { closest, distance } from "fastest-levenshtein";
import { parse, TomlError } from "smol-toml";
import * as v from "valibot";
import { parseDuration } from "../core/duration.ts";
import { keyLines, type KeyLines, type Where } from "./key-lines.ts";
import type { Rule } from "../core/placement.ts";
import { keysOfKind, ownKeys, ruleKeys, ruleSchema, serverKeys, serverSchema, topKeys, topSchema, type ServerKey, type ServerTable } from "./schema.ts";
import { type Lab, type LabServer, type PowerConfig, Secret } from "./types.ts";

/** Everything wrong with a lab file, one line each: `FILE:LINE: where key: what is allowed`. */
export class LabError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "LabError";
  }
}

/** What reading a lab file needs from outside: the environment and files (`runtime` gives both). */
export type LabSources = {
  env(name: string): string | undefined;
  /** The file's text, or undefined when there is none. */
  readText(path: string): Promise<string | undefined>;
};

const defaults = { powerOnSpacingMs: 5_000, quarantineAfter: 2 };

/** Reads and checks `--lab FILE`; throws LabError naming every problem. */
export async function readLab(file: string, sources: LabSources): Promise<Lab> {
  const text = await sources.readText(file);
  if (text === undefined) throw new LabError([`${file}: no such file (--lab names the lab file; the README's lab guide shows one)`]);
  return parseLab(file, text, sources);
}

type Table = Record<string, unknown>;
const isTable = (value: unknown): value is Table => typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);

export async function parseLab(file: string, text: string, sources: LabSources): Promise<Lab> {
  let data: Table;
  try {
    data = parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
    throw new LabError([`${file}:${error.line}:${error.column}: not valid TOML: ${reason}\n${error.codeblock}`]);
  }
  const lines = keyLines(text);
  const problems: string[] = [];
  const warnings: string[] = [];
  const at = (line: number | undefined) => `${file}:${line ?? 1}`;

  // The top level.
  for (const key of Object.keys(data)) if (!topKeys.includes(key)) problems.push(`${at(lines.key({}, key))}: ${unknownKey(key, topKeys, "at the top level")}`);
  const top = v.safeParse(topSchema, pick(data, Object.keys(topSchema.entries)));
  if (!top.success) for (const issue of top.issues) problems.push(`${at(lines.key({}, keyOf(issue)))}: ${keyOf(issue)} ${issue.message}`);
  let powerOnSpacingMs = defaults.powerOnSpacingMs;
  const spacing = data.power_on_spacing;
  if (typeof spacing === "number") powerOnSpacingMs = spacing * 1000;
  if (typeof spacing === "string") {
    try {
      powerOnSpacingMs = parseDuration(spacing, "power_on_spacing");
    } catch (error) {
      problems.push(`${at(lines.key({}, "power_on_spacing"))}: ${(error as Error).message} (or a number of seconds)`);
    }
  }

  // [defaults]
  let defaultsTable: Table = {};
  if (data.defaults !== undefined) {
    if (!isTable(data.defaults)) problems.push(`${at(lines.key({}, "defaults"))}: defaults must be a table: write [defaults] and the keys under it`);
    else defaultsTable = data.defaults;
  }
  const inDefaults: Where = { table: "defaults" };
  for (const key of Object.keys(defaultsTable)) {
    const line = at(lines.key(inDefaults, key));
    if (!serverKeys.includes(key as ServerKey)) problems.push(`${line}: [defaults] ${unknownKey(key, serverKeys, "in [defaults]")}`);
    else if (ownKeys.includes(key as ServerKey)) problems.push(`${line}: [defaults] ${key}: belongs to one server only: move it to its [[server]]`);
  }

  // [[server]]
  let tables: unknown[] = [];
  if (data.server !== undefined) {
    if (!Array.isArray(data.server)) problems.push(`${at(lines.table({ table: "server" }) ?? lines.key({}, "server"))}: write [[server]] (two brackets) before each server`);
    else tables = data.server;
  }
  // A file of rules alone places workloads on servers outside it, by address.
  if (tables.length === 0 && data.rule === undefined && problems.length === 0) problems.push(`${file}: names no server: add a [[server]] table for each (the README's lab guide shows one)`);
  const servers: LabServer[] = [];
  for (const [index, table] of tables.entries()) {
    const where: Where = { table: "server", index };
    const server = await readServer(isTable(table) ? table : {}, { file, where, lines, defaultsTable, sources, problems, warnings });
    if (server) servers.push(server);
  }
  problems.push(...duplicates(tables, file, lines));

  // [[rule]]
  let ruleTables: unknown[] = [];
  if (data.rule !== undefined) {
    if (!Array.isArray(data.rule)) problems.push(`${at(lines.table({ table: "rule" }) ?? lines.key({}, "rule"))}: write [[rule]] (two brackets) before each rule`);
    else ruleTables = data.rule;
  }
  const rules = ruleTables.flatMap((table, index) => readRule(isTable(table) ? table : {}, index, { file, lines, problems, servers: tables }));

  // In the order of the file, whatever found them.
  const lineOf = (problem: string) => Number(/^[^\n]*?:(\d+):/.exec(problem.slice(file.length))?.[1] ?? 0);
  if (problems.length > 0) throw new LabError(problems.sort((a, b) => lineOf(a) - lineOf(b)));
  return {
    file,
    servers,
    rules,
    powerOnSpacingMs,
    quarantineAfter: typeof data.quarantine_after === "number" ? data.quarantine_after : defaults.quarantineAfter,
    warnings,
  };
}

/** Two servers with one name, address or MAC (as written, whatever else is wrong with them). */
function duplicates(tables: readonly unknown[], file: string, lines: KeyLines): string[] {
  const found: string[] = [];
  for (const key of ["name", "ip", "mac"] as const) {
    const seen = new Map<string, { index: number; name: unknown }>();
    tables.forEach((table, index) => {
      if (!isTable(table) || typeof table[key] !== "string") return;
      const value = key === "mac" ? table[key].toLowerCase().replaceAll("-", ":") : table[key];
      const first = seen.get(value);
      if (first === undefined) return void seen.set(value, { index, name: table.name });
      const line = lines.key({ table: "server", index }, key);
      const firstLine = lines.key({ table: "server", index: first.index }, key);
      const label = typeof table.name === "string" ? `"${table.name}"` : `#${index + 1}`;
      found.push(`${file}:${line}: [[server]] ${label} ${key}: ${value} is already given to server "${first.name}" (line ${firstLine}): each server needs its own`);
    });
  }
  return found;
}

/**
 * One `[[rule]]`, checked: its keys, its durations, and the servers it names (each a server of
 * this file, or an address for one outside it).
 */
function readRule(table: Table, index: number, context: { file: string; lines: KeyLines; problems: string[]; servers: readonly unknown[] }): Rule[] {
  const { file, lines, problems } = context;
  const where: Where = { table: "rule", index };
  const label = `[[rule]] #${index + 1}`;
  const header = lines.table(where) ?? 1;
  const lineOf = (key: string) => `${file}:${lines.key(where, key) ?? header}`;
  const before = problems.length;
  for (const key of Object.keys(table)) if (!ruleKeys.includes(key)) problems.push(`${lineOf(key)}: ${label} ${unknownKey(key, ruleKeys, "in a [[rule]]")}`);
  if (table.workloads === undefined) {
    problems.push(`${file}:${header}: ${label} has no workloads: add workloads = "…", a glob on the names of the workloads it places, e.g. "memtest-*"`);
    return [];
  }
  const result = v.safeParse(ruleSchema, pick(table, ruleKeys));
  if (!result.success) {
    for (const issue of result.issues) problems.push(`${lineOf(keyOf(issue))}: ${label} ${keyOf(issue)}: ${issue.message}`);
    return [];
  }
  const r = result.output;
  const ms = (key: "run_timeout" | "download_timeout") => {
    const value = r[key];
    if (value === undefined) return undefined;
    if (typeof value === "number") return value * 1000;
    try {
      return parseDuration(value, key);
    } catch (error) {
      problems.push(`${lineOf(key)}: ${label} ${(error as Error).message} (or a number of seconds)`);
      return undefined;
    }
  };
  const runMs = ms("run_timeout");
  const downloadMs = ms("download_timeout");
  const known = context.servers.flatMap((s) => (isTable(s) ? [s.name, s.ip].filter((x): x is string => typeof x === "string") : []));
  for (const name of r.servers ?? []) {
    if (known.includes(name) || v.is(v.pipe(v.string(), v.ip()), name)) continue;
    const names = context.servers.flatMap((s) => (isTable(s) && typeof s.name === "string" ? [s.name] : []));
    const near = closest(name, names);
    const hint = near && distanceIsSmall(name, near) ? ` did you mean "${near}"?` : "";
    problems.push(`${lineOf("servers")}: ${label} servers: "${name}" is neither a [[server]] of this file nor an address:${hint} give a server's name${names.length ? ` (${names.join(", ")})` : ""} or an IP address`);
  }
  if (problems.length > before) return [];
  return [
    {
      workloads: typeof r.workloads === "string" ? [r.workloads] : r.workloads,
      origin: `${file}:${header}`,
      ...(r.tags && { tags: [...new Set(r.tags)] }),
      ...(r.servers && { servers: [...new Set(r.servers)] }),
      ...(r.each !== undefined && { each: r.each }),
      ...(runMs !== undefined && { runMs }),
      ...(downloadMs !== undefined && { downloadMs }),
      ...(r.retries !== undefined && { retries: r.retries }),
    },
  ];
}

type ServerContext = {
  readonly file: string;
  readonly where: Where;
  readonly lines: KeyLines;
  readonly defaultsTable: Table;
  readonly sources: LabSources;
  readonly problems: string[];
  readonly warnings: string[];
};

const passwordKeys: readonly ServerKey[] = ["password_env", "password_file", "password"];

async function readServer(own: Table, context: ServerContext): Promise<LabServer | undefined> {
  const { file, where, lines, defaultsTable, problems } = context;
  const before = problems.length;
  const label = typeof own.name === "string" ? `[[server]] "${own.name}"` : `[[server]] #${where.index! + 1}`;
  // A key is reported where it is written: the server's table, or [defaults] it came from.
  const lineOf = (key: string) => `${file}:${lines.key(where, key) ?? lines.key({ table: "defaults" }, key) ?? lines.table(where) ?? 1}`;
  const header = `${file}:${lines.table(where) ?? 1}`;
  const problem = (key: string | undefined, message: string) => problems.push(`${key ? lineOf(key) : header}: ${label} ${key ? `${key}: ` : ""}${message}`);

  for (const key of Object.keys(own)) {
    if (!serverKeys.includes(key as ServerKey)) problems.push(`${lineOf(key)}: ${label} ${unknownKey(key, serverKeys, "in a [[server]]")}`);
  }
  // The server's own password key replaces whichever one [defaults] gives.
  const inherited = passwordKeys.some((key) => key in own) ? omit(defaultsTable, passwordKeys) : defaultsTable;
  const result = v.safeParse(serverSchema, pick({ ...inherited, ...own }, serverKeys));
  if (!result.success) {
    for (const issue of result.issues) problem(keyOf(issue), issue.message);
    return undefined;
  }
  const s = result.output;

  if (s.name === undefined) problem(undefined, 'has no name: add name = "…" (letters, digits, ".", "_", "-")');
  if (s.ip === undefined && s.mac === undefined) problem(undefined, 'needs ip = "…" (the address it boots from) or mac = "…" (looked up in the neighbour table)');
  if (s.ip !== undefined && s.mac !== undefined) problem("mac", "give ip or mac, not both");
  if (s.console === "sol" && s.power !== "ipmi") problem("console", '"sol" is IPMI\'s serial-over-LAN: it needs power = "ipmi"; otherwise give the console\'s command');

  const kinds = Object.keys(keysOfKind) as (keyof typeof keysOfKind)[];
  const ownPowerKeys = kinds.flatMap((kind) => keysOfKind[kind]).filter((key) => key in own);
  if (s.power === undefined) {
    // Keys from [defaults] without a power kind are fine: the server is served without power control.
    if (ownPowerKeys.length > 0) problem(ownPowerKeys[0], 'means nothing without power: add power = "redfish", "ipmi" or "command"');
  } else {
    const kind = s.power;
    for (const key of ownPowerKeys) {
      if (!keysOfKind[kind].includes(key)) {
        const owners = kinds.filter((k) => keysOfKind[k].includes(key)).map((k) => `"${k}"`);
        problem(key, `is for power = ${owners.join(" or ")}; this server's power is "${kind}"`);
      }
    }
  }
  const password = s.power === "redfish" || s.power === "ipmi" ? await readPassword(s, { ...context, label, lineOf, problem }) : undefined;
  const power = s.power === undefined ? undefined : await powerConfig(s, password, { ...context, problem });
  if (problems.length > before) return undefined;
  return {
    name: s.name!,
    ...(s.ip !== undefined && { ip: s.ip }),
    ...(s.mac !== undefined && { mac: s.mac.toLowerCase().replaceAll("-", ":") }),
    ...(s.url !== undefined && { url: s.url }),
    tags: [...new Set(s.tags ?? [])],
    ...(power && { power }),
    ...(s.console !== undefined && { console: s.console }),
  };
}

type Problem = (key: string | undefined, message: string) => void;

async function readPassword(
  s: ServerTable,
  { sources, warnings, file, label, lineOf, problem }: ServerContext & { label: string; lineOf: (key: string) => string; problem: Problem },
): Promise<Secret | undefined> {
  const given = passwordKeys.filter((key) => s[key] !== undefined);
  if (given.length > 1) {
    problem(given[1], `give one of password_env, password_file and password, not ${given.join(" and ")}`);
    return undefined;
  }
  if (s.password_env !== undefined) {
    const value = sources.env(s.password_env);
    if (!value) {
      problem("password_env", `the environment variable ${s.password_env} is ${value === undefined ? "not set" : "empty"}: export it before starting dispatch`);
      return undefined;
    }
    return new Secret(value);
  }
  if (s.password_file !== undefined) {
    const path = besideLabFile(file, s.password_file);
    const value = (await sources.readText(path))?.replace(/\r?\n$/, "");
    if (value === undefined) problem("password_file", `${path}: no such file: it should hold the BMC password`);
    else if (value === "") problem("password_file", `${path} is empty: it should hold the BMC password`);
    else return new Secret(value);
    return undefined;
  }
  if (s.password !== undefined) {
    warnings.push(`${lineOf("password")}: ${label} has its password in the lab file: anyone who can read the file can read it; password_env or password_file keep it out`);
    return new Secret(s.password);
  }
  return undefined;
}

async function powerConfig(s: ServerTable, password: Secret | undefined, { file, sources, problem }: ServerContext & { problem: Problem }): Promise<PowerConfig | undefined> {
  const missing = (keys: readonly string[]) => {
    // A password key that was given but could not be read has had its own message.
    const hasPassword = password !== undefined || passwordKeys.some((key) => s[key] !== undefined);
    const absent = keys.filter((key) => (key === "password" ? !hasPassword : s[key as ServerKey] === undefined));
    const hint = absent.includes("password") ? " (a password is password_env, password_file or password)" : "";
    if (absent.length > 0) problem("power", `"${s.power}" needs ${list(keys)}; missing: ${list(absent)}${hint}`);
    return absent.length > 0 || !password && keys.includes("password");
  };
  switch (s.power!) {
    case "redfish": {
      const incomplete = missing(["bmc", "user", "password"]);
      const bmc = s.bmc === undefined ? undefined : redfishOrigin(s.bmc);
      if (s.bmc !== undefined && !bmc) problem("bmc", `"${s.bmc}" is not a Redfish BMC's address: give https://HOST or https://HOST:PORT, e.g. "https://10.0.0.101"`);
      const ca = s.ca === undefined ? undefined : besideLabFile(file, s.ca);
      const caMissing = ca !== undefined && (await sources.readText(ca)) === undefined;
      if (caMissing) problem("ca", `${ca}: no such file: it should hold the PEM certificate of the CA that signed the BMC's`);
      if (incomplete || !bmc || caMissing) return undefined;
      return {
        kind: "redfish",
        bmc,
        ...(s.system !== undefined && { system: s.system }),
        user: s.user!,
        password: password!,
        tlsVerify: s.tls_verify ?? true,
        ...(ca !== undefined && { ca }),
      };
    }
    case "ipmi": {
      const incomplete = missing(["bmc", "user", "password"]);
      const address = s.bmc === undefined ? undefined : hostPort(s.bmc);
      if (s.bmc !== undefined && !address) problem("bmc", `"${s.bmc}" is not an IPMI BMC's address: give HOST or HOST:PORT (623 unless given), e.g. "10.0.0.102"`);
      if (incomplete || !address) return undefined;
      return { kind: "ipmi", bmc: s.bmc!, ...address, user: s.user!, password: password!, ...(s.cipher !== undefined && { cipher: s.cipher }) };
    }
    case "command":
      if (missing(["on", "off", "cycle"])) return undefined;
      return { kind: "command", on: s.on!, off: s.off!, cycle: s.cycle!, ...(s.state !== undefined && { state: s.state }) };
  }
}

/** https://HOST[:PORT] from what the lab file says (`https://` may be left out); undefined when it is not that. */
function redfishOrigin(bmc: string): string | undefined {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(bmc) ? bmc : `https://${bmc}`);
  } catch {
    return undefined;
  }
  // Credentials go only over HTTPS, and only to the service root's origin.
  if (url.protocol !== "https:" || url.username || url.password || url.search || url.hash || !["", "/"].includes(url.pathname)) return undefined;
  return url.origin;
}

/** HOST, HOST:PORT, [IPv6] or [IPv6]:PORT; the port 623 unless given. */
function hostPort(bmc: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(bmc);
  if (!match) return undefined;
  const port = match[3] === undefined ? 623 : Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

function besideLabFile(labFile: string, path: string): string {
  if (path.startsWith("/")) return path;
  const folder = labFile.includes("/") ? labFile.slice(0, labFile.lastIndexOf("/") + 1) : "";
  return `${folder}${path}`;
}

function unknownKey(key: string, known: readonly string[], where: string): string {
  const near = closest(key, [...known]);
  const hint = near && distanceIsSmall(key, near) ? ` did you mean "${near}"?` : "";
  return `${key}: unknown key ${where}:${hint} allowed: ${known.join(", ")}`;
}

/** A suggestion only when it is plausibly a typo of the key. */
const distanceIsSmall = (a: string, b: string) => distance(a, b) <= Math.max(2, Math.floor(b.length / 3));

const keyOf = (issue: v.BaseIssue<unknown>): string => String(issue.path?.[0]?.key ?? "");
const list = (keys: readonly string[]) => (keys.length <= 1 ? keys.join("") : `${keys.slice(0, -1).join(", ")} and ${keys.at(-1)}`);
const pick = (table: Table, keys: readonly string[]) => Object.fromEntries(Object.entries(table).filter(([key]) => keys.includes(key)));
const omit = (table: Table, keys: readonly string[]) => Object.fromEntries(Object.entries(table).filter(([key]) => !keys.includes(key)));
