import { PowerError, type PowerState } from "../driver.ts";
import type { RedfishClient } from "./client.ts";
import { settle, type TaskLimits } from "./task.ts";

export type ResetAction = {
  readonly target: string;
  /** The allowed ResetTypes; undefined when the BMC does not say (then any is tried). */
  readonly types: readonly string[] | undefined;
};

/** The Reset action and its ResetTypes: inline `ResetType@Redfish.AllowableValues`, or its ActionInfo. */
export async function readReset(client: RedfishClient, system: unknown, systemPath: string): Promise<ResetAction> {
  const action = ((system as { Actions?: Record<string, unknown> } | undefined)?.Actions?.["#ComputerSystem.Reset"] ?? undefined) as Record<string, unknown> | undefined;
  if (!action) throw new PowerError(`${systemPath} has no #ComputerSystem.Reset action: the BMC cannot switch this system on or off`, "unsupported");
  const target = typeof action.target === "string" ? action.target : `${systemPath.replace(/\/$/, "")}/Actions/ComputerSystem.Reset`;
  const inline = action["ResetType@Redfish.AllowableValues"];
  if (Array.isArray(inline)) return { target, types: inline.filter((t): t is string => typeof t === "string") };
  const info = action["@Redfish.ActionInfo"];
  if (typeof info === "string") {
    const answer = await client.request("GET", info, { accept: [404] });
    const parameters = ((answer.body as { Parameters?: unknown[] } | undefined)?.Parameters ?? []) as { Name?: unknown; AllowableValues?: unknown }[];
    const values = parameters.find((p) => p?.Name === "ResetType")?.AllowableValues;
    if (Array.isArray(values)) return { target, types: values.filter((t): t is string => typeof t === "string") };
  }
  return { target, types: undefined };
}

export const allows = (reset: ResetAction, type: string) => reset.types === undefined || reset.types.includes(type);

export async function resetSystem(client: RedfishClient, reset: ResetAction, type: string, limits: TaskLimits): Promise<void> {
  if (!allows(reset, type)) throw new PowerError(`the BMC offers no ResetType ${type} (it offers ${reset.types!.join(", ")})`, "unsupported");
  const what = `reset ${type}`;
  const answer = await client.request("POST", reset.target, { body: { ResetType: type } });
  await settle(client, what, answer, limits);
}

/** PowerState (Resource.PowerState): PoweringOff still counts as on, PoweringOn as on. */
export function powerOf(system: unknown): PowerState {
  const state = (system as { PowerState?: unknown } | undefined)?.PowerState;
  if (state === "Off") return "off";
  if (state === "On" || state === "PoweringOn" || state === "PoweringOff" || state === "Paused") return "on";
  return "unknown";
}
