import { Secret } from "../../lab/types.ts";
import { PowerError } from "../driver.ts";
import type { RedfishClient } from "./client.ts";

/**
 * Logs in through the SessionService (POST to Sessions, DSP0266 §13.3.4): the token comes back
 * in X-Auth-Token and the session's address in Location. A BMC without sessions gets HTTP basic
 * on every call instead; the note says so. Wrong credentials throw ("credentials").
 */
export async function login(client: RedfishClient, sessionsPath: string | undefined, user: string, password: Secret): Promise<string | undefined> {
  if (!sessionsPath) {
    client.useBasic();
    return "no SessionService: HTTP basic authentication on every call";
  }
  const answer = await client.request("POST", sessionsPath, {
    anonymous: true,
    body: { UserName: user, Password: password.reveal() },
    accept: [400, 404, 405, 501],
  });
  const token = answer.headers.get("x-auth-token");
  if (answer.status >= 400 || !token) {
    client.useBasic();
    return `sessions refused (${answer.status >= 400 ? answer.status : "no X-Auth-Token"}): HTTP basic authentication on every call`;
  }
  const id = (answer.body as { "@odata.id"?: unknown } | undefined)?.["@odata.id"];
  const location = answer.headers.get("location") ?? (typeof id === "string" ? id : undefined);
  if (!location) {
    client.useSession(new Secret(token), "");
    return "the BMC gave no address for the session: it cannot be deleted at the end and will time out on its own";
  }
  client.useSession(new Secret(token), client.resolve(location));
  return undefined;
}

/** Deletes the session, if there is one; a session already gone (404, 401) is fine. */
export async function logout(client: RedfishClient): Promise<void> {
  const location = client.sessionLocation();
  if (!location) return;
  const relogin = client.relogin;
  client.relogin = undefined; // a session already expired needs no new one to be deleted
  try {
    await client.request("DELETE", location, { accept: [401, 404] });
  } catch (error) {
    if (!(error instanceof PowerError)) throw error;
    throw new PowerError(`ending the Redfish session: ${error.message}`, error.kind);
  } finally {
    client.relogin = relogin;
    client.useBasic(); // no stale token is sent again
  }
}
