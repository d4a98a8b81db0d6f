import { cpuSeconds } from "./cpu.ts";
import { type RunningDownload, startDownload } from "./curl.ts";
import { type DispatchFeatures, type DispatchProcess, type DispatchSource, startDispatchProcess } from "./dispatch-process.ts";
import { headLatencies } from "./head-latency.ts";
import type { BenchFile, Rig, RigAsset } from "./rig.ts";
import { median, quantile } from "./stats.ts";

export type BenchPlan = {
  /** One stream along every path in turn, `rounds` times. */
  readonly single: { readonly file: BenchFile; readonly rounds: number };
  /** `clients` servers at once, each its own address and asset. */
  readonly multi: { readonly file: BenchFile; readonly clients: number; readonly rounds: number };
  /** Rate-limited clients: dispatch's memory while it holds back a fast upstream. */
  readonly slow: { readonly file: BenchFile; readonly rate: string; readonly clients: number };
  /** The same slow download of a small and a big asset: memory must not follow the size. */
  readonly growth: { readonly small: BenchFile; readonly big: BenchFile; readonly rate: string };
  /** HEAD latency while `downloads` streams run (unthrottled unless `rate`). */
  readonly head: HeadPlan;
  /** The same with the downloads held to a firmware-like pace, so dispatch is not CPU-bound. */
  readonly headPaced: HeadPlan;
};

export type HeadPlan = { readonly file: BenchFile; readonly requests: number; readonly downloads: number; readonly rate?: string };

/** The release the API stand-in serves: each scenario's assets, found by dispatch's name filter. */
export function planAssets(plan: BenchPlan): RigAsset[] {
  const many = (prefix: string, count: number, file: BenchFile) =>
    Array.from({ length: count }, (_, i) => ({ name: `${prefix}${String(i).padStart(3, "0")}`, file }));
  return [
    ...many("single-", plan.single.rounds, plan.single.file),
    ...many("multi-", plan.multi.clients * plan.multi.rounds, plan.multi.file),
    ...many("slow-", plan.slow.clients, plan.slow.file),
    ...many("growsmall-", 1, plan.growth.small),
    ...many("growbig-", 1, plan.growth.big),
    // One more than the downloads: the HEAD client holds a job of its own.
    ...many("head-", plan.head.downloads + 1, plan.head.file),
  ];
}

/**
 * The ways a download goes, each measured in every round. Over the plain storage host: dispatch
 * on a release, dispatch on a local folder (`--dir`), nginx and HAProxy (splicing) as reverse
 * proxies, and the storage host direct (nginx sendfile). Over the HTTPS storage host, as GitHub's
 * is: dispatch, nginx and HAProxy each decrypting it, and the storage host direct over HTTPS
 * (what it can send at all, on the same CPUs).
 */
export type Path = "dispatch" | "dispatchDir" | "nginx" | "haproxy" | "direct" | "dispatchTls" | "nginxTls" | "haproxyTls" | "directTls";
export const paths: readonly Path[] = ["dispatch", "dispatchDir", "nginx", "haproxy", "direct", "dispatchTls", "nginxTls", "haproxyTls", "directTls"];
/** dispatch on a release: a proxy over the storage host, so it is set beside HAProxy too (over the same storage host). */
export type ReleasePath = "dispatch" | "dispatchTls";
const releasePaths: readonly ReleasePath[] = ["dispatch", "dispatchTls"];
const haproxyFor: Record<ReleasePath, Path> = { dispatch: "haproxy", dispatchTls: "haproxyTls" };
/** The paths over the HTTPS storage host, each also set against it direct. */
export type TlsPath = "dispatchTls" | "nginxTls" | "haproxyTls";
export const tlsPaths: readonly TlsPath[] = ["dispatchTls", "nginxTls", "haproxyTls"];

export type ByPath<T> = Partial<Record<Path, T>>;

