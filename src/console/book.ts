import { join } from "node:path";
import type { DispatchState, Job } from "../core/job.ts";
import { attemptsBy } from "../core/selectors.ts";
import type { Files } from "../runtime/types.ts";
import { attemptPart, lastLines, noJob, readPart } from "./kept.ts";

/**
 * Which part of a server's console its lines go to now: its newest attempt's, from that boot
 * request on; `no-job` before its first and from a boot request answered with poweroff.efi
 * (`poweroff`, or known from the lab's state after a restart).
 */
export function partOf(state: DispatchState, ip: string, poweroff = false): string {
  const newest = attemptsBy(state, ip)[0];
  const handedPoweroff = state.lab?.servers.find((s) => s.ip === ip)?.poweroffAt;
  if (!newest || poweroff || (handedPoweroff !== undefined && handedPoweroff >= newest.attempt.at)) return noJob;
  return attemptPart(newest.attempt.n);
}

/** Lines as they arrived on one server's console, each stamped "ISO-TIME text". */
export type ConsoleLines = { readonly server: string; readonly part: string; readonly lines: readonly string[] };

/** One attempt's console, for an issue or a report file. */
export type AttemptConsole = {
  /** The attempt's place among the job's attempts, 1-based. */
  readonly index: number;
  readonly server: string;
  readonly ip: string;
  readonly lines: readonly string[];
};

/**
 * The consoles kept in the state folder, as the sinks, the routes and the views read them; the
 * capture (capture.ts) writes them and tells what is still arriving (a line not yet ended, the
 * last line, live lines). Made before the lab is open: servers are named to it once it is.
 */
export type ConsoleBook = {
  readonly dir: string;
  /** The server with a console that boots from this address. */
  name(ip: string): string | undefined;
  servers(): readonly string[];
  /**
   * The servers with a console, and where their addresses are now (`addresses`: a server given
   * by MAC has its address learned when it first asks; without it, the addresses given here).
   */
  register(servers: readonly { readonly name: string; readonly ip: string }[], addresses?: () => readonly { readonly name: string; readonly ip: string }[]): void;
  /**
   * Each attempt of the job on a server with a console: its last `n` lines (a line still arriving
   * included), up to the attempt's end when it ended without a report.
   */
  attemptTails(job: Job, n: number, which?: (index: number, job: Job) => boolean): Promise<AttemptConsole[]>;
  /** The whole of what is kept of each attempt of the job, with a heading per attempt; undefined when nothing is. */
  wholeText(job: Job): Promise<string | undefined>;
  /** What is kept of one part of a server's console (a line still arriving included); undefined when nothing is. */
  partText(server: string, part: string): Promise<string | undefined>;
  /** The last line a server's console showed, and when. */
  last(server: string): { readonly line: string; readonly at: number } | undefined;
  /** Live lines of one server; returns the way to stop listening. */
  watch(server: string, listener: (lines: ConsoleLines) => void): () => void;
  /** The capture's side: lines arrived (already kept), and the line still arriving. */
  arrived(lines: ConsoleLines, at: number): void;
  pending(server: string, part: string, line: string): void;
};

export function createConsoleBook(files: Files, stateDir: string): ConsoleBook {
  const dir = join(stateDir, "consoles");
  let names: string[] = [];
  let addresses: () => readonly { readonly name: string; readonly ip: string }[] = () => [];
  const nameOf = (ip: string) => (ip === "" ? undefined : addresses().find((s) => s.ip === ip && names.includes(s.name))?.name);
  const lastLine = new Map<string, { line: string; at: number }>();
  const pendingLine = new Map<string, { part: string; line: string }>();
  const listeners = new Map<string, Set<(lines: ConsoleLines) => void>>();

  const withPending = (server: string, part: string, lines: string[]) => {
    const pending = pendingLine.get(server);
    return pending && pending.part === part && pending.line !== "" ? [...lines, pending.line] : lines;
  };

  return {
    dir,
    name: nameOf,
    servers: () => names,
    register(servers, current) {
      names = servers.map((s) => s.name);
      addresses = current ?? (() => servers);
    },
    async attemptTails(job, n, which = () => true) {
      const out: AttemptConsole[] = [];
      for (const [i, attempt] of job.attempts.entries()) {
        const server = nameOf(attempt.ip);
        if (!server || !which(i, job)) continue;
        const part = attemptPart(attempt.n);
        // An attempt that ended shows what came before its end, not the reboot that followed it.
        const until = attempt.endedAt === undefined ? undefined : new Date(attempt.endedAt).toISOString();
        const all = withPending(server, part, await lastLines(files, join(dir, server), part, Number.MAX_SAFE_INTEGER));
        const lines = (until === undefined ? all : all.filter((line) => line.slice(0, 24) <= until)).slice(-n);
        if (lines.length) out.push({ index: i + 1, server, ip: attempt.ip, lines });
      }
      return out;
    },
    async wholeText(job) {
      const sections: string[] = [];
      for (const [i, attempt] of job.attempts.entries()) {
        const server = nameOf(attempt.ip);
        if (!server) continue;
        const part = attemptPart(attempt.n);
        const kept = await readPart(files, join(dir, server), part);
        const pending = pendingLine.get(server);
        const tail = pending?.part === part && pending.line ? `${pending.line}\n` : "";
        if (!kept && !tail) continue;
        sections.push(`=== attempt ${i + 1}: ${server} (${attempt.ip}), from ${new Date(attempt.at).toISOString()} ===\n${kept?.text ?? ""}${tail}`);
      }
      return sections.length ? sections.join("\n") : undefined;
    },
    async partText(server, part) {
      const kept = await readPart(files, join(dir, server), part);
      const pending = pendingLine.get(server);
      const tail = pending?.part === part && pending.line ? `${pending.line}\n` : "";
      return kept || tail ? `${kept?.text ?? ""}${tail}` : undefined;
    },
    last: (server) => lastLine.get(server),
    watch(server, listener) {
      const set = listeners.get(server) ?? new Set();
      listeners.set(server, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    arrived(lines, at) {
      const line = lines.lines.findLast((l) => l.length > 25);
      if (line !== undefined) lastLine.set(lines.server, { line: line.slice(25), at });
      for (const listener of listeners.get(lines.server) ?? []) listener(lines);
    },
    pending(server, part, line) {
      pendingLine.set(server, { part, line });
    },
  };
}
