import { formatDuration } from "./duration.ts";
import type { DispatchEvent, IssueKind } from "./events.ts";
import type { Attempt, DispatchState, ExtraReport, FiledIssue, Job, Late, Phase, Time, Timeouts } from "./job.ts";
import type { Server } from "./lab.ts";
import type { Outcome } from "./outcome.ts";
import type { Report } from "./report.ts";
import { bootRequestSeen, bootedSeen, consoleErrorSeen, decide, hungSeen, isQuarantined, noServerLeft, powerDone, powerObserved, repointAll, serverByIp, updateServer } from "./power.ts";
import { downloaded, heldBy, isDone, knownReport, lastRunBy, mayRun, mayRunOn } from "./selectors.ts";
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
  const result = stepQueue(state, event);
  if (!result.state.lab) return { state: failImpossible(result.state, event.at), outcome: result.outcome };
  return { state: labStep(result.state, event, result.outcome), outcome: result.outcome };
}

/**
 * With a lab: what the event means for its servers, then what follows from time and the whole
 * state (see power.ts). Every decision is in the state, so a replay reaches the same ones.
 */
function labStep(state: DispatchState, event: DispatchEvent, outcome: Outcome): DispatchState {
  switch (event.type) {
    case "boot-requested":
      state = bootRequestSeen(state, event.ip, outcome.kind === "serve", event.at);
      break;
    case "booted":
      if (outcome.kind === "booted" && !outcome.repeat) state = bootedSeen(state, event.ip, event.at);
      break;
    case "power-done":
      state = powerDone(state, event.server, event.id, event.ok, event.error, event.power, event.at);
      break;
    case "power-observed":
      state = powerObserved(state, event.server, event.power);
      break;
    case "server-address":
      // Learned once: an address a server by MAC asked from is its address for the run.
      state = updateServer(state, event.server, (s) => (s.ip === "" && !state.lab!.servers.some((o) => o.ip === event.ip) ? { ...s, ip: event.ip } : s));
      break;
    case "restarted":
      state = labRestarted(state, event.at);
      break;
    case "console-error":
      state = consoleErrorSeen(state, event.server, event.line, event.at);
      break;
    default:
      break;
  }
  state = failImpossible(releaseTakenOut(state, event.at), event.at);
  return decide(state, event.at, isDone(state), wantedFor(state));
}

/**
 * Whether a server that is off should come back: a job waits that it may run and no running
 * server may (each failed it already, or the job is not theirs to run), as when a retried job's
 * only other server was switched off.
 */
function wantedFor(state: DispatchState): (server: Server) => boolean {
  const waiting = state.jobs.filter((job) => job.phase.state === "unassigned");
  const running = (state.lab?.servers ?? []).filter((s) => s.health.state === "ok" && s.stage === "running");
  return (server) =>
    waiting.some((job) => mayRunOn(job, server.name) && !failedOn(job, server.ip) && running.every((r) => !mayRunOn(job, r.name) || failedOn(job, r.ip)));
}

/** An attempt that ended without a report, through the server's or the workload's fault. */
const failedAttempt = (a: Attempt) => a.endedAt !== undefined && !a.excused;

/** The job already failed on the server at this address. */
const failedOn = (job: Job, ip: string) => job.attempts.some((a) => a.ip === ip && failedAttempt(a));