export type StreamResult = {
  readonly clients: number;
  readonly bytesEach: number;
  /** Paths not measured in this run, with the reason (e.g. this dispatch has no `--dir` yet). */
  readonly skipped: ByPath<string>;
  /** Bytes per second: one stream's speed, or the aggregate of all streams. */
  readonly speed: ByPath<number[]>;
  /** Per round, path / direct from the same round; the figure is their median. */
  readonly ratio: ByPath<number>;
  readonly ratioRounds: ByPath<number[]>;
  /** Per round, dispatch / HAProxy over the same storage host (splicing on plain HTTP: the practical limit of any proxy here), median. */
  readonly toHaproxy: Partial<Record<ReleasePath, number>>;
  /** Per round, each path over the HTTPS storage host / direct over HTTPS from the same round, median. */
  readonly toDirectTls: Partial<Record<TlsPath, number>>;
  /** CPU seconds each server spent per GiB it sent (dispatch: its process; nginx, HAProxy: all their processes and threads; direct: the storage host). */
  readonly cpuPerGiB: ByPath<number>;
  readonly failures: string[];
};

export type MultiResult = StreamResult & {
  /** Slowest client's bytes over the mean, sampled while all were still running (1 = perfectly fair). */
  readonly fairness: ByPath<number[]>;
};

/** Which optional paths this run can measure: `folder` is true, or why not (this dispatch has no `--dir` yet). */
export type PathSupport = { readonly folder: true | string; readonly features: DispatchFeatures };

type Batch = { readonly seconds: number; readonly bytes: number; readonly fairness: number; readonly failures: string[]; readonly cpu: number };

/** Starts `count` downloads at once and waits for all; samples progress for fairness. */
async function batch(count: number, url: (i: number) => string, from: (i: number) => string, file: BenchFile, cpuPid?: number, cacert?: string): Promise<Batch> {
  const cpuBefore = cpuPid === undefined ? 0 : cpuSeconds(cpuPid);
  const started = performance.now();
  const running = Array.from({ length: count }, (_, i) => startDownload(url(i), { from: from(i), expectBytes: file.size, cacert }));
  let finished = 0;
  const done = running.map((r) => r.done.finally(() => finished++));
  let lastFull: number[] | undefined;
  const sampler = setInterval(() => {
    const sample = running.map((r) => r.written());
    if (finished === 0) lastFull = sample;
  }, 100);
  const results = await Promise.all(done);
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuPid === undefined ? 0 : cpuSeconds(cpuPid) - cpuBefore;
  const fairness = lastFull && count > 1 ? Math.min(...lastFull) / (lastFull.reduce((a, b) => a + b, 0) / count) : Number.NaN;
  const failures = results.flatMap((r, i) => (r.ok ? [] : [`${url(i)} from ${from(i)}: status ${r.status}, ${r.bytes} of ${file.size} bytes`]));
  return { seconds, bytes: results.reduce((sum, r) => sum + r.bytes, 0), fairness, failures, cpu };
}

/** Runs `run` with one dispatch process per source, all stopped afterwards (also on failure). */
async function withDispatches<K extends string, T>(
  sources: Partial<Record<K, DispatchSource>>,
  filter: string,
  features: DispatchFeatures | undefined,
  run: (dispatches: Partial<Record<K, DispatchProcess>>) => Promise<T>,
): Promise<T> {
  const started: Partial<Record<K, DispatchProcess>> = {};
  try {
    for (const [key, source] of Object.entries(sources) as [K, DispatchSource][]) started[key] = await startDispatchProcess(source, filter, features);
    return await run(started);
  } finally {
    await Promise.all(Object.values<DispatchProcess | undefined>(started).map((d) => d?.stop()));
  }
}

function withDispatch<T>(rig: Rig, filter: string, run: (dispatch: DispatchProcess) => Promise<T>): Promise<T> {
  return withDispatches({ dispatch: { kind: "release", api: rig.api } }, filter, undefined, (d) => run(d.dispatch!));
}

