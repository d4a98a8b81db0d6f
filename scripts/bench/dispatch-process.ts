import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApiStub } from "./api-stub.ts";
import { track } from "./children.ts";

/** dispatch as the user runs it: its own process, so its memory is its own. */
export type DispatchProcess = {
  readonly url: string;
  readonly pid: number;
  /** Resident memory now and the peak since start (or since `resetPeak`), in bytes. */
  memory(): { rss: number; peak: number };
  /** Sets the peak back to the current size, so a later peak belongs to what ran in between. */
  resetPeak(): void;
  stop(): Promise<void>;
};

const root = join(import.meta.dir, "..", "..");

/** Where the workloads come from: a release behind the API stand-in, or a local folder (`--dir`). */
export type DispatchSource =
  | { readonly kind: "release"; readonly api: ApiStub; /** A CA to trust (NODE_EXTRA_CA_CERTS), for a storage host on HTTPS. */ readonly ca?: string }
  | { readonly kind: "folder"; readonly dir: string };

/** What this checkout's dispatch can do, from its `--help` (flags that other branches add). */
export type DispatchFeatures = { readonly folder: boolean; readonly reportsFolder: boolean };

export async function dispatchFeatures(): Promise<DispatchFeatures> {
  const child = Bun.spawn([process.execPath, join(root, "src/main.ts"), "--help"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const help = out + err;
  return { folder: /--dir[=\s]/.test(help), reportsFolder: /--reports[=\s]/.test(help) };
}

/** Starts `bun src/main.ts` on `source`, queueing the workloads whose name contains `filter`. */
export async function startDispatchProcess(source: DispatchSource, filter: string, features?: DispatchFeatures): Promise<DispatchProcess> {
  // A fresh journal for every run (the runs differ in filter), never in the user's state folder.
  const state = mkdtempSync(join(tmpdir(), "dispatch-bench-state-"));
  const from =
    source.kind === "release"
      ? ["--owner", source.api.owner, "--repo", source.api.repo, "--tag", source.api.tag, "--api-url", source.api.url, "--token", source.api.token]
      : // Reports (none come in the bench) go to a folder too when dispatch can, so no GitHub is needed.
        ["--dir", source.dir, ...(features?.reportsFolder ? ["--reports", join(state, "reports")] : [])];
  const extraCa = source.kind === "release" && source.ca ? { NODE_EXTRA_CA_CERTS: source.ca } : {};
  const child = track(Bun.spawn(
    [process.execPath, join(root, "src/main.ts"), ...from, "--bind", "127.0.0.1:0", "--no-mdns", "--state", state, filter],
    { cwd: root, stdout: "pipe", stderr: "pipe", env: { ...process.env, GITHUB_TOKEN: "", GH_TOKEN: "", ...extraCa } },
  ));
  const stop = async () => {
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await child.exited;
    clearTimeout(killer);
    rmSync(state, { recursive: true, force: true });
  };
  // The log is read to its end (it is not kept), so a full pipe never stalls dispatch.
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  let port: number | undefined;
  const deadline = Date.now() + 20_000;
  while (port === undefined) {
    const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now())));
    const chunk = await Promise.race([reader.read(), timer]);
    if (chunk === "timeout" || chunk.done) {
      await stop();
      throw new Error(`dispatch did not start:\n${seen}${await new Response(child.stderr).text()}`);
    }
    seen += decoder.decode(chunk.value, { stream: true });
    const match = /listening on [^\s]+:(\d+)/.exec(seen);
    if (match) port = Number(match[1]);
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  void new Response(child.stderr).text();

  const status = () => readFileSync(`/proc/${child.pid}/status`, "utf8");
  const kib = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
  return {
    url: `http://127.0.0.1:${port}/dispatch`,
    pid: child.pid,
    memory() {
      const text = status();
      return { rss: kib(text, "VmRSS"), peak: kib(text, "VmHWM") };
    },
    resetPeak: () => writeFileSync(`/proc/${child.pid}/clear_refs`, "5"),
    stop,
  };
}
