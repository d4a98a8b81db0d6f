import { readFileSync } from "node:fs";
import { track } from "./children.ts";

/** What one curl download reported (`-w`), plus whether it got every byte. */
export type Download = {
  readonly status: number;
  readonly bytes: number;
  readonly seconds: number;
  /** Bytes per second over the whole transfer, as curl measured it. */
  readonly speed: number;
  readonly ok: boolean;
};

export type DownloadOptions = {
  /** Source address: dispatch tells servers apart by it. */
  readonly from: string;
  /** curl's `--limit-rate`, e.g. "20M" (bytes per second). */
  readonly limitRate?: string;
  readonly expectBytes: number;
  /**
   * Run curl at the lowest CPU priority. The clients stand in for servers on other machines;
   * here they share the CPUs with dispatch, and 32 of them can keep it waiting for a CPU.
   */
  readonly nice?: boolean;
  /** A CA certificate to trust, for an HTTPS URL signed by the bench's own CA. */
  readonly cacert?: string;
};

/** A running curl download. curl is C and cheap, so the client costs the machine little. */
export type RunningDownload = {
  readonly pid: number;
  readonly done: Promise<Download>;
  /** Bytes written to /dev/null so far (from /proc/PID/io), for fairness while all run. */
  written(): number;
  stop(): void;
};

export function startDownload(url: string, options: DownloadOptions): RunningDownload {
  const child = track(Bun.spawn(
    [
      ...(options.nice ? ["nice", "-n", "19"] : []),
      "curl",
      "--silent",
      "--show-error",
      "--output",
      "/dev/null",
      "--interface",
      options.from,
      ...(options.limitRate ? ["--limit-rate", options.limitRate] : []),
      ...(options.cacert ? ["--cacert", options.cacert] : []),
      "--write-out",
      "%{http_code} %{size_download} %{time_total} %{speed_download}",
      url,
    ],
    { stdout: "pipe", stderr: "pipe" },
  ));
  const done = (async (): Promise<Download> => {
    const [out] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    const [status = 0, bytes = 0, seconds = 0, speed = 0] = out.trim().split(/\s+/).map(Number);
    return { status, bytes, seconds, speed, ok: child.exitCode === 0 && bytes === options.expectBytes && (status === 200 || status === 206) };
  })();
  void new Response(child.stderr).text();
  return {
    pid: child.pid,
    done,
    written() {
      try {
        return Number(/^wchar:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/io`, "utf8"))?.[1] ?? 0);
      } catch {
        return options.expectBytes; // already gone: it wrote everything it was going to
      }
    },
    stop: () => child.kill(),
  };
}

/** One download, to its end. */
export function download(url: string, options: DownloadOptions): Promise<Download> {
  return startDownload(url, options).done;
}
