import { join } from "node:path";
import type { DispatchEvent } from "../core/events.ts";
import type { Log } from "../core/log.ts";
import type { PlanInput, Timeouts } from "../core/job.ts";
import { planKey } from "../core/placement.ts";
import type { Workload } from "../core/workload.ts";
import type { Files } from "../runtime/types.ts";
import { type JournalHeader, headerLine } from "./format.ts";
import { parseJournal } from "./parse.ts";
import { type Journal, journalWriter } from "./writer.ts";

/** What this run is: a journal is only resumed by the same run. */
export type RunIdentity = {
  /** owner/repo */
  readonly repository: string;
  readonly release: string;
  readonly filters: readonly string[];
  readonly workloads: readonly Workload[];
  readonly timeouts: Timeouts;
  /** Which server runs what, when rules or labels place anything (see core/placement.ts). */
  readonly placement?: PlanInput;
};

export type OpenedJournal = {
  readonly journal: Journal;
  readonly path: string;
  /** Events to fold into the initial state, in order; empty for a new journal. */
  readonly events: readonly DispatchEvent[];
  /** The timeouts the first replayed event was taken under. */
  readonly timeouts: Timeouts;
  /** True when an earlier run's events were found (the caller then records a restart). */
  readonly resumed: boolean;
  /** When the journal's run began (its header's `created`): what names the run, across restarts. */
  readonly created: string;
};

export type OpenOptions = {
  readonly files: Files;
  readonly dir: string;
  readonly run: RunIdentity;
  /** Start over: the old journal is renamed aside, never deleted. */
  readonly fresh: boolean;
  /**
   * Whether the journal's run is over (nothing left to run or file), judged from its events on
   * its own queue: a line saying so starts a new run, the old journal kept aside, even when the
   * queue has changed since (a new build after a finished run); undefined resumes it.
   */
  readonly over?: (events: readonly DispatchEvent[], timeouts: Timeouts, queue: JournalHeader["workloads"], placement: PlanInput | undefined) => string | undefined;
  readonly now: () => number;
  readonly log: Log;
};

/** A journal that must not be resumed by this run; the message says what to do instead. */
export class JournalError extends Error {
  override name = "JournalError";
}

export const journalFile = "journal.jsonl";

export async function openJournal(options: OpenOptions): Promise<OpenedJournal> {
  const { files, dir, run } = options;
  const path = join(dir, journalFile);
  await files.mkdirp(dir);
  let text = await files.readText(path);

  if (text !== undefined && options.fresh) {
    const aside = await setAside(options, path);
    options.log.info(`--fresh: starting over; the previous journal is kept as ${aside}`);
    text = undefined;
  }

  const header = headerOf(run, options.now());
  const parsed = text === undefined ? ({ kind: "empty" } as const) : parseJournal(text);
  switch (parsed.kind) {
    case "empty": {
      if (parsed.damaged) options.log.warn(`${path} held only a damaged header ${parsed.damaged} (cut while being written): starting a new journal`);
      return newJournal(options, path, header);
    }
    case "corrupt":
      throw new JournalError(
        `${path} is damaged at line ${parsed.line}: ${parsed.problem}. dispatch cannot tell what happened after it. ` +
          `Start over with --fresh (the damaged journal is kept aside), or use another --state folder.`,
      );
    case "journal": {
      const over = options.over?.(parsed.events, parsed.header.timeouts, parsed.header.workloads, parsed.header.placement);
      if (over !== undefined) {
        // The earlier tool ran the whole queue on every start: a run that is over is run again.
        const aside = await setAside(options, path);
        options.log.info(`${over}: starting a new run; its journal is kept as ${aside} (nothing is deleted)`);
        return newJournal(options, path, header);
      }
      const conflict = mismatch(parsed.header, header);
      if (conflict) {
        const same = conflict.startsWith("the lab file's rules") ? "the lab file's rules (and the assets' labels) as they were" : `the same ${parsed.header.release === "folder" ? "folder, builds" : "repository, release"} and filters`;
        throw new JournalError(
          `${path} belongs to another run: ${conflict}. Run with ${same} to resume it, ` +
            `--fresh to start over (the old journal is kept aside), or --state DIR for a separate folder.`,
        );
      }
      if (parsed.damagedTail !== undefined) {
        options.log.warn(`the last line of ${path} was cut while being written (power loss?): dropping ${parsed.damagedTail}; no answer depended on it`);
        await files.truncate(path, parsed.goodBytes);
      }
      if (parsed.missingNewline) await journalNewline(options, path);
      const journal = await writer(options, path, parsed.goodBytes + (parsed.missingNewline ? 1 : 0));
      return { journal, path, events: parsed.events, timeouts: parsed.header.timeouts, resumed: true, created: parsed.header.created };
    }
    default:
      return parsed satisfies never;
  }
}

