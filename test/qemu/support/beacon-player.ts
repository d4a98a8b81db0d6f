import type { Vm } from "./vm.ts";

/**
 * Plays the part of `beacon` for workloads that cannot: the tiny EFI test workloads have no
 * network stack, so the host watches each VM's serial console and, when a workload prints
 * that it is running, sends `beacon boot` (POST) and `beacon report` (PUT) to dispatch in its
 * name, from the address dispatch knows that VM by. The workload stalls for a few seconds
 * after printing, so the calls land while it runs, as a real beacon's would.
 */

/** What a workload prints once it runs; the tests name workloads after their asset. */
export const runningLine = (asset: string) => `dispatch-test: ${asset} running`;
const runningPattern = /dispatch-test: (\S+) running/;

export type Behaviour =
  /** `beacon boot`, then `beacon report` with a title naming the workload. */
  | "report"
  /** `beacon boot` only: the workload then resets without reporting. */
  | "boot-only"
  /** No beacon call at all. */
  | "silent";

/** One beacon request as the VM: returns the HTTP status dispatch answered. */
export type BeaconSend = (method: "POST" | "PUT", body?: string) => Promise<number>;

/** `status` is 0 when the request itself failed; `error` then says why. */
export type BeaconCall = { readonly asset: string; readonly method: "POST" | "PUT"; readonly status: number; readonly error?: string };

export const reportTitle = (asset: string) => `${asset} passed`;

export type Player = {
  /** Every call made, in order. */
  readonly calls: BeaconCall[];
  /** Workloads seen running on this VM, in order (one entry per boot). */
  readonly ran: string[];
  /** Stops watching; resolves once the last call has finished. */
  stop(): Promise<void>;
};

export function playBeacon(vm: Vm, options: { send: BeaconSend; behaviour: (asset: string) => Behaviour; pollMs?: number }): Player {
  const calls: BeaconCall[] = [];
  const ran: string[] = [];
  let stopped = false;
  const loop = (async () => {
    // Bounded by the VM's life: the loop ends when QEMU exits or the test stops it.
    let exited = false;
    void vm.exited.then(() => (exited = true));
    while (!stopped) {
      const finalCheck = exited;
      const seen = (await vm.serial()).flatMap((line) => runningPattern.exec(line)?.[1] ?? []);
      for (const asset of seen.slice(ran.length)) {
        ran.push(asset);
        const call = async (method: "POST" | "PUT", body?: string) => {
          try {
            calls.push({ asset, method, status: await options.send(method, body) });
          } catch (error) {
            calls.push({ asset, method, status: 0, error: (error as Error).message });
          }
        };
        const behaviour = options.behaviour(asset);
        if (behaviour !== "silent") await call("POST");
        if (behaviour === "report") {
          await call("PUT", JSON.stringify({ title: reportTitle(asset), body: `${asset} ran on real firmware.`, labels: ["qemu"] }));
        }
      }
      if (finalCheck) break;
      await Bun.sleep(options.pollMs ?? 100);
    }
  })();
  return {
    calls,
    ran,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
