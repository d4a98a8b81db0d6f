import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { type ConsoleBook, partOf } from "../console/book.ts";
import { attemptPart } from "../console/kept.ts";
import type { Store } from "../core/store.ts";
import type { AppEnv } from "./client-ip.ts";

export type ConsoleRouteDeps = {
  readonly store: Store;
  readonly consoles: ConsoleBook;
  /** A comment line this often keeps an idle stream open through proxies. */
  readonly pingEveryMs?: number;
};

/** Lines sent when a watcher connects: the end of what is kept. */
const backlogLines = 100;
/** A watcher that falls this far behind (a workload printing fast) skips ahead, told so. */
const maxQueuedLines = 2000;

/**
 * A server's console as kept (`GET /api/servers/NAME/console?job=…`: the job's attempts on that
 * server; without `job`, the part being written now) and live (`…/console/events`, SSE).
 */
export function consoleRoutes(deps: ConsoleRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { consoles, store } = deps;
  const ipOf = (name: string) => store.state.lab?.servers.find((s) => s.name === name)?.ip;
  const known = (name: string) => consoles.servers().includes(name) && ipOf(name) !== undefined;

  app.get("/api/servers/:name/console", async (c) => {
    const name = c.req.param("name");
    if (!known(name)) return c.text(`no console for a server named ${name}: the lab file gives consoles to ${consoles.servers().join(", ") || "none"}\n`, 404);
    const ip = ipOf(name)!;
    const jobName = c.req.query("job");
    let parts: string[];
    if (jobName === undefined) parts = [partOf(store.state, ip)];
    else {
      const job = store.state.jobs.find((j) => j.name === jobName);
      if (!job) return c.text(`no job named ${jobName}\n`, 404);
      parts = job.attempts.filter((a) => a.ip === ip).map((a) => attemptPart(a.n));
      if (parts.length === 0) return c.text(`${jobName} never ran on ${name}\n`, 404);
    }
    const texts = (await Promise.all(parts.map((p) => consoles.partText(name, p)))).filter((t): t is string => t !== undefined);
    return c.text(texts.join(""), 200, { "cache-control": "no-cache", "x-content-type-options": "nosniff" });
  });

  app.get("/api/servers/:name/console/events", (c) => {
    const name = c.req.param("name");
    if (!known(name)) return c.text(`no console for a server named ${name}\n`, 404);
    const signal = c.req.raw.signal;
    return streamSSE(c, async (stream) => {
      let queued: string[] = [];
      let skipped = 0;
      let wake: (() => void) | undefined;
      let open = true;
      const close = () => {
        open = false;
        wake?.();
      };
      stream.onAbort(close);
      if (signal.aborted) close();
      else signal.addEventListener("abort", close, { once: true });
      const stop = consoles.watch(name, ({ lines }) => {
        queued.push(...lines);
        if (queued.length > maxQueuedLines) {
          skipped += queued.length - maxQueuedLines;
          queued = queued.slice(-maxQueuedLines);
        }
        wake?.();
      });
      try {
        const kept = (await consoles.partText(name, partOf(store.state, ipOf(name)!))) ?? "";
        const backlog = kept.split("\n").filter(Boolean).slice(-backlogLines);
        await stream.writeSSE({ event: "lines", data: JSON.stringify({ server: name, lines: backlog }) });
        while (open) {
          if (queued.length === 0) {
            const ping = new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, deps.pingEveryMs ?? 15_000);
            });
            await ping;
            wake = undefined;
            if (!open) break;
            if (queued.length === 0) {
              await stream.write(": ping\n\n");
              continue;
            }
          }
          const lines = queued;
          queued = [];
          const data = { server: name, lines, ...(skipped && { skipped }) };
          skipped = 0;
          await stream.writeSSE({ event: "lines", data: JSON.stringify(data) });
        }
      } finally {
        stop();
      }
    });
  });
  return app;
}
