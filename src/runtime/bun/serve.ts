import { limitsFromEnv, limitsVariable } from "../limits.ts";
import { serveNodeHttp } from "../node-http.ts";
import type { ServeOptions, Server } from "../types.ts";

/**
 * Serving under Bun: `node:http`, not Bun.serve, because Bun.serve drops the Content-Length of a
 * streamed body and sends it chunked (oven-sh/bun#10507); the firmware and the Range answers need
 * the real length. Limits: the defaults, then DISPATCH_SERVE_LIMITS, then the caller's.
 */
export function bunServe(options: ServeOptions): Promise<Server> {
  return serveNodeHttp({ ...options, limits: { ...limitsFromEnv(Bun.env[limitsVariable]), ...options.limits } });
}