function stepQueue(state: DispatchState, event: DispatchEvent): Step {
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
          if (event.gone && event.error !== undefined) return endAttempt(enter(job, { state: "failed", ip: event.ip, reason: event.error }, event.at), event.ip, event.at, event.error);
          const received = addSpan(job.phase.received, [event.start, event.start + event.sent]);
          let next: Job = { ...job, phase: { ...job.phase, received }, seen: event.at };
          if (downloaded(next) && !downloaded(job)) next = touchAttempt(next, event.ip, { downloadedAt: event.at });
          // GitHub could not deliver (asset gone, link expired, stream cut): the server cannot
          // boot this, so the job goes back to the queue for whichever server asks next. A job
          // the server already has whole is kept: the failure came after it needed anything.
          if (event.error !== undefined && event.upstream && !downloaded(next)) {
            return endAttempt(enter(job, { state: "unassigned" }, event.at), event.ip, event.at, `its source could not deliver it (${event.error})`, true);
          }
          return next;
        }),
      );

    case "booted":
      return booted(state, event.ip, event.at);

    case "reported":
      return reported(state, event.ip, event.report, event.at);

    case "issue-filed":
      return noted(updateJob(state, event.name, (job) => issueFiled(job, event.issue, event.for, event.at)));

    case "extra-filed":
      return noted(
        updateExtra(state, event.name, event.index, ({ lastError: _, refused: __, ...extra }) => ({ ...extra, filed: event.issue })),
      );

    case "extra-failed":
      return noted(
        updateExtra(state, event.name, event.index, ({ refused: _, ...extra }) => ({ ...extra, lastError: event.error, ...(event.permanent && { refused: true }) })),
      );

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

    // The lab's own events: labStep handles them.
    case "power-done":
    case "power-observed":
    case "console-error":
    case "server-address":
      return noted(state);

    default:
      return event satisfies never;
  }
}

/**
 * `beacon boot` belongs to the job the server last ran (see `lastRunBy`). It is taken while that
 * job is downloading or booting there, and also after dispatch gave up on it (freed or failed by a
 * timeout, or failed because the server asked the boot URL again): the workload is running, so the
 * job is booting again there, and a job the server was handed since goes back to the queue.
 */
function booted(state: DispatchState, ip: string, at: Time): Step {
  const job = lastRunBy(state, ip);
  const refuse = (reason: string): Step => ({ state, outcome: { kind: "not-mine", reason } });
  if (!job) return refuse(`${ip} was never handed a workload by this dispatch`);
  const phase = job.phase;
  const name = job.name;
  switch (phase.state) {
    case "reported":
    case "finished":
      return refuse(`${name}, the last workload ${ip} ran, has already reported`);
    case "assigned":
    case "downloading":
    case "booting":
      if (phase.ip !== ip) return refuse(`${name} went to ${phase.ip} after ${ip} went quiet`);
      if (phase.state === "assigned") return refuse(`${ip} asked for ${name} but has not downloaded it`);
      break;
    case "unassigned":
    case "failed":
      break;
    default:
      return phase satisfies never;
  }
  // A repeated `beacon boot` only counts as activity.
  if (phase.state === "booting") {
    const next = { ...job, seen: at };
    return { state: replaceJob(state, next), outcome: { kind: "booted", job: next, repeat: true } };
  }
  let next = state;
  const other = heldBy(next, ip);
  if (other && other !== job) next = replaceJob(next, endAttempt(enter(other, { state: "unassigned" }, at), ip, at, `${ip} went on running ${name}`, true));
  const revived = touchAttempt(enter(job, { state: "booting", ip }, at), ip, { bootedAt: at }, true);
  return { state: replaceJob(next, revived), outcome: { kind: "booted", job: revived } };
}

/**
 * A report is proof its workload ran: it belongs to the job the server last ran (see `lastRunBy`),
 * whatever dispatch had concluded about that job meanwhile (a late report after a timeout, a
 * report without `beacon boot`, a report after the server asked the boot URL again). The same
 * report sent again (beacon got no answer the first time) is recognised and changes nothing; a
 * second, different one is kept as an extra, filed as a comment on the job's issue.
 */
