import { cpus, totalmem } from "node:os";
import type { Tools } from "./tools.ts";

export type Machine = {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly bun: string;
  readonly curl: string;
  readonly nginx: string;
  readonly haproxy: string;
  /** The storage host's TLS library (nginx links the system OpenSSL). */
  readonly openssl: string;
  /** 1-minute load average when the bench started: other work on a shared machine shows here. */
  readonly load: number;
};

export async function describeMachine(tools: Tools): Promise<Machine> {
  const first = async (command: string[], stream: "stdout" | "stderr" = "stdout") => {
    const child = Bun.spawn(command, { stdout: "pipe", stderr: "pipe" });
    const text = await new Response(child[stream]).text();
    await child.exited;
    return text.split("\n")[0]!.trim();
  };
  const loadavg = await Bun.file("/proc/loadavg").text().catch(() => "0");
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: await first(["uname", "-r"]),
    bun: Bun.version,
    curl: (await first(["curl", "--version"])).split(" ").slice(0, 2).join(" "),
    nginx: (await first([tools.nginx, "-v"], "stderr")).replace(/^nginx version: nginx\//, ""),
    haproxy: (await first([tools.haproxy, "-v"])).replace(/^HAProxy version (\S+).*$/, "$1"),
    openssl: (await first([tools.openssl, "version"])).split(" ").slice(0, 2).join(" "),
    load: Number(loadavg.split(" ")[0]),
  };
}
