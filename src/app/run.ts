import { hostname } from "node:os";
import { countByState, filingRefused, refusedExtras } from "../core/selectors.ts";
import { summaryRows, tally } from "../core/summary.ts";
import { createFilingOctokit } from "../github/client.ts";
import { summaryIssueApi } from "../github/summary-issue.ts";
import { startMdns } from "../mdns/start-mdns.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Output } from "../ui/output.ts";
import { version } from "../version.ts";
import { type DispatchConfig, githubTarget } from "./config.ts";
import { locateGitHubApi } from "./github-api.ts";
import { type Unfiled, keepUnfiled } from "./kept-reports.ts";
import { serve } from "./serve.ts";
import { attachSinks } from "./sinks/attach.ts";
import { issuesSink } from "./sinks/issues.ts";
import { attachSummaries } from "./sinks/summary.ts";
import { reportFilesSink } from "./sinks/report-files.ts";
import { folderSource } from "./sources/folder.ts";
import { releaseSource } from "./sources/release.ts";
import { openState, recordRestart, stateDirOf } from "./state.ts";
import { readNeighbours } from "../lab/neighbours.ts";
import { addressLearner, openLab } from "./lab.ts";
import { startPowerRunner } from "./power-runner.ts";
import { initialLab } from "../core/lab.ts";
import { createConsoleBook } from "../console/book.ts";
import { startCapture } from "../console/capture.ts";
import { planRun } from "./placement.ts";

export type Run = {
  /** The port actually bound (port 0 resolves to a real port). */
  readonly port: number;
  /** The state folder in use. */
  readonly stateDir: string;
  /**
   * Resolves once every job is finished or failed and nothing is left to file, or only what
   * GitHub refuses for good (`unfiled`, their texts kept in the state folder) (`--exit-when-done`).
   */
  readonly settled: Promise<Settled>;
  /**
   * The one shutdown sequence, in this order: the live view closes; the clock stops; serving
   * stops and the mDNS goodbye goes out together (downloads are cut at once, reports in flight
   * finish and are filed, for up to the `stopGraceMs` limit or until `hurry`); the sinks detach
   * (filer, read models, log, journal); the journal is flushed and closed; the state folder's
   * lock is released.
   */
  stop(): Promise<void>;
  /** Cuts short what a stop waits for (reports in flight, their filing): a second Ctrl-C. */
  hurry(): void;
};

export type Settled = {
  readonly finished: number;
  readonly failed: number;
  /** Reports that carry a `--fail-label`: failed tests, though their jobs finished. */
  readonly labelled: number;
  readonly unfiled: readonly Unfiled[];
  /** Lab servers taken out during the run, with why. */
  readonly takenOut: readonly string[];
};

/**
 * Starts a run in five phases: load the queue from the source (and check the sink can take
 * reports), open the state (journal and replay), attach the sinks in their order, serve,
 * announce. Throws with a readable message.
 */
