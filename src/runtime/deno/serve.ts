import { limitsFromEnv, limitsVariable } from "../limits.ts";
import { serveNodeHttp } from "../node-http.ts";
import type { ServeOptions, Server } from "../types.ts";
import { Deno } from "./api.ts";

/**
 * Serving under Deno: the same `node:http` server as Bun, not Deno.serve. Deno.serve (2.9.6) has
 * no header, body or write deadline and no header size option: measured, a silent connection, a
 * trickled header or body and a client that stops reading a download were all still open after
 * 40 s, and 20 KB of headers were taken. Deno's node:http gives each connection's socket, so
 * dispatch's own deadlines apply as under Bun. It streams slower than Deno.serve (0.6–0.8 of its
 * speed, about 1 GB/s on loopback: scripts/bench-serve-runtimes.ts), still far more than a
 * firmware takes.
 */
export function denoServe(options: ServeOptions): Promise<Server> {
  return serveNodeHttp({ ...options, limits: { ...limitsFromEnv(Deno.env.get(limitsVariable)), ...options.limits } });
}
