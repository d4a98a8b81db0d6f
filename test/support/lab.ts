import { http, type Reply } from "./http-client.ts";

/**
 * A lab server at a loopback address, doing what UEFI HTTP boot and beacon do, one step at
 * a time: the firmware's HEAD and GET, then the workload's `beacon boot` and `beacon report`.
 */
export function labServer(bootUrl: string, ip: string) {
  return {
    ip,
    head: (): Promise<Reply> => http(bootUrl, { method: "HEAD", from: ip }),
    get: (timeoutMs = 60_000): Promise<Reply> => http(bootUrl, { from: ip, timeoutMs }),
    boot: (): Promise<Reply> => http(bootUrl, { method: "POST", from: ip }),
    report: (report: { title: string; body?: string }): Promise<Reply> =>
      http(bootUrl, { method: "PUT", from: ip, headers: { "content-type": "application/json" }, body: JSON.stringify(report) }),
  };
}