function reported(state: DispatchState, ip: string, report: Report, at: Time): Step {
  const job = lastRunBy(state, ip);
  if (!job) return { state, outcome: { kind: "not-mine", reason: `${ip} was never handed a workload by this dispatch` } };
  const phase = job.phase;
  if (phase.state === "reported" || phase.state === "finished") {
    if (knownReport(job, report)) return { state, outcome: { kind: "report-accepted", job, repeat: true } };
    const next: Job = { ...job, phase: { ...phase, extras: [...(phase.extras ?? []), { at, report }] } };
    return { state: replaceJob(state, next), outcome: { kind: "report-accepted", job: next, repeat: false, extra: true } };
  }
  const late: Late | undefined =
    phase.state === "failed"
      ? {
          failedAt: job.entered.failed ?? at,
          reason: phase.reason,
          ...(phase.runTimeout && { runTimeout: true as const }),
          ...(phase.issue && { failureIssue: phase.issue }),
        }
      : undefined;
  // A job another server took after this one went quiet ends there: its workload already ran.
  const holder = "ip" in phase && phase.ip !== undefined && phase.ip !== ip && phase.state !== "failed" ? phase.ip : undefined;
  const ended = holder ? endAttempt(job, holder, at, `${ip} reported it`, true) : job;
  const next = touchAttempt(enter(ended, { state: "reported", ip, report, ...(late && { late }) }, at), ip, {}, true);
  return { state: replaceJob(state, next), outcome: { kind: "report-accepted", job: next, repeat: false } };
}

/** What an issue GitHub took does to its job. */
function issueFiled(job: Job, issue: FiledIssue, kind: IssueKind | undefined, at: Time): Job {
  const phase = job.phase;
  if (phase.state === "reported") {
    // The failure's issue, filed just before a late report came: the report's issue names it.
    if (kind === "failure") return phase.late && !phase.late.failureIssue ? { ...job, phase: { ...phase, late: { ...phase.late, failureIssue: issue } } } : job;
    return enter(
      job,
      { state: "finished", ip: phase.ip, report: phase.report, issue, ...(phase.late && { late: phase.late }), ...(phase.extras && { extras: phase.extras }) },
      at,
    );
  }
  // A failure's own issue (`--file-failures`): the job stays failed, now with its issue.
  if (phase.state === "failed" && !phase.issue && kind !== "report") {
    const { lastError: _, refused: __, ...rest } = phase;
    return { ...job, phase: { ...rest, issue } };
  }
  return job;
}

function bootRequested(state: DispatchState, ip: string, download: boolean, at: Time): DispatchState {
  // A server taken out gets poweroff.efi, whatever it asks.
  if (isQuarantined(serverByIp(state, ip))) return state;
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
    state = replaceJob(state, runEnded(state, held, ip, at, reason));
  }

  const next = nextJobFor(state, ip);
  if (!next) return state; // nothing left: the edge hands out poweroff.efi
  const phase: Phase = download ? { state: "downloading", ip, bytes: 0, received: [] } : { state: "assigned", ip };
  const n = state.attemptCount + 1;
  return { ...replaceJob(state, { ...enter(next, phase, at), attempts: [...next.attempts, { n, ip, at }] }), attemptCount: n };
}

/**
 * The next job for a server: the first unassigned one in queue order that it may run (see
 * placement.ts). With a lab, a job that already failed on this server waits for another server
 * while one that may run it is still up to take it.
 */
function nextJobFor(state: DispatchState, ip: string): Job | undefined {
  const mine = state.jobs.filter((job) => job.phase.state === "unassigned" && mayRun(state, job, ip));
  const lab = state.lab;
  if (!lab) return mine[0];
  // Other servers up, or coming up (decided to power on for the very job this one failed).
  const comingUp = (s: Server) => s.pending?.action === "on" || s.pending?.action === "cycle";
  const up = lab.servers.filter((s) => s.ip !== ip && s.health.state === "ok" && ((s.stage !== "off" && s.stage !== "restored") || comingUp(s)));
  return mine.find((job) => !failedOn(job, ip) || !up.some((s) => mayRunOn(job, s.name)));
}

/**
 * A run ended without a report of its own (timed out, or the server asked for a new one).
 * Without a lab the job fails (unless its rule gives it retries). With one it goes back to the
 * queue while it has `retries` left (on another server where there is one), and fails after that.
 */