export async function startDispatch(given: DispatchConfig, runtime: Runtime, out: Output): Promise<Run> {
  const now = () => Date.now();
  const userAgent = `dispatch/${version}`;
  // Only a run that talks to GitHub asks where its API is: a folder-to-folder run needs no network.
  const usesGitHub = given.dir === undefined || given.reportsDir === undefined;
  const config = usesGitHub ? await locateGitHubApi(given, userAgent, out) : given;

  // 1. The queue: a folder's files (--dir) or a release's assets; and the sink: a folder
  // (--reports) or GitHub issues, whose word that reports can be filed at all comes before
  // anything is served. A --reports folder that cannot be made is refused here too.
  const source = config.dir !== undefined ? await folderSource(config.dir, config.filters, runtime.files, out) : await releaseSource(config, userAgent, out);
  if (config.dir !== undefined && config.reportsDir !== undefined) {
    out.info("no GitHub token needed: the workloads come from a folder and the reports go to a folder");
  }
  const stateDir = stateDirOf(config, source, runtime);
  // The lab's consoles, kept in the state folder: the sink ends failures with their last lines.
  const consoles = config.lab !== undefined ? createConsoleBook(runtime.files, stateDir) : undefined;
  const consoleInReports = config.consoleInReports ?? false;
  const sink =
    config.reportsDir !== undefined
      ? await reportFilesSink({ dir: config.reportsDir, files: runtime.files, source: source.label, stateDir, version, ...(consoles && { consoles }), consoleInReports })
      : issuesSink({ config, userAgent, log: out, context: source.context, ...(consoles && { consoles }), consoleInReports });
  await sink.check();
  out.info(`reports go to ${sink.label}`);

  // 1b. The lab (--lab): each BMC checked before anything is served; the ones that cannot be
  // controlled are left out, the run goes on with the rest.
  const lab = await openLab(config, runtime, out);
  const closeLab = async () => lab && (await Promise.all(lab.servers.map((s) => s.driver.close().catch(() => {}))));
  const consoleSpecs = lab?.servers.flatMap((s) => (s.console ? [s.console] : [])) ?? [];

  // Which server runs what: the lab file's rules and the assets' labels, worked out once.
  const plan = planRun(source.workloads, lab, out);

  // 2. The state: the journal replayed onto the queue (and the lab's servers).
  const powered = lab && lab.servers.length > 0 ? initialLab(lab.servers.map((s) => s.checked), lab.rules) : undefined;
  const state = await openState(config, source, stateDir, runtime, out, now, powered, plan).catch(
    async (error: unknown) => {
      await closeLab();
      throw error;
    },
  );
  const { store } = state;
  // Addresses from the lab's state: a server given by MAC has its own learned when it first asks.
  consoles?.register(
    consoleSpecs.map((s) => ({ name: s.server, ip: s.ip })),
    () => store.state.lab?.servers ?? [],
  );

  // 3. The sinks, with the restart recorded where they all see it.
  const fileFailures = config.fileFailures ?? false;
  const sinks = attachSinks({
    store,
    journal: state.journal,
    log: out,
    sink,
    run: { source: source.label, sink: sink.label, version },
    now,
    fileFailures,
    ...(config.retryDelayMs && { retryDelayMs: config.retryDelayMs }),
    ...(config.refusedDelayMs && { refusedDelayMs: config.refusedDelayMs }),
    catchUp: () => recordRestart(state, config, out, now),
    ...(consoles && { consoleLast: consoles.last }),
  });

  // The run's summary (SUMMARY.md, JUnit, summary issue, GitHub Actions), where asked for.
  const letGo = async (error: unknown): Promise<never> => {
    await closeLab();
    sinks.stop();
    await state.journal.close();
    await state.lock.release();
    throw error;
  };
  const failLabels = config.failLabels ?? [];
  const summaries = await attachSummaries({
    store,
    files: runtime.files,
    env: runtime.env,
    log: out,
    now,
    source,
    run: { started: state.created, resumed: state.replayed !== undefined },
    fileFailures,
    failLabels,
    stateDir,
    version,
    hostname: hostname(),
    ...(config.junit !== undefined && { junit: config.junit }),
    ...(config.reportsDir !== undefined && { reportsDir: config.reportsDir }),
    ...(config.summaryIssue && { issue: summaryIssueTarget(config, userAgent, out) }),
  }).catch(letGo);

  // 4. Serve. (A bind that fails lets go of the state folder: a test or a retry may take it next.)
  const identify = lab?.servers.some((s) => s.checked.ip === "") ? addressLearner(store, () => readNeighbours(runtime), now) : undefined;
  const serving = await serve(config, { store, source, sinks, durable: state.journal.durable, runtime, log: out, now, stateDir: state.stateDir, ...(identify && { identify }), ...(consoles && { consoles }) }).catch(
    async (error: unknown) => {
      summaries.stop();
      return letGo(error);
    },
  );
  const unfollow = out.follow?.(sinks.status);

  // 4b. The consoles, read from before the first power-on; then the power edge, which carries out
  // the lab's decisions, from the first (point every server here).
  const capture =
    consoles && consoleSpecs.length
      ? startCapture({
          runtime,
          store,
          book: consoles,
          consoles: consoleSpecs,
          log: out,
          now,
          ...(config.consoleRestartMs !== undefined && { restartDelayMs: () => config.consoleRestartMs! }),
        })
      : undefined;
  const power =
    lab && lab.servers.length > 0
      ? startPowerRunner({
          store,
          servers: lab.servers,
          bootUrl: serving.urls[0] ?? "",
          now,
          log: out,
          durable: state.journal.durable,
          ...(config.powerPollMs && { pollMs: config.powerPollMs }),
        })
      : undefined;

  // 5. Announce.
  const mdns = config.mdns
    ? await startMdns({
        bindHost: config.bind.hostname,
        port: serving.server.port,
        interfaces: config.mdnsInterfaces ?? [],
        path: config.path,
        version,
        // The TXT record cuts a long one (a deep folder path) to fit its 255 bytes.
        description: `dispatch: workloads from ${source.label}, reports to ${sink.label}`,
        log: out,
      })
    : undefined;

  const settled = sinks.settled.then(async (): Promise<Settled> => {
    const counts = countByState(store.state);
    const unfiled = await keepUnfiled(runtime.files, stateDir, store.state.jobs.filter((job) => filingRefused(job) || refusedExtras(job).length > 0), source.context);
    const takenOut = (store.state.lab?.servers ?? []).flatMap((s) => (s.health.state === "quarantined" ? [`${s.name}: ${s.health.reason}`] : []));
    return { finished: counts.finished, failed: counts.failed, labelled: tally(summaryRows(store.state, failLabels)).labelled, unfiled, takenOut };
  });

  let stopping: Promise<void> | undefined;
  const hurry = new AbortController();
  return {
    port: serving.server.port,
    stateDir: state.stateDir,
    settled,
    stop() {
      stopping ??= (async () => {
        unfollow?.();
        // Servers stay as they are: a restart on the same state resumes watching them.
        power?.stop();
        capture?.stop();
        const bound = AbortSignal.any([hurry.signal, AbortSignal.timeout(serving.graceMs)]);
        // The goodbye goes out with the server stop, before the caller exits, so browsers drop dispatch at once.
        await Promise.all([mdns?.stop(), serving.stop(bound)]);
        await sinks.filed(bound, (names) => out.info(`stopping: waiting for the filing of ${names.join(", ")} to finish (Ctrl-C or SIGTERM again stops at once)`));
        // Nothing changes from here on: the summary's last word (JUnit complete, issue edited, Actions outputs).
        await summaries.finish();
        summaries.stop();
        sinks.stop();
        // The BMC sessions end last among the lab edges: nothing asks a BMC from here on.
        await closeLab();
        await capture?.close();
        await state.journal.close();
        await state.lock.release();
      })();
      return stopping;
    },
    hurry: () => hurry.abort(),
  };
}

/** The summary issue's GitHub side: the repository's issues, written one at a time within GitHub's pacing. */
function summaryIssueTarget(config: DispatchConfig, userAgent: string, out: Output) {
  const { owner, repo, token } = githubTarget(config, "--summary-issue");
  const octokit = createFilingOctokit({ apiUrl: config.apiUrl, owner, repo, token, userAgent }, out, config.github);
  return { api: summaryIssueApi(octokit, owner, repo), ...(config.summaryPacing ?? { batchMs: 10_000, spacingMs: 1000 }) };
}
