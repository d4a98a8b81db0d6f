import { formatDuration } from "./duration.ts";
import type { DispatchEvent, IssueKind } from "./events.ts";
import type { DispatchState, FiledIssue, Job, Late, Phase, Time, Timeouts } from "./job.ts";
import type { Outcome } from "./outcome.ts";
import { type Report, sameReport } from "./report.ts";
import { canBoot, canReport, downloaded, heldBy, lastReportBy, lastRunBy } from "./selectors.ts";
import { addSpan } from "./spans.ts";

/** The state after an event, and what was decided about it for the edge that sent it. */
export type Step = { readonly state: DispatchState; readonly outcome: Outcome };

/** The state after an event (replay needs no outcome). */
export function reduce(state: DispatchState, event: DispatchEvent): DispatchState {
  return step(state, event).state;
}

const noted = (state: DispatchState): Step => ({ state, outcome: { kind: "noted" } });

/**
 * The only place where a job changes state. Pure: no clock, no I/O; an event that does not
 * apply (a late download end, a report from a server with nothing booting) leaves the state
 * as it was, and the outcome says so.
 */
export function step(state: DispatchState, event: DispatchEvent): Step {
  switch (event.type) {
    case "boot-requested": {
      const next = bootRequested(state, event.ip, event.download, event.at);
      const job = heldBy(next, event.ip);
      return { state: next, outcome: job ? { kind: "serve", job } : { kind: "poweroff" } };
    }

    case "download-progressed":
      return noted(
        updateJob(state, event.name, (job) =>
          job.phase.state === "downloading" && job.phase.ip === event.ip
            ? { ...job, phase: { ...job.phase, bytes: job.phase.bytes + event.bytes }, seen: event.at }
            : job,
        ),
      );

    case "download-ended":
      return noted(
        updateJob(state, event.name, (job) => {
          if (job.phase.state !== "downloading" || job.phase.ip !== event.ip) return job;
          if (event.gone && event.error !== undefined) return enter(job, { state: "failed", ip: event.ip, reason: event.error }, event.at);
          const received = addSpan(job.phase.received, [event.start, event.start + event.sent]);
          const next: Job = { ...job, phase: { ...job.phase, received }, seen: event.at };
          // GitHub could not deliver (asset gone, link expired, stream cut): the server cannot
          // boot this, so the job goes back to the queue for whichever server asks next. A job
          // the server already has whole is kept: the failure came after it needed anything.
          if (event.error !== undefined && event.upstream && !downloaded(next)) return enter(job, { state: "unassigned" }, event.at);
          return next;
        }),
      );

    case "booted": {
      const job = heldBy(state, event.ip);
      if (!job || !canBoot(job)) return { state, outcome: { kind: "not-mine" } };
      // A repeated `beacon boot` only counts as activity.
      const next = job.phase.state === "booting" ? { ...job, seen: event.at } : enter(job, { state: "booting", ip: event.ip }, event.at);
      return { state: replaceJob(state, next), outcome: { kind: "booted", job: next } };
    }

    case "reported":
      return reported(state, event.ip, event.report, event.at);

    case "issue-filed":
      return noted(updateJob(state, event.name, (job) => issueFiled(job, event.issue, event.for, event.at)));

    case "filing-failed":
      return noted(
        updateJob(state, event.name, (job) => {
          const phase = job.phase;
          const pending = (phase.state === "reported" && event.for !== "failure") || (phase.state === "failed" && !phase.issue && event.for !== "report");
          if (!pending) return job;
          const { refused: _, ...rest } = phase;
          return { ...job, phase: { ...rest, lastError: event.error, ...(event.permanent && { refused: true }) } };
        }),
      );

    case "restarted":
      return noted(restarted(state, event.at, event.timeouts));

    case "tick":
      return noted(expire(state, event.at));

    default:
      return event satisfies never;
  }
}

/**
 * A report belongs to the job its server was last running while that job has no report yet:
 * booting, or failed by the run timeout (a burn-in that ran longer than guessed is still a
 * result). The same report sent again (beacon got no answer the first time) is recognised and
 * taken again, changing nothing.
 */
function reported(state: DispatchState, ip: string, report: Report, at: Time): Step {
  const job = lastRunBy(state, ip);
  if (job && canReport(job)) {
    const phase = job.phase;
    const late: Late | undefined =
      phase.state === "failed"
        ? { failedAt: job.entered.failed ?? at, reason: phase.reason, ...(phase.issue && { failureIssue: phase.issue }) }
        : undefined;
    const next = enter(job, { state: "reported", ip, report, ...(late && { late }) }, at);
    return { state: replaceJob(state, next), outcome: { kind: "report-accepted", job: next, repeat: false } };
  }
  const last = lastReportBy(state, ip);
  const lastPhase = last?.phase;
  if (last && (lastPhase?.state === "reported" || lastPhase?.state === "finished") && sameReport(lastPhase.report, report)) {
    return { state, outcome: { kind: "report-accepted", job: last, repeat: true } };
  }
  return { state, outcome: { kind: "not-mine" } };
}