function runEnded(state: DispatchState, job: Job, ip: string, at: Time, reason: string, runTimeout = false): Job {
  const ended = endAttempt(job, ip, at, reason);
  // A job's own `retries` (its rule) holds with or without a lab; the run's only with one.
  const retries = job.placement?.limits?.retries ?? state.lab?.rules.retries ?? 0;
  const failures = ended.attempts.filter(failedAttempt).length;
  if (failures <= retries) return enter(ended, { state: "unassigned" }, at);
  const why = failures > 1 ? `${reason} (attempt ${failures} of ${retries + 1})` : reason;
  return enter(ended, { state: "failed", ip, reason: why, ...(runTimeout && { runTimeout: true as const }) }, at);
}

/**
 * Frees jobs whose server went quiet mid-download, fails (or, with a lab, retries) those that
 * never got further. With a lab, the server a job timed out on hung: it is cycled.
 */
function expire(state: DispatchState, now: Time): DispatchState {
  const hung: [ip: string, reason: string][] = [];
  let next = state;
  for (const job of state.jobs) {
    // A job's rule may give it its own limits (a 12-hour burn-in beside a 5-minute smoke test).
    const downloadMs = job.placement?.limits?.downloadMs ?? state.timeouts.downloadMs;
    const runMs = job.placement?.limits?.runMs ?? state.timeouts.runMs;
    const quiet = now - (job.seen ?? now);
    const phase = job.phase;
    if ((phase.state === "assigned" || (phase.state === "downloading" && !downloaded(job))) && quiet >= downloadMs) {
      const reason = `quiet for ${formatDuration(downloadMs)} mid-download`;
      // Without a lab a stalled download is only freed, as ever; with one it is an attempt like any other.
      next = replaceJob(next, state.lab ? runEnded(state, job, phase.ip, now, reason) : endAttempt(enter(job, { state: "unassigned" }, now), phase.ip, now, reason));
      hung.push([phase.ip, reason]);
    } else if (phase.state === "downloading" && quiet >= downloadMs) {
      const reason = `downloaded but no \`beacon boot\` within ${formatDuration(downloadMs)}`;
      next = replaceJob(next, runEnded(state, job, phase.ip, now, reason));
      hung.push([phase.ip, reason]);
    } else if (phase.state === "booting" && now - (job.entered.booting ?? now) >= runMs) {
      const reason = `booted but no report within ${formatDuration(runMs)}`;
      next = replaceJob(next, runEnded(state, job, phase.ip, now, reason, true));
      hung.push([phase.ip, reason]);
    }
  }
  for (const [ip, reason] of hung) next = hungSeen(next, ip, reason, now);
  return next;
}

/** A server taken out gives back the job it held: it runs elsewhere (or fails, with no retries left). */
function releaseTakenOut(state: DispatchState, at: Time): DispatchState {
  for (const server of state.lab?.servers ?? []) {
    if (server.health.state !== "quarantined") continue;
    const held = heldBy(state, server.ip);
    if (held) state = replaceJob(state, runEnded(state, held, server.ip, at, `its server ${server.name} was taken out: ${server.health.reason}`));
  }
  return state;
}

/**
 * Jobs waiting that no server can ever run fail at once rather than wait for ever: no server
 * matches their rule, every server they may run on was taken out, or every lab server was.
 */
function failImpossible(state: DispatchState, at: Time): DispatchState {
  for (const job of state.jobs) {
    if (job.phase.state !== "unassigned") continue;
    const reason = impossible(state, job);
    if (reason !== undefined) state = replaceJob(state, enter(job, { state: "failed", reason }, at));
  }
  return state;
}

function impossible(state: DispatchState, job: Job): string | undefined {
  const placement = job.placement;
  if (placement?.impossible !== undefined) return placement.impossible;
  const lab = state.lab;
  if (!lab) return undefined;
  const allowed = placement?.servers;
  if (allowed === undefined) {
    return noServerLeft(state) ? `no server left to run it: every lab server (${lab.servers.map((s) => s.name).join(", ")}) was taken out` : undefined;
  }
  // A server of the lab file without power control, or one outside it, is never taken out.
  const out = allowed.every((name) => isQuarantined(lab.servers.find((s) => s.name === name)));
  return out && allowed.length > 0 ? `every server it may run on (${allowed.join(", ")}) was taken out` : undefined;
}

