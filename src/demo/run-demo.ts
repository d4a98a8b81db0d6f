/**
 * `dispatch demo`: the whole loop on one machine with nothing to configure. It writes the sample
 * workloads into a folder, serves them on loopback with the reports going to files (no GitHub,
 * no mDNS), boots them on a QEMU/OVMF VM (or, where there is none, plays the servers itself on
 * loopback), and stops once every server is off and every report is written.
 */

import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { DispatchConfig } from "../app/config.ts";
import { type Run, type Settled, startDispatch } from "../app/run.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Output } from "../ui/output.ts";
import { playServer } from "./loopback.ts";
import { samples } from "./samples.ts";
import { findVm, guestBootUrl, runVm } from "./vm.ts";

export type DemoOptions = {
  /** Where the workloads, reports, state and VM files go; a new temporary folder when unset. */
  readonly folder?: string;
  /** false: play the servers on loopback even where QEMU is installed (--no-vm). */
  readonly vm: boolean;
  /** 0: any free port. */
  readonly port: number;
};

const PATH = "/dispatch";
/** The played servers' addresses: other loopback addresses, as other machines would be. */
const LOOPBACK_SERVERS = ["127.0.0.2", "127.0.0.3"];
/** A VM that is not off by then is stopped (TCG boots take about 10 s each; slow CI more). */
const VM_BOUND_MS = 5 * 60_000;
/** After the last server is off, how long the last reports may take to be written. */
const SETTLE_MS = 30_000;

export type Demo = Run & {
  /** Once every server is off (or stopped) and the run settled (or not in time): the exit status and last lines. */
  readonly over: Promise<{ readonly code: number; readonly lines: readonly { readonly warn?: boolean; readonly text: string }[] }>;
};

/** A port no one listens on now, for the boot URL the samples carry (they need it before dispatch starts). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok, fail) => server.once("error", fail).listen(0, "127.0.0.1", ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (address === null || typeof address === "string") throw new Error("could not find a free port on 127.0.0.1");
  return address.port;
}

export async function startDemo(options: DemoOptions, runtime: Runtime, out: Output): Promise<Demo> {
  const folder = resolve(options.folder ?? (await mkdtemp(join(tmpdir(), "dispatch-demo-"))));
  const dirs = { workloads: join(folder, "workloads"), reports: join(folder, "reports"), state: join(folder, "state"), vm: join(folder, "vm") };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  const port = options.port || (await freePort());
  const sampleList = samples(guestBootUrl(port, PATH));
  for (const sample of sampleList) await writeFile(join(dirs.workloads, sample.name), sample.bytes);

  const vm = options.vm ? await findVm(runtime) : { missing: "--no-vm" };
  out.info(`demo: ${sampleList.length} sample workloads in ${dirs.workloads}: EFI applications that print, call back (beacon boot, report) and reset`);
  if ("firmware" in vm) out.info(`demo: booting them on a QEMU/OVMF virtual machine (its console: ${join(dirs.vm, "serial.log")})`);
  else out.info(`demo: no virtual machine (${vm.missing}): dispatch plays ${LOOPBACK_SERVERS.length} servers itself on loopback (${LOOPBACK_SERVERS.join(", ")}), as their firmware and beacon would`);

  const config: DispatchConfig = {
    tag: "",
    filters: [],
    apiUrl: "https://api.github.com", // not used: the workloads and the reports are folders
    dir: dirs.workloads,
    reportsDir: dirs.reports,
    bind: { hostname: "127.0.0.1", port },
    path: PATH,
    mdns: false,
    timeouts: { downloadMs: 60_000, runMs: 120_000 },
    stateDir: dirs.state,
    fresh: true,
  };
  const run = await startDispatch(config, runtime, out);
  const url = `http://127.0.0.1:${run.port}${PATH}`;

  const stopServers = new AbortController();
  const servers = Promise.all(
    "firmware" in vm
      ? [runVm(runtime, { firmware: vm.firmware, dir: dirs.vm, port: run.port, path: PATH, signal: stopServers.signal, timeoutMs: VM_BOUND_MS }).then((end) => ({ name: "the VM", ...end }))]
      : LOOPBACK_SERVERS.map((address) =>
          playServer({ address, url, samples: sampleList, signal: stopServers.signal }).then((end) => ({ name: address, ...end })),
        ),
  );

  const over = servers.then(async (ends) => {
    for (const end of ends) (end.off ? out.info : out.warn)(`demo: ${end.name}: ${end.why}`);
    let timer: ReturnType<typeof setTimeout> | number | undefined;
    const settled = await Promise.race([run.settled, new Promise<undefined>((ok) => (timer = setTimeout(ok, SETTLE_MS)))]);
    clearTimeout(timer);
    const allOff = ends.every((end) => end.off);
    const ok = allOff && settled !== undefined && settled.failed === 0 && settled.finished === sampleList.length;
    return {
      code: ok ? 0 : 1,
      lines: [
        { warn: !ok, text: `demo: ${outcome(settled, sampleList.length, allOff)}` },
        { text: `demo: the reports: ls ${dirs.reports}; cat ${join(dirs.reports, "*.md")}` },
      ],
    };
  });

  let stopping: Promise<void> | undefined;
  return {
    ...run,
    over,
    // Servers first (the VM is stopped, the played servers stop asking), then dispatch.
    stop: () =>
      (stopping ??= (async () => {
        stopServers.abort();
        await servers;
        await run.stop();
      })()),
  };
}

function outcome(settled: Settled | undefined, samples: number, allOff: boolean): string {
  if (settled === undefined) return `not every job ended within ${SETTLE_MS / 1000} s of the last server going off`;
  const tally = `${settled.finished} of ${samples} workloads finished with a report, ${settled.failed} failed`;
  return allOff ? `done: every server is off; ${tally}` : `${tally}; not every server powered off`;
}
