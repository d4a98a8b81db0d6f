import { PowerError } from "../driver.ts";
import type { Answer, RedfishClient } from "./client.ts";
import { extendedMessages } from "./errors.ts";

export type TaskLimits = {
  /** Between two polls of a task monitor (Retry-After is honoured up to 4 times this). */
  readonly pollMs: number;
  /** How long a task may run before the call counts as timed out. */
  readonly taskTimeoutMs: number;
};

const running = new Set(["New", "Starting", "Running", "Pending", "Suspended", "Service", "Stopping", "Cancelling"]);
const failed = new Set(["Exception", "Killed", "Cancelled", "Interrupted"]);

/**
 * An answer of 202 Accepted carries a task monitor in Location (DSP0266 §13.2.5): it answers 202
 * while the task runs and the operation's own answer once it is done. Followed until then,
 * bounded in time; a task that ends in Exception is a refusal with the task's messages.
 */
export async function settle(client: RedfishClient, what: string, answer: Answer, limits: TaskLimits): Promise<Answer> {
  if (answer.status !== 202) return answer;
  const monitor = answer.headers.get("location");
  if (!monitor) return answer; // accepted without a monitor: nothing to follow
  const deadline = Date.now() + limits.taskTimeoutMs;
  let current = answer;
  for (;;) {
    const task = current.body as { TaskState?: unknown; Messages?: { Message?: string }[] } | undefined;
    const state = typeof task?.TaskState === "string" ? task.TaskState : undefined;
    if (state && failed.has(state)) {
      const said = (task?.Messages ?? []).flatMap((m) => (typeof m?.Message === "string" ? [m.Message] : []));
      throw new PowerError(`${what}: the BMC's task ended ${state}${said.length ? `: ${said.join(" ")}` : ""}`, "refused");
    }
    const pending = current.status === 202 || (state !== undefined && running.has(state));
    if (!pending) return current;
    if (Date.now() > deadline) throw new PowerError(`${what}: the BMC's task did not finish within ${limits.taskTimeoutMs / 1000} s`, "timeout");
    const after = current.headers.get("retry-after");
    const wait = after && /^\d+$/.test(after) ? Math.min(Number(after) * 1000, limits.pollMs * 4) : limits.pollMs;
    await new Promise((resolve) => setTimeout(resolve, wait));
    current = await client.request("GET", monitor, { accept: [400, 409, 500] });
    if (current.status >= 400) {
      const said = extendedMessages(current.body);
      throw new PowerError(`${what}: the BMC's task failed (${current.status})${said.length ? `: ${said.join(" ")}` : ""}`, "refused");
    }
  }
}