/**
 * A decision to power on or cycle that was pending when dispatch stopped may have been carried
 * out: taking it as done never cycles a server twice for one timeout, and the boot timeout still
 * catches a server that did not come up. Other decisions are carried out again (they are safe to repeat).
 */
function labRestarted(state: DispatchState, at: Time): DispatchState {
  for (const server of state.lab?.servers ?? []) {
    const pending = server.pending;
    if (pending?.action !== "on" && pending?.action !== "cycle") continue;
    state = updateServer(state, server.name, (s) => {
      const { pending: _, ...rest } = s;
      const last = { id: pending.id, action: pending.action, ok: true, assumed: "dispatch stopped while it was being done", at };
      return { ...rest, stage: "running", awaitingBootSince: at, last };
    });
  }
  return repointAll(state, at);
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
    if (phase.state === "assigned" || (phase.state === "downloading" && !downloaded(job))) {
      return endAttempt(enter(job, { state: "unassigned" }, at), phase.ip, at, "its download was cut when dispatch stopped", true);
    }
    if (phase.state === "downloading" || phase.state === "booting") return { ...job, seen: at };
    // A refusal was the old process's answer: this one may have another token or GitHub new settings.
    if ((phase.state === "reported" || phase.state === "failed") && phase.refused) {
      const { refused: _, ...rest } = phase;
      return { ...job, phase: rest };
    }
    if (phase.state === "finished" && phase.extras?.some((extra) => extra.refused)) {
      const extras = phase.extras.map(({ refused: _, ...extra }) => extra);
      return { ...job, phase: { ...phase, extras } };
    }
    return job;
  });
  return { ...state, jobs, timeouts };
}

/**
 * Changes the server's latest attempt at the job. `resume`: the attempt goes on after all (its
 * workload booted or reported after dispatch had ended it), so its end is cleared.
 */
function touchAttempt(job: Job, ip: string, change: Partial<Attempt>, resume = false): Job {
  const i = job.attempts.findLastIndex((a) => a.ip === ip);
  if (i < 0) return job;
  const { endedAt: _, reason: __, excused: ___, ...open } = job.attempts[i]!;
  const next = { ...(resume ? open : job.attempts[i]!), ...change };
  return { ...job, attempts: job.attempts.map((a, k) => (k === i ? next : a)) };
}

/** The server's attempt at the job ended without a report of its own; `excused`: through no fault of theirs. */
function endAttempt(job: Job, ip: string, at: Time, reason: string, excused = false): Job {
  return touchAttempt(job, ip, { endedAt: at, reason, ...(excused && { excused: true as const }) });
}

function enter(job: Job, phase: Phase, at: Time): Job {
  return { ...job, phase, entered: { ...job.entered, [phase.state]: at }, seen: at };
}

function replaceJob(state: DispatchState, job: Job): DispatchState {
  return updateJob(state, job.name, () => job);
}

/** Changes second report `index` of job `name` while it waits to be filed; once filed, or on any other job, nothing. */
function updateExtra(state: DispatchState, name: string, index: number, change: (extra: ExtraReport) => ExtraReport): DispatchState {
  return updateJob(state, name, (job) => {
    const phase = job.phase;
    if (phase.state !== "finished" || !phase.extras?.[index] || phase.extras[index]!.filed) return job;
    return { ...job, phase: { ...phase, extras: phase.extras.map((extra, i) => (i === index ? change(extra) : extra)) } };
  });
}

function updateJob(state: DispatchState, name: string, change: (job: Job) => Job): DispatchState {
  let changed = false;
  const jobs = state.jobs.map((job) => {
    if (job.name !== name) return job;
    const next = change(job);
    changed ||= next !== job;
    return next;
  });
  return changed ? { ...state, jobs } : state;
}