async function newJournal(options: OpenOptions, path: string, header: JournalHeader): Promise<OpenedJournal> {
  await options.files.writeDurably(path, headerLine(header));
  const bytes = new TextEncoder().encode(headerLine(header)).byteLength;
  return { journal: await writer(options, path, bytes), path, events: [], timeouts: options.run.timeouts, resumed: false, created: header.created };
}

/** Renames the journal to `journal.<time>.jsonl` beside it; the new name. */
async function setAside(options: OpenOptions, path: string): Promise<string> {
  const aside = join(options.dir, `journal.${stamp(options.now())}.jsonl`);
  await options.files.rename(path, aside);
  return aside;
}

async function writer(options: OpenOptions, path: string, bytes: number): Promise<Journal> {
  const file = await options.files.openAppend(path);
  return journalWriter({ file, bytes, truncate: (n) => options.files.truncate(path, n), log: options.log });
}

/** The last line was whole but its newline was lost: finish it, so the next line starts clean. */
async function journalNewline(options: OpenOptions, path: string): Promise<void> {
  const file = await options.files.openAppend(path);
  try {
    await file.write(new TextEncoder().encode("\n"));
    await file.sync();
  } finally {
    await file.close();
  }
}

function headerOf(run: RunIdentity, now: number): JournalHeader {
  return {
    journal: "dispatch",
    version: 1,
    repository: run.repository,
    release: run.release,
    filters: [...run.filters],
    workloads: run.workloads.map(({ name, size, bootType, revision }) => ({ name, size, bootType, ...(revision !== undefined && { revision }) })),
    timeouts: run.timeouts,
    created: new Date(now).toISOString(),
    ...(run.placement && { placement: run.placement }),
  };
}

/** Why a journal's run is not this run, or undefined when it is. */
function mismatch(journal: JournalHeader, run: JournalHeader): string | undefined {
  if (journal.repository.toLowerCase() !== run.repository.toLowerCase()) return `it is for ${journal.repository}, this run is for ${run.repository}`;
  if (journal.release !== run.release) return `it is for release ${journal.release}, this run is for release ${run.release}`;
  const filters = (f: readonly string[]) => JSON.stringify([...new Set(f)].sort());
  if (filters(journal.filters) !== filters(run.filters)) {
    const show = (f: readonly string[]) => (f.length ? f.map((x) => `"${x}"`).join(" ") : "no filter");
    return `it was started with ${show(journal.filters)}, this run with ${show(run.filters)}`;
  }
  const key = (w: JournalHeader["workloads"][number]) => `${w.name} (${w.size} bytes, ${w.bootType}${w.revision ? `, ${toMilliseconds(w.revision)}` : ""})`;
  const before = journal.workloads.map(key);
  const now = run.workloads.map(key);
  if (JSON.stringify(before) !== JSON.stringify(now)) {
    const gone = before.filter((w) => !now.includes(w));
    const added = now.filter((w) => !before.includes(w));
    const where = journal.release === "folder" ? "folder" : "release";
    const parts = [gone.length && `no longer in the ${where}: ${gone.join(", ")}`, added.length && `new in the ${where}: ${added.join(", ")}`];
    return `the ${where}'s workloads changed since it began (${parts.filter(Boolean).join("; ")})`;
  }
  // The plan: which jobs there are and where each may run. A journal from before rules had none.
  const planOf = (h: JournalHeader) => planKey(h.placement?.jobs ?? h.workloads.map((w) => ({ name: w.name, workload: w.name })));
  const [was, is] = [planOf(journal), planOf(run)];
  if (JSON.stringify(was) !== JSON.stringify(is)) {
    const parts = [`it had ${was.filter((j) => !is.includes(j)).join("; ") || "nothing else"}`, `now ${is.filter((j) => !was.includes(j)).join("; ") || "nothing else"}`];
    return `the lab file's rules (or the assets' labels) changed which server runs what since it began (${parts.join("; ")})`;
  }
  return undefined;
}

/**
 * Journals written before revisions were kept to the millisecond carry nanoseconds
 * (`….123456789Z`): compared at the millisecond, as revisions are now written.
 */
const toMilliseconds = (revision: string) => revision.replace(/(\.\d{3})\d{6}Z/, "$1Z");

/** 2026-11-28T15-55-02.123Z: a file name that sorts by time and is valid everywhere. */
function stamp(at: number): string {
  return new Date(at).toISOString().replaceAll(":", "-");
}
