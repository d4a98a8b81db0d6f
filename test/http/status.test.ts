import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { type TestDispatch, startTestDispatch, until } from "../support/dispatch.ts";
import { http, text } from "../support/http-client.ts";
import { labServer } from "../support/lab.ts";
import { openEvents } from "../support/sse.ts";
import { efi, img, iso } from "../support/workloads.ts";

type Job = {
  name: string;
  state: string;
  ip: string | null;
  bytes: number | null;
  downloaded: boolean;
  rate: number | null;
  title: string | null;
  reason: string | null;
  error: string | null;
  issue: { number: number; url: string } | null;
  seen: string | null;
  times: Record<string, string>;
};
type Status = { jobs: Job[]; counts: Record<string, number>; now: string; run: { source: string; sink: string; bootUrls: string[] } };

const assets = [efi("a.efi", 200_000), iso("b.iso", 1_500_000), img("c.img", 30_000)];
let gh: FakeGitHub;
let d: TestDispatch;
let base: string;
beforeAll(async () => {
  gh = await startFakeGitHub({ releases: [{ tag: "v1", assets }] });
  d = await startTestDispatch(gh);
  base = `http://127.0.0.1:${d.port}`;
});
afterAll(async () => {
  await d?.stop();
  await gh?.stop();
});

const status = async () => (await (await fetch(`${base}/api/status`)).json()) as Status;
const jobOf = (s: { jobs: Job[] }, name: string) => s.jobs.find((j) => j.name === name);
const metrics = async () => {
  const reply = await fetch(`${base}/metrics`);
  expect(reply.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const families = parsePrometheusTextFormat(await reply.text());
  return (name: string, labels: Record<string, string> = {}) => {
    const family = families.find((f) => f.name === name);
    if (!family) throw new Error(`no metric ${name}`);
    const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => (m as { labels?: Record<string, string> }).labels?.[k] === v));
    return Number((sample as { value: string }).value);
  };
};

