import { expect } from "bun:test";
import { http } from "./http-client.ts";

/** What one lab server does for one workload: HEAD, GET (the whole body), `beacon boot`. */
export async function bootOnce(url: string, from: string): Promise<{ type: string; size: number }> {
  const head = await http(url, { method: "HEAD", from });
  expect(head.status).toBe(200);
  const get = await http(url, { from });
  expect(get.status).toBe(200);
  expect(get.error).toBeUndefined();
  expect(get.body.byteLength).toBe(Number(head.headers["content-length"]));
  const boot = await http(url, { method: "POST", from });
  expect(boot.status).toBe(200);
  return { type: head.headers["content-type"]!, size: get.body.byteLength };
}

/** `beacon report` with a JSON body. */
export function report(url: string, from: string, body: unknown) {
  return http(url, { method: "PUT", from, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
}

export type StatusJob = { name: string; state: string; ip: string | null; error: string | null; reason: string | null; issue: { number: number; url: string } | null };

export async function status(port: number): Promise<StatusJob[]> {
  const reply = await fetch(`http://127.0.0.1:${port}/api/status`);
  return ((await reply.json()) as { jobs: StatusJob[] }).jobs;
}
