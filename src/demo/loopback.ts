/**
 * Where QEMU or OVMF is missing, the demo plays its servers itself: each is a loopback address
 * (127.0.0.2, 127.0.0.3, …) that asks dispatch the way UEFI HTTP boot does (HEAD, then GET of
 * the whole workload), and then, as the sample it got would from inside the machine, sends
 * `beacon boot` and its report; `poweroff.efi` switches it off. dispatch sees the same requests
 * a real server would send, from the address it knows that server by.
 */

import { request } from "node:http";
import { poweroffEfi } from "../efi/poweroff.ts";
import type { Sample } from "./samples.ts";

export type Reply = { readonly status: number; readonly body: Uint8Array };

/** One request from a chosen loopback source address (fetch cannot choose it; node:http can). */
function send(url: string, from: string, method: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      localAddress: from,
      agent: false,
      timeout: 30_000,
      headers: body === undefined ? {} : { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} from ${from}: no answer in 30 s`)));
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: new Uint8Array(Buffer.concat(chunks)) }));
      res.on("error", reject);
    });
    req.end(body);
  });
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** Resolves after `ms`, or at once when `signal` aborts. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

export type PlayedServer = { readonly address: string; readonly off: boolean; readonly why: string };

export type PlayOptions = {
  readonly address: string;
  /** dispatch's boot URL on loopback. */
  readonly url: string;
  readonly samples: readonly Sample[];
  readonly signal: AbortSignal;
};

/** Boots workloads until dispatch hands this server `poweroff.efi` (bounded: one boot per sample, plus one). */
export async function playServer(options: PlayOptions): Promise<PlayedServer> {
  const { address, url, signal } = options;
  const end = (off: boolean, why: string) => ({ address, off, why });
  try {
    for (let boot = 0; boot <= options.samples.length && !signal.aborted; boot++) {
      const head = await send(url, address, "HEAD");
      if (head.status !== 200) return end(false, `HEAD answered ${head.status}`);
      const got = await send(url, address, "GET");
      if (got.status !== 200) return end(false, `GET answered ${got.status}`);
      if (same(got.body, poweroffEfi)) return end(true, "powered off (poweroff.efi)");
      const sample = options.samples.find((s) => same(s.bytes, got.body));
      if (!sample) return end(false, "dispatch handed it a workload that is not one of the demo's samples");
      const booted = await send(url, address, "POST");
      if (booted.status !== 200) return end(false, `beacon boot for ${sample.name} answered ${booted.status}`);
      await pause(sample.workMs, signal); // as long as it would run in a machine
      const reported = await send(url, address, "PUT", JSON.stringify(sample.report));
      if (reported.status !== 200) return end(false, `the report for ${sample.name} answered ${reported.status}`);
    }
    return end(false, signal.aborted ? "stopped" : `still handed workloads after ${options.samples.length + 1} boots`);
  } catch (error) {
    return end(false, (error as Error).message);
  }
}
