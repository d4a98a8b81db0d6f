import { type JobState, jobStates } from "../../core/job.ts";
import { stateDetail, stateEmoji } from "../../status/wording.ts";
import type { JobView, StatusView } from "../../status/view.ts";
import { fit, stringWidth } from "./cells.ts";
import { type Paint, plainPaint } from "./paint.ts";
import { progressBar } from "./progress-bar.ts";

/** Everything one frame of the live view shows. */
export type ScreenModel = {
  readonly status: StatusView;
  readonly now: number;
  /** Recent log lines, oldest first. */
  readonly messages: readonly string[];
  readonly width: number;
  readonly height: number;
};

const gap = "  ";
const seenWidth = 7; // "59m ago"
const sizeWidth = 8; // "1023 KiB"
const active: ReadonlySet<JobState> = new Set(["assigned", "downloading", "booting", "reported"]);

/**
 * One frame of the live view: `height` lines, each exactly `width` columns, except the last,
 * one column less: a terminal that draws an emoji wider than string-width says can then not
 * scroll the screen by writing past its last cell. Pure: the same model gives the same frame.
 */
export function renderScreen(model: ScreenModel, paint: Paint = plainPaint): string[] {
  const { status, width, height } = model;
  if (width < 2 || height < 1) return [];
  const footer = footerLines(model, paint);
  // Too short for a table: the counts, at the bottom where they always are.
  if (height < 5) return [...Array<string>(Math.max(0, height - footer.length)).fill(fit("", width)), ...footer].slice(-height);
  const header = headerLines(model, paint);
  const servers = serverLines(model, paint, Math.floor((height - header.length - footer.length) / 3));
  const room = height - header.length - footer.length - servers.length;

  // Messages get what the jobs leave, at least a little once the screen is tall enough.
  const wanted = Math.min(model.messages.length, 5);
  const spare = room - status.jobs.length - 1;
  const messageLines = room < 6 ? 0 : Math.min(wanted, Math.max(spare, Math.min(2, Math.floor(room / 4))));
  const jobRoom = room - (messageLines > 0 ? messageLines + 1 : 0);

  const body = jobRows(status.jobs, jobRoom, model, paint);
  while (body.length < jobRoom) body.push(fit("", width));
  if (messageLines > 0) {
    body.push(paint.dim("─ recent " + "─".repeat(Math.max(0, width - 9))));
    for (const line of model.messages.slice(-messageLines)) body.push(fit(line, width));
  }
  return [...header, ...body, ...servers, ...footer];
}

/**
 * The lab's servers (`--lab`), one line each under a rule: power, where it is in the run, the
 * job it holds, what is being done to it. At most `room` lines; the ones taken out come first.
 */
function serverLines({ status, width }: ScreenModel, paint: Paint, room: number): string[] {
  const servers = status.servers;
  if (!servers?.length || room < 2) return [];
  const ordered = [...servers].sort((a, b) => Number(b.health === "quarantined") - Number(a.health === "quarantined"));
  const shown = ordered.slice(0, room - 1).map((s) => {
    const doing = s.health === "quarantined" ? `⛔ taken out: ${s.reason}` : s.pending ? `${s.pending.action}: ${s.pending.reason}` : s.last && !s.last.ok ? `${s.last.action} failed: ${s.last.error}` : s.stage;
    const line = `${s.name}  ${s.power}  ${s.job ? `${s.job}  ` : ""}${doing}`;
    return s.health === "quarantined" ? paint.red(fit(line, width)) : fit(line, width);
  });
  return [paint.dim(fit(`─ servers ${"─".repeat(Math.max(0, width - 10))}`, width)), ...shown];
}

function headerLines({ status, now, width }: ScreenModel, paint: Paint): string[] {
  const run = status.run;
  const title = run ? `dispatch ${run.version} · ${run.source} → ${run.sink} · ${status.jobs.length} jobs` : "dispatch";
  const clock = new Date(now).toTimeString().slice(0, 8);
  const top = width > clock.length + 10 ? paint.bold(fit(title, width - clock.length - 1)) + " " + clock : paint.bold(fit(title, width));
  const columns = rowLayout(status.jobs, width);
  const titles = [
    "  ",
    fit("NAME", columns.name),
    fit("SERVER", columns.ip),
    ...(columns.compact ? [] : [fit("SEEN", seenWidth, "right"), fit("SIZE", sizeWidth, "right")]),
    "PROGRESS / DETAIL",
  ].join(gap);
  return [top, paint.dim(fit(titles, width))];
}

/** Boot URLs, then the count per state. The last line stays one column short (see above). */
function footerLines({ status, width }: ScreenModel, paint: Paint): string[] {
  const urls = status.run?.bootUrls ?? [];
  const page = urls[0] ? new URL("/", urls[0]).href : undefined;
  const boot = urls.length ? `boot ${urls.join("  ")}${page ? `  ·  page ${page}` : ""}` : "starting…";
  const counts = jobStates.map((state) => `${stateEmoji[state]} ${status.counts[state]}`).join("  ");
  const hint = "q quits";
  const last = width - 1;
  // The counts matter more than the hint: it goes first when the line is short.
  const room = last - hint.length - 2;
  const countsLine = stringWidth(counts) <= room ? fit(counts, room) + "  " + paint.dim(hint) : fit(counts, last);
  return [paint.cyan(fit(boot, width)), countsLine];
}

