import * as v from "valibot";
import type { DispatchEvent } from "../core/events.ts";
import type { PlanInput, Timeouts } from "../core/job.ts";

/**
 * The journal is JSON lines: this header first, then one event per line, in the order the
 * reducer took them. The header says which run the events belong to, so a journal is never
 * replayed onto another release's queue. It holds nothing secret: no token, no signed URL.
 */
export type JournalHeader = {
  readonly journal: "dispatch";
  readonly version: 1;
  /** owner/repo */
  readonly repository: string;
  /** The release tag the run resolved (never "latest"). */
  readonly release: string;
  readonly filters: readonly string[];
  /** The queue as it was: replay must see the same jobs in the same order to decide the same way. */
  readonly workloads: readonly { readonly name: string; readonly size: number; readonly bootType: string; readonly revision?: string }[];
  /** The timeouts in force until the first `restarted` event changes them. */
  readonly timeouts: Timeouts;
  readonly created: string;
  /**
   * Which server runs what (rules, `each`), when anything places a workload: the jobs its events
   * name, and the lab file's servers by address as they were. Absent: one job per workload, any server.
   */
  readonly placement?: PlanInput;
};

const time = v.pipe(v.number(), v.finite());
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const text = v.string();
const timeouts = v.object({ downloadMs: count, runMs: count });
const issue = v.object({ number: v.optional(count), url: text });
const report = v.object({
  title: text,
  body: v.optional(text),
  labels: v.optional(v.array(text)),
  assignees: v.optional(v.array(text)),
  milestone: v.optional(text),
  kept: v.optional(v.object({ file: text, bytes: count, chars: count, sha256: text })),
});
const issueKind = v.optional(v.picklist(["report", "failure"]));

export const HeaderSchema = v.object({
  journal: v.literal("dispatch"),
  version: v.literal(1),
  repository: text,
  release: text,
  filters: v.array(text),
  workloads: v.array(v.object({ name: text, size: count, bootType: text, revision: v.optional(text) })),
  timeouts,
  created: text,
  placement: v.optional(
    v.object({
      jobs: v.array(
        v.object({
          name: text,
          workload: text,
          servers: v.optional(v.array(text)),
          limits: v.optional(v.object({ runMs: v.optional(count), downloadMs: v.optional(count), retries: v.optional(count) })),
          impossible: v.optional(text),
        }),
      ),
      hosts: v.record(v.string(), text),
    }),
  ),
});

/** Every event the reducer takes, checked on replay: a line that is valid JSON but not an event is damage too. */
const powerState = v.picklist(["on", "off", "unknown"]);

export const EventSchema = v.variant("type", [
  v.object({ type: v.literal("boot-requested"), at: time, ip: text, download: v.boolean() }),
  v.object({ type: v.literal("download-progressed"), at: time, ip: text, name: text, bytes: count }),
  v.object({
    type: v.literal("download-ended"),
    at: time,
    ip: text,
    name: text,
    start: count,
    sent: count,
    error: v.optional(text),
    upstream: v.optional(v.boolean()),
    gone: v.optional(v.boolean()),
  }),
  v.object({ type: v.literal("booted"), at: time, ip: text }),
  v.object({ type: v.literal("reported"), at: time, ip: text, report }),
  v.object({ type: v.literal("issue-filed"), at: time, name: text, issue, for: issueKind }),
  v.object({ type: v.literal("extra-filed"), at: time, name: text, index: count, issue }),
  v.object({ type: v.literal("extra-failed"), at: time, name: text, index: count, error: text, permanent: v.optional(v.boolean()) }),
  v.object({ type: v.literal("filing-failed"), at: time, name: text, error: text, permanent: v.optional(v.boolean()), for: issueKind }),
  v.object({ type: v.literal("restarted"), at: time, timeouts }),
  v.object({ type: v.literal("tick"), at: time }),
  v.object({
    type: v.literal("power-done"),
    at: time,
    server: text,
    id: count,
    ok: v.boolean(),
    error: v.optional(text),
    power: v.optional(powerState),
    ms: v.optional(v.number()),
  }),
  v.object({ type: v.literal("server-address"), at: time, server: text, ip: text }),
  v.object({ type: v.literal("power-observed"), at: time, server: text, power: powerState }),
  v.object({ type: v.literal("console-error"), at: time, server: text, line: v.string() }),
]);

// The schema and the event union must describe the same thing: a new event fails to compile here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaCoversEvents: Same<v.InferOutput<typeof EventSchema>["type"], DispatchEvent["type"]> = true;
const eventsFitSchema: v.InferOutput<typeof EventSchema> extends DispatchEvent ? true : false = true;
void schemaCoversEvents;
void eventsFitSchema;

export function headerLine(header: JournalHeader): string {
  return `${JSON.stringify(header)}\n`;
}

export function eventLine(event: DispatchEvent): string {
  return `${JSON.stringify(event)}\n`;
}
