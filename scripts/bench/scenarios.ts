import { cpuSeconds } from "./cpu.ts";
import { type RunningDownload, startDownload } from "./curl.ts";
import { type DispatchProcess, startDispatchProcess } from "./dispatch-process.ts";
import { headLatencies } from "./head-latency.ts";
import type { BenchFile, Rig, RigAsset } from "./rig.ts";
import { median, quantile } from "./stats.ts";

export type BenchPlan = {
  /** One stream, dispatch / nginx proxy / direct in turn, `rounds` times. */
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

export type Path = "dispatch" | "nginx" | "direct";

export type StreamResult = {
  readonly clients: number;
  readonly bytesEach: number;
  /** Bytes per second: one stream's speed, or the aggregate of all streams. */
  readonly speed: Record<Path, number[]>;
  /** Per round, through / direct from the same round; the figure is their median. */
  readonly ratio: { readonly dispatch: number; readonly nginx: number; readonly dispatchRounds: number[]; readonly nginxRounds: number[] };
  /** CPU seconds the proxy spent per GiB it passed on (dispatch: its process; nginx: master + workers). */
  readonly cpuPerGiB: { readonly dispatch: number; readonly nginx: number };
  readonly failures: string[];
};

export type MultiResult = StreamResult & {
  /** Slowest client's bytes over the mean, sampled while all were still running (1 = perfectly fair). */
  readonly fairness: Record<Path, number[]>;
};

const order: Path[][] = [
  ["dispatch", "nginx", "direct"],
  ["direct", "dispatch", "nginx"],
  ["nginx", "direct", "dispatch"],
];

type Batch = { readonly seconds: number; readonly bytes: number; readonly fairness: number; readonly failures: string[]; readonly cpu: number };

/** Starts `count` downloads at once and waits for all; samples progress for fairness. */
async function batch(count: number, url: (i: number) => string, from: (i: number) => string, file: BenchFile, cpuPid?: number): Promise<Batch> {
  const cpuBefore = cpuPid === undefined ? 0 : cpuSeconds(cpuPid);
  const started = performance.now();
  const running = Array.from({ length: count }, (_, i) => startDownload(url(i), { from: from(i), expectBytes: file.size }));
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

async function withDispatch<T>(rig: Rig, filter: string, run: (dispatch: DispatchProcess) => Promise<T>): Promise<T> {
  const dispatch = await startDispatchProcess(rig.api, filter);
  try {
    return await run(dispatch);
  } finally {
    await dispatch.stop();
  }
}

/** Rounds of `clients` downloads through dispatch, through nginx and direct, in rotating order. */
async function compare(rig: Rig, filter: string, file: BenchFile, clients: number, rounds: number, subnet: number, log: (line: string) => void) {
  return withDispatch(rig, filter, async (dispatch) => {
    // Warm the storage host's page cache, so no path pays for the first read.
    await batch(1, () => rig.direct(file), () => "127.0.0.1", file);
    const speed: Record<Path, number[]> = { dispatch: [], nginx: [], direct: [] };
    const fairness: Record<Path, number[]> = { dispatch: [], nginx: [], direct: [] };
    const cpu = { dispatch: 0, nginx: 0 };
    const failures: string[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const path of order[round % order.length]!) {
        const url = path === "dispatch" ? () => dispatch.url : path === "nginx" ? () => rig.proxied(file) : () => rig.direct(file);
        // dispatch tells servers apart by address: every download through it is a new server.
        const from = (i: number) => `127.${subnet}.${round + 1}.${i + 1}`;
        const pid = path === "dispatch" ? dispatch.pid : path === "nginx" ? rig.proxy.pid : undefined;
        const result = await batch(clients, url, from, file, pid);
        speed[path].push(result.bytes / result.seconds);
        fairness[path].push(result.fairness);
        if (path !== "direct") cpu[path] += result.cpu;
        failures.push(...result.failures);
        log(`  round ${round + 1} ${path.padEnd(8)} ${(result.bytes / result.seconds / 1e6).toFixed(0).padStart(5)} MB/s${clients > 1 ? `, slowest/mean ${result.fairness.toFixed(2)}` : ""}`);
      }
    }
    const roundRatios = (path: "dispatch" | "nginx") => speed[path].map((s, i) => s / speed.direct[i]!);
    const gib = (clients * rounds * file.size) / 2 ** 30;
    const result: MultiResult = {
      clients,
      bytesEach: file.size,
      speed,
      ratio: { dispatch: median(roundRatios("dispatch")), nginx: median(roundRatios("nginx")), dispatchRounds: roundRatios("dispatch"), nginxRounds: roundRatios("nginx") },
      cpuPerGiB: { dispatch: cpu.dispatch / gib, nginx: cpu.nginx / gib },
      failures,
      fairness,
    };
    return result;
  });
}

export function singleStream(rig: Rig, plan: BenchPlan["single"], log: (line: string) => void): Promise<StreamResult> {
  return compare(rig, "single-", plan.file, 1, plan.rounds, 10, log);
}

export function manyStreams(rig: Rig, plan: BenchPlan["multi"], log: (line: string) => void): Promise<MultiResult> {
  return compare(rig, "multi-", plan.file, plan.clients, plan.rounds, 20, log);
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