type Layout = { name: number; ip: number; detail: number; compact: boolean };

/** Column widths for a terminal this wide: names get what they need, up to about half. */
function rowLayout(jobs: readonly JobView[], width: number): Layout {
  const ip = Math.min(39, Math.max(6, ...jobs.map((j) => (j.ip ? j.ip.length : 0))));
  const natural = Math.max(4, ...jobs.map((j) => stringWidth(j.name)));
  for (const compact of [false, true]) {
    const fixed = 2 + gap.length + ip + gap.length + (compact ? 0 : seenWidth + sizeWidth + 2 * gap.length) + gap.length;
    const rest = width - fixed;
    const name = Math.min(natural, Math.max(10, Math.floor(rest * 0.45)));
    const detail = rest - name;
    if (detail >= 16 || compact) return { name: Math.max(1, name), ip, detail: Math.max(0, detail), compact };
  }
  throw new Error("unreachable");
}

/**
 * The rows that fit. With too little room, the jobs people are watching stay (those in
 * flight, then failures), then the next ones in the queue; finished jobs leave first, and
 * one line counts what is not shown. The rows keep queue order.
 */
function jobRows(jobs: readonly JobView[], room: number, model: ScreenModel, paint: Paint): string[] {
  if (room <= 0) return [];
  const layout = rowLayout(jobs, model.width);
  if (jobs.length <= room) return jobs.map((job) => jobRow(job, layout, model, paint));

  const rank = (job: JobView) => (active.has(job.state) ? 0 : job.state === "failed" ? 1 : job.state === "unassigned" ? 2 : 3);
  const latest = (job: JobView) => Date.parse(job.times[job.state] ?? "") || 0;
  const order = jobs
    .map((job, index) => ({ job, index }))
    .sort((a, b) => rank(a.job) - rank(b.job) || (rank(a.job) === 2 ? a.index - b.index : latest(b.job) - latest(a.job)));
  const shown = new Set(order.slice(0, room - 1).map((o) => o.index));
  const hidden: Record<string, number> = {};
  jobs.forEach((job, i) => {
    if (!shown.has(i)) hidden[job.state] = (hidden[job.state] ?? 0) + 1;
  });
  const more = jobStates.filter((s) => hidden[s]).map((s) => `${stateEmoji[s]} ${hidden[s]}`).join("  ");
  const rows = jobs.flatMap((job, i) => (shown.has(i) ? [jobRow(job, layout, model, paint)] : []));
  rows.push(paint.dim(fit(`   … ${jobs.length - shown.size} more: ${more}`, model.width)));
  return rows;
}

function jobRow(given: JobView, layout: Layout, { now, width, status }: ScreenModel, paint: Paint): string {
  // A booted job's server with a console: its last line says what the workload is doing.
  const line = given.state === "booting" ? status.servers?.find((s) => s.ip === given.ip)?.console?.line : undefined;
  const job = line ? { ...given, detail: `${given.detail} › ${line}` } : given;
  const cells = [
    fit(stateEmoji[job.state], 2),
    fit(job.name, layout.name),
    fit(job.ip ?? "", layout.ip),
    ...(layout.compact ? [] : [fit(job.seen ? `${age(now - Date.parse(job.seen))} ago` : "", seenWidth, "right"), fit(job.text.size, sizeWidth, "right")]),
  ];
  const row = cells.join(gap) + gap;
  return row + detail(job, Math.max(0, width - stringWidth(row)), now, paint);
}

/** The last column: the job's detail as every view words it, with a bar while it downloads. */
function detail(job: JobView, width: number, now: number, paint: Paint): string {
  const since = (state: JobState) => {
    const at = job.times[state];
    return at ? ` ${age(now - Date.parse(at))} ago` : "";
  };
  const text = stateDetail(job, since);
  switch (job.state) {
    case "unassigned":
      return paint.dim(fit(text, width));
    case "downloading": {
      if (job.downloaded) return fit(text, width);
      const bytes = job.bytes ?? 0;
      const fraction = job.size > 0 ? bytes / job.size : 1;
      const pct = `${Math.floor(Math.min(1, fraction) * 100)}%`.padStart(4);
      const rate = job.text.rate ?? "";
      const tail = ` ${pct} ${rate.padStart(10)}`;
      const barWidth = Math.min(30, width - tail.length);
      if (barWidth < 4) return fit(`${pct.trim()} ${rate}`, width);
      const bar = progressBar(fraction, barWidth);
      return paint.green(bar.filled) + paint.dim(bar.empty) + fit(tail, width - barWidth);
    }
    case "reported":
      return job.error ? paint.yellow(fit(text, width)) : fit(text, width);
    case "finished":
      return paint.green(fit(text, width));
    case "failed":
      return paint.red(fit(text, width));
    case "assigned":
    case "booting":
      return fit(text, width);
    default:
      return job.state satisfies never;
  }
}

/** "4s", "12m", "3h", "2d": coarse, for a column that has to stay narrow. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
