import { join } from "node:path";
import type { FiledIssue } from "../../core/job.ts";
import type { Log } from "../../core/log.ts";
import type { SummaryIssueApi } from "../../github/summary-issue.ts";
import type { Files } from "../../runtime/types.ts";
import { backoff } from "./filer.ts";

/** The summary as it is now: the issue's body and whether the run is over (the issue is then closed). */
export type SummaryBody = { readonly body: string; readonly settled: boolean };

export type SummaryIssueDeps = {
  readonly api: SummaryIssueApi;
  readonly log: Log;
  readonly now: () => number;
  readonly files: Files;
  readonly stateDir: string;
  readonly title: string;
  readonly marker: string;
  /** This run's name (its journal's `created`); a summary issue of another run is the previous one. */
  readonly run: string;
  /** A resumed run may have its issue already: look for it by its marker before creating one. */
  readonly resumed: boolean;
  /** The body for this moment, given the previous run's summary issue (if any). */
  readonly render: (previous: FiledIssue | undefined) => SummaryBody;
  /** At most one edit per this long while the run goes on (GitHub's advice: few content writes, not one per event). */
  readonly batchMs: number;
  /** The least time between two writes, even when the run settles (GitHub: at least a second). */
  readonly spacingMs: number;
  readonly retryDelayMs?: (attempt: number) => number;
};

export type SummaryIssue = {
  /** The summary's content may have changed: an edit follows within the batch time (at once when the run settled). */
  changed(): void;
  url(): string | undefined;
  /** At exit: the last edit, bounded by `withinMs`; then nothing more is sent. */
  finish(withinMs: number): Promise<void>;
  /** Sends nothing more (a run that could not start). */
  stop(): void;
};

/** Which issue is this run's summary, kept in the state folder: a re-run links the one before it. */
type Recorded = { readonly run: string; readonly number: number; readonly url: string; readonly previous?: FiledIssue };
const recordFile = "summary-issue.json";

/**
 * One summary issue per run, kept current: created when the run starts (or, for a resumed run,
 * found by its marker and adopted, so a restart never opens a second), edited at most once per
 * `batchMs` as jobs change and at once when the run settles, when it is also closed. Writes go
 * one at a time; a failed one is tried again with backoff, and never stops the run.
 */
export function startSummaryIssue(deps: SummaryIssueDeps): SummaryIssue {
  const { api, log } = deps;
  let issue: { number: number; url: string } | undefined;
  let previous: FiledIssue | undefined;
  let sent: { body: string; state: "open" | "closed" } | undefined;
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  let busy: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let due: number | undefined;
  let attempts = 0;
  let finished = false;
  const warned = new Set<string>();
  const warn = (what: string, error: unknown) => {
    const line = `summary issue: ${what} failed (${(error as Error).message}); trying again`;
    if (!warned.has(line)) log.warn(line);
    warned.add(line);
  };

  const record = async (): Promise<Recorded | undefined> => {
    const text = await deps.files.readText(join(deps.stateDir, recordFile)).catch(() => undefined);
    try {
      return text === undefined ? undefined : (JSON.parse(text) as Recorded);
    } catch {
      return undefined;
    }
  };

  /** Finds (resumed run) or creates the issue; then the body is current as of creation. */
  const ensure = async () => {
    const recorded = await record();
    previous = recorded?.run === deps.run ? recorded.previous : recorded && { number: recorded.number, url: recorded.url };
    // A resumed run, or an attempt that may have created it before failing, looks first.
    const found = deps.resumed || attempts > 0 ? await api.find(deps.marker, Date.parse(deps.run)) : undefined;
    if (found?.number !== undefined) {
      issue = { number: found.number, url: found.url };
      log.info(`summary issue: ${issue.url} (this run's, adopted)`);
    } else {
      const { body } = deps.render(previous);
      lastWriteAt = deps.now();
      const created = await api.create(deps.title, body);
      if (created.number === undefined) throw new Error("GitHub answered without an issue number");
      issue = { number: created.number, url: created.url };
      sent = { body, state: "open" };
      log.info(`summary issue: ${issue.url}`);
    }
    const kept: Recorded = { run: deps.run, number: issue.number, url: issue.url, ...(previous && { previous }) };
    await deps.files.writeDurably(join(deps.stateDir, recordFile), `${JSON.stringify(kept)}\n`);
  };

  /** The issue says something other than the summary now (or is open while the run is over). */
  const pending = () => {
    if (!issue) return false;
    const { body, settled } = deps.render(previous);
    return sent?.body !== body || sent.state !== (settled ? "closed" : "open");
  };

  const edit = async () => {
    if (!issue) return;
    const { body, settled } = deps.render(previous);
    const state = settled ? "closed" : "open";
    if (sent?.body === body && sent.state === state) return;
    lastWriteAt = deps.now();
    await api.edit(issue.number, body, sent?.state === state ? undefined : state);
    sent = { body, state };
  };

  /** Runs one write at a time; a failure schedules the next try. */
  const work = (what: string, task: () => Promise<void>) => {
    busy = (async () => {
      try {
        await task();
        attempts = 0;
        if (!finished && pending()) schedule();
      } catch (error) {
        attempts++;
        warn(what, error);
        if (!finished) schedule((deps.retryDelayMs ?? backoff)(attempts));
      } finally {
        busy = undefined;
      }
    })();
    return busy;
  };

  const run = () => {
    timer = undefined;
    due = undefined;
    if (finished) return;
    if (busy) return void busy.then(() => schedule());
    void work(issue ? "editing" : "creating", issue ? edit : ensure);
  };

  /** The next write: after `delay` when given (a retry), else within the batch time, or at once once settled. */
  function schedule(delay?: number) {
    if (finished) return;
    const settled = issue ? deps.render(previous).settled : false;
    const wait = delay ?? Math.max(0, lastWriteAt + (settled ? deps.spacingMs : deps.batchMs) - deps.now());
    const at = deps.now() + wait;
    if (due !== undefined && due <= at) return;
    if (timer) clearTimeout(timer);
    due = at;
    timer = setTimeout(run, wait);
  }

  void work("creating", ensure);

  return {
    changed: () => (pending() ? schedule() : undefined),
    url: () => issue?.url,
    async finish(withinMs) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const last = (async () => {
        if (busy) await busy;
        if (!issue) await work("creating", ensure);
        if (issue) await work("editing", edit);
      })();
      let bound: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([last, new Promise<void>((resolve) => (bound = setTimeout(resolve, withinMs)))]);
      clearTimeout(bound);
      finished = true;
      if (timer) clearTimeout(timer);
    },
    stop() {
      finished = true;
      if (timer) clearTimeout(timer);
    },
  };
}