/** Rounds of `clients` downloads along every path, in an order that rotates from round to round. */
async function compare(rig: Rig, support: PathSupport, filter: string, file: BenchFile, clients: number, rounds: number, subnet: number, log: (line: string) => void) {
  const skipped: ByPath<string> = support.folder === true ? {} : { dispatchDir: support.folder };
  const measured = paths.filter((p) => skipped[p] === undefined);
  const sources: Partial<Record<"dispatch" | "dispatchTls" | "dispatchDir", DispatchSource>> = {
    dispatch: { kind: "release", api: rig.api },
    dispatchTls: { kind: "release", api: rig.tlsApi, ca: rig.ca },
    ...(support.folder === true ? { dispatchDir: { kind: "folder", dir: rig.folder } as const } : {}),
  };
  return withDispatches(sources, filter, support.features, async (dispatches) => {
    // Warm the storage host's page cache, so no path pays for the first read.
    await batch(1, () => rig.direct(file), () => "127.0.0.1", file);
    const speed: ByPath<number[]> = Object.fromEntries(measured.map((p) => [p, []]));
    const fairness: ByPath<number[]> = Object.fromEntries(measured.map((p) => [p, []]));
    const cpu: ByPath<number> = {};
    const failures: string[] = [];
    const where = (path: Path): { url: (file: BenchFile) => string; pid?: number; cacert?: string } => {
      switch (path) {
        case "dispatch":
        case "dispatchTls":
        case "dispatchDir": {
          const d = dispatches[path]!;
          return { url: () => d.url, pid: d.pid };
        }
        case "nginx":
          return { url: rig.proxied, pid: rig.proxy.pid };
        case "haproxy":
          return { url: rig.haproxied, pid: rig.haproxy.pid };
        case "nginxTls":
          return { url: rig.proxiedTls, pid: rig.tlsProxy.pid };
        case "haproxyTls":
          return { url: rig.haproxiedTls, pid: rig.tlsHaproxy.pid };
        case "direct":
          return { url: rig.direct, pid: rig.storage.pid };
        case "directTls":
          return { url: rig.directTls, pid: rig.tlsStorage.pid, cacert: rig.ca };
      }
    };
    for (let round = 0; round < rounds; round++) {
      const order = [...measured.slice(round % measured.length), ...measured.slice(0, round % measured.length)];
      for (const path of order) {
        const { url, pid, cacert } = where(path);
        // dispatch tells servers apart by address: every download through it is a new server.
        // Each dispatch process has its own queue, so the paths of one round share addresses.
        const from = (i: number) => `127.${subnet}.${round + 1}.${i + 1}`;
        const result = await batch(clients, () => url(file), from, file, pid, cacert);
        speed[path]!.push(result.bytes / result.seconds);
        fairness[path]!.push(result.fairness);
        if (pid !== undefined) cpu[path] = (cpu[path] ?? 0) + result.cpu;
        failures.push(...result.failures);
        log(`  round ${round + 1} ${path.padEnd(11)} ${(result.bytes / result.seconds / 1e6).toFixed(0).padStart(5)} MB/s${clients > 1 ? `, slowest/mean ${result.fairness.toFixed(2)}` : ""}`);
      }
    }
    const perRound = (path: Path, base: Path) => speed[path]!.map((s, i) => s / speed[base]![i]!);
    const ratioRounds: ByPath<number[]> = Object.fromEntries(measured.map((p) => [p, perRound(p, "direct")]));
    const gib = (clients * rounds * file.size) / 2 ** 30;
    const result: MultiResult = {
      clients,
      bytesEach: file.size,
      skipped,
      speed,
      ratio: Object.fromEntries(measured.map((p) => [p, median(ratioRounds[p]!)])),
      ratioRounds,
      toHaproxy: Object.fromEntries(releasePaths.map((p) => [p, median(perRound(p, haproxyFor[p]))])),
      toDirectTls: Object.fromEntries(tlsPaths.map((p) => [p, median(perRound(p, "directTls"))])),
      cpuPerGiB: Object.fromEntries(Object.entries(cpu).map(([p, seconds]) => [p, seconds / gib])),
      failures,
      fairness,
    };
    return result;
  });
}

export function singleStream(rig: Rig, support: PathSupport, plan: BenchPlan["single"], log: (line: string) => void): Promise<StreamResult> {
  return compare(rig, support, "single-", plan.file, 1, plan.rounds, 10, log);
}

export function manyStreams(rig: Rig, support: PathSupport, plan: BenchPlan["multi"], log: (line: string) => void): Promise<MultiResult> {
  return compare(rig, support, "multi-", plan.file, plan.clients, plan.rounds, 20, log);
}

