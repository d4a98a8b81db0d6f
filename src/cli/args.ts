import type { ArgsDef } from "citty";
import { logFormats } from "../ui/output.ts";

/** The command line. Names and short forms match the earlier dispatch, which users already type. */
export const args = {
  owner: { type: "string", alias: "o", description: "GitHub repository owner (of the release, and of the issues reports are filed as)", valueHint: "owner" },
  repo: { type: "string", alias: "r", description: "GitHub repository name", valueHint: "repo" },
  tag: {
    type: "string",
    alias: "t",
    description: "Release tag (required with --owner/--repo); `latest`: the newest release (prereleases too) with a matching workload",
    valueHint: "tag",
  },
  dir: { type: "string", alias: "d", description: "Serve the *.efi, *.iso and *.img files of this folder instead of a release", valueHint: "dir" },
  reports: { type: "string", description: "Write each report as a Markdown file into this folder instead of filing a GitHub issue", valueHint: "dir" },
  filter: { type: "positional", required: false, description: "Keep only workloads whose name contains any of these" },
  token: { type: "string", description: "GitHub token (else GITHUB_TOKEN, GH_TOKEN, then `gh auth token`)", valueHint: "token" },
  bind: { type: "string", alias: "b", default: "0.0.0.0:8080", description: "Address and port to listen on; [::]:8080 for IPv6", valueHint: "addr:port" },
  path: { type: "string", alias: "p", default: "/dispatch", description: "The HTTP boot path servers and beacon use", valueHint: "path" },
  "api-url": {
    type: "string",
    description: "GitHub API URL (else GITHUB_API_URL; default https://api.github.com); Enterprise: https://HOST works",
    valueHint: "url",
  },
  mdns: { type: "boolean", default: true, description: "Announce on the network with mDNS", negativeDescription: "Do not announce with mDNS" },
  "mdns-interface": {
    type: "string",
    description: "Announce on this network interface (repeatable); default: the interfaces that serve --bind",
    valueHint: "name",
  },
  "download-timeout": { type: "string", default: "5m", description: "Free a job whose server goes quiet mid-download after this long", valueHint: "duration" },
  "run-timeout": { type: "string", default: "4h", description: "Fail a booted job that has not reported after this long", valueHint: "duration" },
  state: { type: "string", description: "Folder for the journal and kept reports (default: ~/.local/state/dispatch/OWNER/REPO/TAG, or …/folder/DIR)", valueHint: "dir" },
  fresh: { type: "boolean", default: false, description: "Start over instead of resuming an unfinished run (the old journal is kept aside)" },
  "file-failures": { type: "boolean", default: false, description: "File an issue (or, with --reports, write a file) for each failed job too" },
  "summary-issue": { type: "boolean", default: false, description: "One issue for the run: a table of every job, kept current, closed with the tally when the run is over" },
  lab: {
    type: "string",
    description: "Power the servers this TOML file names through their BMCs, point them at dispatch, cycle the ones that hang (README: Lab guide)",
    valueHint: "file",
  },
  "boot-timeout": {
    type: "string",
    default: "10m",
    description: "With --lab: power-cycle a server that makes no boot request this long after power-on",
    valueHint: "duration",
  },
  "console-in-reports": {
    type: "boolean",
    default: false,
    description: "With --lab: add the server's console (last lines) to report issues too, not only to failures",
  },
  retries: { type: "string", default: "1", description: "With --lab: run a job that failed without a report this many more times, on another server", valueHint: "n" },
  junit: { type: "string", description: "Write the run as JUnit XML to this file (rewritten as jobs settle, complete at exit)", valueHint: "file" },
  "fail-label": { type: "string", description: "A report carrying this label is a failed test (repeatable); --exit-when-done then exits 1", valueHint: "name" },
  "exit-when-done": {
    type: "boolean",
    default: false,
    description: "Exit once every job is finished or failed and filed: status 0 if all finished, 1 if any failed (or carries a --fail-label)",
  },
  "log-format": {
    type: "enum",
    options: [...logFormats],
    description: "Log lines instead of the live terminal view: plain, or json (one object per line); plain is the default when stdout is not a terminal",
    valueHint: "plain|json",
  },
} as const satisfies ArgsDef;

/** What to give when one of these is missing (a release run needs all three). */
export const missingHints = {
  tag: "Name the release to serve, e.g. --tag v1.2; --tag latest takes a release tagged `latest`, else the newest published release (prereleases too) with a matching workload.",
  owner: "Name the repository that holds the release: --owner OWNER --repo REPO.",
} as const;

export const examples = `Examples:
  Serve every dispatch asset of release v1.2 from AMDEPYC/dispatch:
    dispatch --owner AMDEPYC --repo dispatch --tag v1.2

  Only assets whose name contains "memtest" or "stress", from the newest
  release that has one:
    dispatch -o AMDEPYC -r dispatch -t latest memtest stress

  Listen on the lab NIC only, on port 8000, without mDNS:
    dispatch -o AMDEPYC -r dispatch -t v1.2 --bind 192.0.2.1:8000 --no-mdns

  Listen on every interface, but announce with mDNS on the lab NICs only:
    dispatch -o AMDEPYC -r dispatch -t v1.2 \\
      --mdns-interface eth1 --mdns-interface eth2

  Without GitHub (no token): boot the builds in ./out, reports into ./results:
    dispatch --dir out --reports results

  A release's workloads, reports as files (a token that may not write issues):
    dispatch -o AMDEPYC -r dispatch -t v1.2 --reports results

  GitHub Enterprise:
    dispatch -o lab -r workloads -t nightly --api-url https://ghe.example.com

  Inside a booted workload, call back (dispatch beacon --help):
    dispatch beacon boot
    dispatch beacon report -t "memtest passed" -b result.txt

Servers HTTP-boot from http://HOST:PORT/dispatch; when the queue is empty they
get poweroff.efi.`;
