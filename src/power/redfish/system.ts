import { PowerError } from "../driver.ts";
import type { RedfishClient } from "./client.ts";

export type ServiceRoot = {
  readonly systems: string;
  /** Where to POST a login; undefined when the service has no SessionService. */
  readonly sessions: string | undefined;
};

const odataId = (value: unknown): string | undefined => {
  const id = (value as { "@odata.id"?: unknown } | undefined)?.["@odata.id"];
  return typeof id === "string" ? id : undefined;
};

/** The service root (readable without credentials, DSP0266 §13.3.1; some BMCs ask for them anyway). */
export async function readServiceRoot(client: RedfishClient): Promise<ServiceRoot> {
  let answer = await client.request("GET", "/redfish/v1/", { anonymous: true, accept: [401, 403] });
  if (answer.status === 401 || answer.status === 403) {
    client.useBasic();
    answer = await client.request("GET", "/redfish/v1/");
  }
  const root = answer.body as Record<string, unknown> | undefined;
  const systems = odataId(root?.Systems);
  if (!systems) throw new PowerError(`${client.origin}/redfish/v1/ lists no Systems: is this a Redfish BMC?`, "unsupported");
  const links = root?.Links as Record<string, unknown> | undefined;
  const sessions = odataId(links?.Sessions) ?? (odataId(root?.SessionService) ? `${odataId(root?.SessionService)!.replace(/\/$/, "")}/Sessions` : undefined);
  return { systems, sessions };
}

/** The system to control: the one given in the lab file, or the only one there is. */
export async function pickSystem(client: RedfishClient, systemsPath: string, wanted: string | undefined): Promise<string> {
  const answer = await client.request("GET", systemsPath);
  const members = ((answer.body as { Members?: unknown[] } | undefined)?.Members ?? []).flatMap((m) => odataId(m) ?? []);
  const normal = (path: string) => new URL(path, client.origin).pathname.replace(/\/$/, "");
  if (wanted) {
    const found = members.find((m) => normal(m) === normal(wanted));
    if (!found) {
      throw new PowerError(`system = "${wanted}" is not on this BMC; it has ${members.length ? members.join(", ") : "no systems"}`, "unsupported");
    }
    return found;
  }
  if (members.length === 1) return members[0]!;
  if (members.length === 0) throw new PowerError(`${systemsPath} lists no systems`, "unsupported");
  throw new PowerError(`this BMC has ${members.length} systems (${members.join(", ")}): say which with system = "…" in the lab file`, "unsupported");
}