describe("the status page", () => {
  test("is served by dispatch with everything it loads, and loads nothing from elsewhere", async () => {
    const page = await http(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(page.headers["content-security-policy"]).toContain("connect-src 'self'");
    const html = text(page);
    const linked = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(linked).toEqual(expect.arrayContaining(["/assets/status.js", "/assets/status.css", "/assets/favicon.svg"]));
    for (const path of linked) expect(path).toStartWith("/"); // same origin, every one
    const bodies = [html];
    for (const [path, type] of [
      ["/assets/status.js", "text/javascript"],
      ["/assets/status.css", "text/css"],
      ["/assets/favicon.svg", "image/svg+xml"],
    ] as const) {
      const reply = await http(`${base}${path}`);
      expect(reply.status).toBe(200);
      expect(reply.headers["content-type"]).toStartWith(type);
      bodies.push(text(reply));
    }
    for (const body of bodies) {
      expect(body).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
      expect(body).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//i);
      expect(body).not.toMatch(/@import|importScripts|\bimport\(/);
    }
    expect(bodies[1]).toContain('new EventSource("/api/events")');
  });
});

describe("a job's life, watched through the event stream, the JSON and the metrics", () => {
  test("the stream opens with the whole status, then each change shows up in it", async () => {
    const stream = await openEvents(`${base}/api/events`);
    try {
      expect(stream.response.headers.get("content-type")).toStartWith("text/event-stream");
      const first = await stream.next();
      expect(first.event).toBe("status");
      const initial = JSON.parse(first.data) as Status;
      expect(initial.jobs.map((j) => [j.name, j.state])).toEqual([
        ["a.efi", "unassigned"],
        ["b.iso", "unassigned"],
        ["c.img", "unassigned"],
      ]);
      expect(initial.run).toMatchObject({ source: `${gh.owner}/${gh.repo} release v1`, sink: `issues of ${gh.owner}/${gh.repo}`, bootUrls: [d.url] });

      const server = labServer(d.url, "127.0.0.2");
      const shows = async (state: string) => {
        const event = await stream.next((e) => e.event === "jobs" && jobOf(JSON.parse(e.data), "a.efi")?.state === state);
        return JSON.parse(event.data) as { jobs: Job[]; counts: Record<string, number>; now: string };
      };
      expect((await server.head()).status).toBe(200);
      const assigned = await shows("assigned");
      expect(assigned.jobs.map((j) => j.name)).toEqual(["a.efi"]); // only what changed
      expect(assigned.counts).toMatchObject({ unassigned: 2, assigned: 1 });
      expect(jobOf(assigned, "a.efi")!.ip).toBe("127.0.0.2");

      expect((await server.get()).body.byteLength).toBe(200_000);
      const downloaded = await stream.next((e) => e.event === "jobs" && jobOf(JSON.parse(e.data), "a.efi")?.downloaded === true);
      expect(jobOf(JSON.parse(downloaded.data), "a.efi")).toMatchObject({ state: "downloading", bytes: 200_000 });

      // GitHub refuses the first filing: the job stays reported, with the error, and is retried.
      gh.faults.failNext.push({ route: "issue", status: 422, times: 1 });
      expect((await server.boot()).status).toBe(200);
      await shows("booting");
      expect((await server.report({ title: "memtest passed" })).status).toBe(200);
      // (Updates to a watcher are merged, so "reported" and its failed filing may come as one.)
      const retrying = await stream.next((e) => e.event === "jobs" && !!jobOf(JSON.parse(e.data), "a.efi")?.error);
      expect(jobOf(JSON.parse(retrying.data), "a.efi")).toMatchObject({ state: "reported", title: "memtest passed" });
      expect(jobOf(JSON.parse(retrying.data), "a.efi")!.error).toContain("422");
      const finished = await shows("finished");
      expect(jobOf(finished, "a.efi")!.issue).toEqual({ number: 1, url: gh.issues[0]!.html_url });
      expect(finished.counts).toMatchObject({ finished: 1, unassigned: 2 });
    } finally {
      stream.close();
    }
  }, 30_000);

  test("/api/status has progress, timestamps, failure reasons and the issue's URL", async () => {
    // b.iso: the first 1000 bytes only. c.img: downloaded, then the server asks again: failed.
    const partial = await http(d.url, { from: "127.0.0.3", headers: { range: "bytes=0-999" } });
    expect(partial.status).toBe(206);
    const c = labServer(d.url, "127.0.0.4");
    expect((await c.get()).body.byteLength).toBe(30_000);
    await c.head();

    const s = await status();
    expect(Date.parse(s.now)).toBeGreaterThan(0);
    const a = jobOf(s, "a.efi")!;
    expect(a.state).toBe("finished");
    expect(a.issue!.url).toBe(gh.issues[0]!.html_url);
    expect(Object.keys(a.times)).toEqual(["assigned", "downloading", "booting", "reported", "finished"]);
    for (const at of Object.values(a.times)) expect(new Date(at).toISOString()).toBe(at);
    expect(Date.parse(a.seen!)).toBe(Date.parse(a.times.finished!));

    expect(jobOf(s, "b.iso")).toMatchObject({ state: "downloading", ip: "127.0.0.3", bytes: 1000, downloaded: false, reason: null });
    expect(jobOf(s, "c.img")).toMatchObject({ state: "failed", ip: "127.0.0.4", bytes: null });
    expect(jobOf(s, "c.img")!.reason).toContain("never sent `beacon boot`");
    expect(s.counts).toEqual({ unassigned: 0, assigned: 0, downloading: 1, booting: 0, reported: 0, finished: 1, failed: 1 });
  });

  test("/metrics counts jobs per state, bytes served, downloads in flight and filings", async () => {
    let m = await metrics();
    expect(m("dispatch_jobs", { state: "finished" })).toBe(1);
    expect(m("dispatch_jobs", { state: "failed" })).toBe(1);
    expect(m("dispatch_jobs", { state: "downloading" })).toBe(1);
    expect(m("dispatch_served_bytes_total")).toBe(200_000 + 1000 + 30_000);
    expect(m("dispatch_downloads_in_flight")).toBe(0);
    expect(m("dispatch_reports_received_total")).toBe(1);
    expect(m("dispatch_reports_filed_total")).toBe(1);
    expect(m("dispatch_report_filing_failures_total")).toBe(1);

    // A slow download is in flight until it ends.
    gh.faults.storageBytesPerSecond = 200_000;
    const download = http(d.url, { from: "127.0.0.3", timeoutMs: 30_000 });
    try {
      await until(async () => (m = await metrics())("dispatch_downloads_in_flight") === 1, "the download to show as in flight");
      const moving = (await status()).jobs.find((j) => j.name === "b.iso")!;
      expect(moving.state).toBe("downloading");
    } finally {
      gh.faults.storageBytesPerSecond = undefined;
    }
    expect((await download).body.byteLength).toBe(1_500_000);
    m = await metrics();
    expect(m("dispatch_downloads_in_flight")).toBe(0);
    expect(m("dispatch_served_bytes_total")).toBe(200_000 + 1000 + 30_000 + 1_500_000);
  });
});

describe("many watchers", () => {
  test("all see a change; closed streams are let go", async () => {
    const watchers = await Promise.all(Array.from({ length: 25 }, () => openEvents(`${base}/api/events`)));
    try {
      for (const w of watchers) expect((await w.next()).event).toBe("status");
      expect((await metrics())("dispatch_status_watchers")).toBe(25);
      // b.iso is complete: `beacon boot` moves it on, and every watcher hears of it.
      expect((await labServer(d.url, "127.0.0.3").boot()).status).toBe(200);
      for (const w of watchers) await w.next((e) => e.event === "jobs" && jobOf(JSON.parse(e.data), "b.iso")?.state === "booting");
    } finally {
      for (const w of watchers) w.close();
    }
    await until(async () => (await metrics())("dispatch_status_watchers") === 0, "closed watchers to be let go");
  });
});

describe("refused beacon calls leave a trace", () => {
  test("each 417 is a log line with its reason, a count in /metrics, and an entry on the page's feed and the JSON", async () => {
    const before = await metrics();
    const events = await openEvents(`${base}/api/events`);
    try {
      await events.next((e) => e.event === "status");
      const boot = await http(d.url, { method: "POST", from: "127.0.0.77" });
      expect(boot.status).toBe(417);
      const report = await http(d.url, { method: "PUT", from: "127.0.0.77", body: JSON.stringify({ title: "stray" }) });
      expect(report.status).toBe(417);
      expect(text(report)).toContain("127.0.0.77 was never handed a workload by this dispatch");
      await until(() => d.lines.some((l) => l.includes("report from 127.0.0.77 refused: 127.0.0.77 was never handed a workload")), "the log line");
      expect(d.lines.some((l) => l.includes("boot from 127.0.0.77 refused:"))).toBe(true);
      const after = await metrics();
      expect(after("dispatch_beacon_refused_total", { call: "boot" })).toBe(before("dispatch_beacon_refused_total", { call: "boot" }) + 1);
      expect(after("dispatch_beacon_refused_total", { call: "report" })).toBe(before("dispatch_beacon_refused_total", { call: "report" }) + 1);
      const update = JSON.parse((await events.next((e) => e.event === "jobs")).data) as { refused: { ip: string; call: string; reason: string }[] };
      expect(update.refused.filter((r) => r.ip === "127.0.0.77").map((r) => r.call)).toContain("boot");
      const json = (await status()) as Status & { refused: { ip: string; call: string }[] };
      expect(json.refused.filter((r) => r.ip === "127.0.0.77").map((r) => r.call)).toEqual(["boot", "report"]);
    } finally {
      events.close();
    }
  });
});
