import { Hono } from "hono";
import { type BeaconDeps, bootBeacon, reportBeacon } from "./beacon.ts";
import { type BootDeps, bootHandler } from "./boot.ts";
import type { AppEnv } from "./client-ip.ts";
import { type StatusRouteDeps, statusRoutes } from "./status-routes.ts";
import type { ConsoleBook } from "../console/book.ts";
import { consoleRoutes } from "./console-routes.ts";

export type AppDeps = BootDeps & BeaconDeps & StatusRouteDeps & { readonly path: string; readonly consoles?: ConsoleBook };

const bootMethods = ["HEAD", "GET", "POST", "PUT"] as const;

/**
 * The whole HTTP surface: the boot path (firmware and beacon) and the status routes. Runtime
 * adapters pass the client's address in `env.remoteAddress`.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const boot = bootHandler(deps);

  // Hono routes HEAD through GET handlers; the boot handler tells them apart by method.
  app.get(deps.path, boot);
  app.post(deps.path, bootBeacon(deps));
  app.put(deps.path, reportBeacon(deps));
  app.all(deps.path, (c) => c.text(`method ${c.req.method} not allowed on ${deps.path}\n`, 405, { allow: bootMethods.join(", ") }));

  // The page, /api/status, /api/events and /metrics.
  app.route("/", statusRoutes(deps));
  // The lab's consoles, kept and live.
  if (deps.consoles) app.route("/", consoleRoutes({ store: deps.store, consoles: deps.consoles }));

  app.notFound((c) => c.text(`no such path: ${c.req.path} (workloads boot from ${deps.path})\n`, 404));
  app.onError((error, c) => {
    deps.log.warn(`internal error on ${c.req.method} ${c.req.path}: ${error.message}`);
    return c.text("dispatch hit an internal error; see its log\n", 500);
  });
  return app;
}