/** What an issue GitHub took does to its job. */
function issueFiled(job: Job, issue: FiledIssue, kind: IssueKind | undefined, at: Time): Job {
  const phase = job.phase;
  if (phase.state === "reported") {
    // The failure's issue, filed just before a late report came: the report's issue names it.
    if (kind === "failure") return phase.late && !phase.late.failureIssue ? { ...job, phase: { ...phase, late: { ...phase.late, failureIssue: issue } } } : job;
    return enter(job, { state: "finished", ip: phase.ip, report: phase.report, issue, ...(phase.late && { late: phase.late }) }, at);
  }
  // A failure's own issue (`--file-failures`): the job stays failed, now with its issue.
  if (phase.state === "failed" && !phase.issue && kind !== "report") {
    const { lastError: _, refused: __, ...rest } = phase;
    return { ...job, phase: { ...rest, issue } };
  }
  return job;
}

function bootRequested(state: DispatchState, ip: string, download: boolean, at: Time): DispatchState {
  const held = heldBy(state, ip);
  if (held) {
    const phase = held.phase;
    // Asking again before the download is complete is a retry: same job, never the next one.
    if (phase.state === "assigned") {
      return replaceJob(
        state,
        download ? enter(held, { state: "downloading", ip, bytes: 0, received: [] }, at) : { ...held, seen: at },
      );
    }
    if (phase.state === "downloading" && !downloaded(held)) return replaceJob(state, { ...held, seen: at });

    // The server has the whole workload (or ran it) and is asking for a new one: the previous
    // run ended without telling us, so it failed.
    const reason =
      phase.state === "booting"
        ? "booted but never reported: the server asked for a new workload"
        : "downloaded but never sent `beacon boot`: the server asked for a new workload";
    state = replaceJob(state, enter(held, { state: "failed", ip, reason }, at));
  }

  const next = state.jobs.find((job) => job.phase.state === "unassigned");
  if (!next) return state; // nothing left: the edge hands out poweroff.efi
  const phase: Phase = download ? { state: "downloading", ip, bytes: 0, received: [] } : { state: "assigned", ip };
  return replaceJob(state, enter(next, phase, at));
}

/** Frees jobs whose server went quiet mid-download, fails those that never got further. */
function expire(state: DispatchState, now: Time): DispatchState {
  const { downloadMs, runMs } = state.timeouts;
  let changed = false;
  const jobs = state.jobs.map((job): Job => {
    const quiet = now - (job.seen ?? now);
    const phase = job.phase;
    let next: Job = job;
    if ((phase.state === "assigned" || (phase.state === "downloading" && !downloaded(job))) && quiet >= downloadMs) {
      next = enter(job, { state: "unassigned" }, now);
    } else if (phase.state === "downloading" && quiet >= downloadMs) {
      next = enter(job, { state: "failed", ip: phase.ip, reason: `downloaded but no \`beacon boot\` within ${formatDuration(downloadMs)}` }, now);
    } else if (phase.state === "booting" && now - (job.entered.booting ?? now) >= runMs) {
      next = enter(job, { state: "failed", ip: phase.ip, reason: `booted but no report within ${formatDuration(runMs)}`, runTimeout: true }, now);
    }
    if (next !== job) changed = true;
    return next;
  });
  return changed ? { ...state, jobs } : state;
}

/**
 * A new process took over. Downloads in flight were cut when the old one died: their jobs are
 * free. A server that has its workload whole, or is running it, could not reach us while we
 * were down, so its quiet time starts over now rather than failing it for our absence. Filings
 * GitHub refused are tried again as if for the first time.
 */
function restarted(state: DispatchState, at: Time, timeouts: Timeouts): DispatchState {
  const jobs = state.jobs.map((job): Job => {
    const phase = job.phase;
    if (phase.state === "assigned" || (phase.state === "downloading" && !downloaded(job))) return enter(job, { state: "unassigned" }, at);
    if (phase.state === "downloading" || phase.state === "booting") return { ...job, seen: at };
    // A refusal was the old process's answer: this one may have another token or GitHub new settings.
    if ((phase.state === "reported" || phase.state === "failed") && phase.refused) {
      const { refused: _, ...rest } = phase;
      return { ...job, phase: rest };
    }
    return job;
  });
  return { ...state, jobs, timeouts };
}

function enter(job: Job, phase: Phase, at: Time): Job {
  return { ...job, phase, entered: { ...job.entered, [phase.state]: at }, seen: at };
}

function replaceJob(state: DispatchState, job: Job): DispatchState {
  return updateJob(state, job.workload.name, () => job);
}

function updateJob(state: DispatchState, name: string, change: (job: Job) => Job): DispatchState {
  let changed = false;
  const jobs = state.jobs.map((job) => {
    if (job.workload.name !== name) return job;
    const next = change(job);
    changed ||= next !== job;
    return next;
  });
  return changed ? { ...state, jobs } : state;
}