export type MemoryResult = {
  readonly clients: number;
  readonly bytesEach: number;
  readonly rate: string;
  /** Resident memory of the idle dispatch process before the downloads, in bytes. */
  readonly idle: number;
  /** Peak resident memory while they ran (VmHWM, reset just before), in bytes. */
  readonly peak: number;
  readonly seconds: number;
  readonly failures: string[];
};

/** Peak resident memory of a fresh dispatch while `clients` rate-limited downloads run. */
export function slowClients(rig: Rig, filter: string, file: BenchFile, clients: number, rate: string, subnet: number): Promise<MemoryResult> {
  return withDispatch(rig, filter, async (dispatch) => {
    const idle = dispatch.memory().rss;
    dispatch.resetPeak();
    let sampled = 0;
    const sampler = setInterval(() => (sampled = Math.max(sampled, dispatch.memory().rss)), 200);
    const started = performance.now();
    const running = Array.from({ length: clients }, (_, i) =>
      startDownload(dispatch.url, { from: `127.${subnet}.0.${i + 1}`, limitRate: rate, expectBytes: file.size }),
    );
    const results = await Promise.all(running.map((r) => r.done));
    clearInterval(sampler);
    const peak = Math.max(sampled, dispatch.memory().peak);
    const failures = results.flatMap((r, i) => (r.ok ? [] : [`slow client ${i + 1}: status ${r.status}, ${r.bytes} of ${file.size} bytes`]));
    return { clients, bytesEach: file.size, rate, idle, peak, seconds: (performance.now() - started) / 1000, failures };
  });
}

export type HeadResult = {
  readonly requests: number;
  readonly downloads: number;
  /** curl's --limit-rate for each download, if any. */
  readonly rate?: string;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** The same from an idle dispatch, before the downloads start (a tenth as many requests). */
  readonly idleP50: number;
  readonly idleP99: number;
  /** Downloads still running when the last HEAD was answered (all of them, or the load was gone). */
  readonly downloadsRunningAtEnd: number;
  /** What the downloads moved meanwhile, in bytes per second. */
  readonly downloadSpeed: number;
};

/**
 * HEAD latency while downloads run. A HEAD assigns a job to its address, so the client's
 * address holds one job (the first HEAD takes it) and every later HEAD is a retry of it:
 * the same work a firmware's repeated HEAD costs, without using up the queue.
 */
export function headUnderLoad(rig: Rig, plan: HeadPlan, log: (line: string) => void): Promise<HeadResult> {
  return withDispatch(rig, "head-", async (dispatch) => {
    const client = "127.40.1.1";
    const idle = await headLatencies(dispatch.url, client, Math.ceil(plan.requests / 10));
    const running: RunningDownload[] = Array.from({ length: plan.downloads }, (_, i) =>
      startDownload(dispatch.url, { from: `127.40.0.${i + 1}`, limitRate: plan.rate, expectBytes: plan.file.size, nice: true }),
    );
    let stillRunning = plan.downloads;
    for (const r of running) void r.done.finally(() => stillRunning--);
    try {
      // Past the first seconds, when 32 new streams start and the runtime compiles the hot path.
      await Bun.sleep(2000);
      const bytesBefore = running.reduce((sum, r) => sum + r.written(), 0);
      const started = performance.now();
      const latencies = await headLatencies(dispatch.url, client, plan.requests);
      const seconds = (performance.now() - started) / 1000;
      const moved = running.reduce((sum, r) => sum + r.written(), 0) - bytesBefore;
      const result: HeadResult = {
        requests: latencies.length,
        downloads: plan.downloads,
        rate: plan.rate,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: Math.max(...latencies),
        idleP50: quantile(idle, 0.5),
        idleP99: quantile(idle, 0.99),
        downloadsRunningAtEnd: stillRunning,
        downloadSpeed: moved / seconds,
      };
      log(`  ${result.requests} HEADs in ${seconds.toFixed(1)} s; downloads moved ${(result.downloadSpeed / 1e6).toFixed(0)} MB/s meanwhile`);
      return result;
    } finally {
      for (const r of running) r.stop();
      await Promise.all(running.map((r) => r.done));
    }
  });
}
