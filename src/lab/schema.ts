import * as v from "valibot";
import { splitCommand } from "./command-line.ts";

/**
 * The lab file's keys and what each may hold, as valibot schemas whose messages say what is
 * allowed. Checks that span keys (a power kind's required keys) are in read.ts.
 */

const text = (what: string) => v.pipe(v.string(`must be a string: ${what}`), v.nonEmpty(`must not be empty: ${what}`));

const command = (what: string) =>
  v.pipe(
    text(what),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      try {
        splitCommand(dataset.value);
      } catch (error) {
        addIssue({ message: `cannot be run: ${(error as Error).message}` });
      }
    }),
  );

export const macPattern = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

/** Names appear in URLs (/api/servers/NAME), file names and `WORKLOAD@SERVER`. */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const serverSchema = v.object({
  name: v.optional(v.pipe(text('e.g. "genoa-1"'), v.regex(namePattern, 'must be letters, digits, ".", "_" and "-" (it names the server in URLs and file names), e.g. "genoa-1"'))),
  ip: v.optional(v.pipe(text("the address the server boots from"), v.ip('must be an IPv4 or IPv6 address, e.g. "192.0.2.101"'))),
  mac: v.optional(v.pipe(text("the server's MAC address"), v.regex(macPattern, 'must be a MAC address: six pairs of hex digits, e.g. "52:54:00:12:34:56"'))),
  bmc: v.optional(text('the BMC\'s address, e.g. "https://10.0.0.101" (Redfish) or "10.0.0.102" (IPMI)')),
  system: v.optional(
    v.pipe(text('e.g. "/redfish/v1/Systems/1"'), v.startsWith("/redfish/v1/Systems/", 'must be a system\'s path, e.g. "/redfish/v1/Systems/1"')),
  ),
  url: v.optional(
    v.pipe(
      text('e.g. "http://192.0.2.1:8080/dispatch"'),
      v.url('must be a URL, e.g. "http://192.0.2.1:8080/dispatch"'),
      v.regex(/^https?:\/\//i, 'must be an http:// or https:// URL, e.g. "http://192.0.2.1:8080/dispatch"'),
    ),
  ),
  power: v.optional(v.picklist(["redfish", "ipmi", "command"], 'must be "redfish", "ipmi" or "command"')),
  user: v.optional(text("the BMC user")),
  password_env: v.optional(
    v.pipe(text('the name of an environment variable, e.g. "BMC_PASSWORD"'), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must name an environment variable, e.g. "BMC_PASSWORD"')),
  ),
  password_file: v.optional(text("a file holding the password")),
  password: v.optional(text("the password (password_env or password_file keep it out of the lab file)")),
  tls_verify: v.optional(v.boolean("must be true or false")),
  ca: v.optional(text("a PEM file of the CA that signed the BMC's certificate")),
  cipher: v.optional(
    v.pipe(
      v.number("must be a number: the IPMI cipher suite, e.g. 3 or 17"),
      v.integer("must be a whole number: the IPMI cipher suite, e.g. 3 or 17"),
      v.minValue(0, "must be a cipher suite from 0 to 17"),
      v.maxValue(17, "must be a cipher suite from 0 to 17"),
    ),
  ),
  on: v.optional(command('the command that switches the server on, e.g. "pdu outlet 7 on"')),
  off: v.optional(command('the command that switches the server off, e.g. "pdu outlet 7 off"')),
  cycle: v.optional(command('the command that switches the server off and on, e.g. "pdu outlet 7 cycle"')),
  state: v.optional(command('a command that prints on or off, e.g. "pdu outlet 7 status"')),
  console: v.optional(command('a command whose output is the serial console, e.g. "socat - UNIX-CONNECT:/run/vm1.sock", or "sol" for IPMI')),
  tags: v.optional(
    v.array(
      v.pipe(v.string('must be strings, e.g. ["genoa", "2p"]'), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be words of letters, digits, ".", "_" and "-", e.g. ["genoa", "2p"]')),
      'must be a list of strings, e.g. ["genoa", "2p"]',
    ),
  ),
});

export type ServerTable = v.InferOutput<typeof serverSchema>;
export type ServerKey = keyof ServerTable;
export const serverKeys = Object.keys(serverSchema.entries) as ServerKey[];

/** Keys that only mean something with a power kind, and which kind. */
export const keysOfKind: Record<"redfish" | "ipmi" | "command", readonly ServerKey[]> = {
  redfish: ["bmc", "system", "user", "password_env", "password_file", "password", "tls_verify", "ca"],
  ipmi: ["bmc", "user", "password_env", "password_file", "password", "cipher"],
  command: ["on", "off", "cycle", "state"],
};

/** Keys only a `[[server]]` may have: what tells one server from another. */
export const ownKeys: readonly ServerKey[] = ["name", "ip", "mac"];

export const topSchema = v.object({
  power_on_spacing: v.optional(
    v.union([v.string(), v.pipe(v.number(), v.minValue(0))], 'must be a duration, e.g. "5s", "500ms" or "1m" (or a number of seconds)'),
  ),
  quarantine_after: v.optional(
    v.pipe(
      v.number("must be a number: failures to come up in a row, e.g. 2"),
      v.integer("must be a whole number, e.g. 2"),
      v.minValue(1, "must be 1 or more"),
    ),
  ),
});

export const topKeys = [...Object.keys(topSchema.entries), "defaults", "server", "rule"];

const duration = (what: string) => v.union([v.string(), v.pipe(v.number(), v.minValue(0))], `must be a duration, e.g. ${what} (or a number of seconds)`);
const word = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A `[[rule]]`: where the workloads it matches may run, and their own limits (see core/placement.ts). */
export const ruleSchema = v.object({
  workloads: v.union(
    [v.pipe(v.string(), v.nonEmpty()), v.pipe(v.array(v.pipe(v.string(), v.nonEmpty())), v.nonEmpty())],
    'must be a glob on workload names, or a list of them, e.g. "memtest-*" or ["fw-*.efi", "bios-*.efi"]',
  ),
  tags: v.optional(
    v.array(
      v.pipe(v.string('must be strings, e.g. ["genoa", "2p"]'), v.regex(word, 'must be words of letters, digits, ".", "_" and "-", e.g. ["genoa", "2p"]')),
      'must be a list of tags every matching server carries, e.g. ["genoa", "2p"]',
    ),
  ),
  servers: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.nonEmpty()), 'must be a list of server names or addresses, e.g. ["genoa-1", "192.0.2.120"]'),
      v.nonEmpty('must name at least one server, e.g. ["genoa-1"] (leave it out for any server)'),
    ),
  ),
  each: v.optional(v.boolean("must be true (one job per matching server) or false")),
  run_timeout: v.optional(duration('"12h" or "5m"')),
  download_timeout: v.optional(duration('"10m"')),
  retries: v.optional(
    v.pipe(v.number("must be a number of retries, e.g. 2"), v.integer("must be a whole number, e.g. 2"), v.minValue(0, "must be 0 or more")),
  ),
});

export const ruleKeys = Object.keys(ruleSchema.entries);
