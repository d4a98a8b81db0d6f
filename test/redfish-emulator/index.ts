import type { Server } from "bun";
import type { EmulatedSystem } from "./system.ts";

/**
 * A Redfish service on loopback HTTPS, written from DMTF's schemas (ServiceRoot v1,
 * ComputerSystemCollection, ComputerSystem v1_20 with Boot and Actions/#ComputerSystem.Reset,
 * SessionService/Sessions, Bios with @Redfish.Settings, task monitors) and DSP0266's rules
 * (X-Auth-Token sessions, basic auth, ETags, If-Match with 412/428, 202 + Location). Real BMCs'
 * quirks are switches. It records every request, so tests can look for credentials in them.
 */

export type Quirks = {
  /** PATCH without If-Match gets 428 (Lenovo XCC, AMI MegaRAC, Huawei iBMC). */
  readonly requireIfMatch?: boolean;
  /** ETags are weak (W/"n") and a weak tag in If-Match never matches, as strong comparison demands: 412. */
  readonly rejectWeakEtag?: boolean;
  /** No ETag at all, neither header nor @odata.etag. */
  readonly noEtag?: boolean;
  /** UefiHttp not among the allowed boot targets (OpenBMC). */
  readonly noUefiHttp?: boolean;
  /** Boot has no HttpBootUri (Dell iDRAC). */
  readonly noHttpBootUri?: boolean;
  /** HttpBootUri shown but a PATCH of it refused with PropertyNotWritable (HPE iLO 6). */
  readonly readOnlyHttpBootUri?: boolean;
  /** A Bios resource with iDRAC's HttpDev1EnDis/HttpDev1Uri/HttpDev1TlsMode, set through Bios/Settings at the next boot. */
  readonly biosHttpDevUri?: boolean;
  /** BootSourceOverrideEnabled allows only Once and Disabled. */
  readonly noContinuous?: boolean;
  /** PowerCycle not among the ResetTypes. */
  readonly noPowerCycle?: boolean;
  /** ResetTypes in an ActionInfo resource instead of inline. */
  readonly resetActionInfo?: boolean;
  /** No SessionService: basic auth only. */
  readonly noSessions?: boolean;
  /** PATCH and reset answer 202 with a task monitor that stays 202 for this many polls. */
  readonly tasks?: number;
  /** Every answer waits this long. */
  readonly slowMs?: number;
  /** The first this many requests get 503. */
  readonly failFirst?: number;
  /** Session and task-monitor Locations point at this origin (another host). */
  readonly foreignLocation?: string;
  /** Several systems in the collection. */
  readonly systems?: number;
};

export type RecordedRequest = {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
};

export type EmulatorOptions = {
  readonly user: string;
  readonly password: string;
  readonly tls: { readonly cert: string; readonly key: string };
  readonly system: EmulatedSystem;
  readonly quirks?: Quirks;
  /** The boot URL the firmware gets from DHCP when the BMC's settings give none. */
  readonly dhcpBootUrl?: string;
};

export type RedfishEmulator = {
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly sessions: { created: number; deleted: number; live(): number };
  /** The ComputerSystem's Boot object as it is now. */
  boot(): Record<string, unknown>;
  /** Someone else changes the system (its ETag moves on). */
  touch(): void;
  /** The BIOS attributes in effect, and those pending until the next boot. */
  bios(): { current: Record<string, unknown>; pending: Record<string, unknown> };
  stop(): Promise<void>;
};

const systemId = "1";
const root = "/redfish/v1";
const systemPath = (n = 1) => `${root}/Systems/${n === 1 ? systemId : String(n)}`;
const sessionsPath = `${root}/SessionService/Sessions`;
const allTargets = ["None", "Pxe", "Hdd", "Cd", "Usb", "BiosSetup", "UefiHttp", "UefiTarget"];
const allResets = ["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "PowerCycle", "Nmi"];

const message = (id: string, text: string, extra: Record<string, unknown> = {}) => ({
  error: {
    code: `Base.1.16.0.${id}`,
    message: text,
    "@Message.ExtendedInfo": [{ "@odata.type": "#Message.v1_1_1.Message", MessageId: `Base.1.16.0.${id}`, Message: text, Severity: "Warning", ...extra }],
  },
});

export async function startRedfishEmulator(options: EmulatorOptions): Promise<RedfishEmulator> {
  const q = options.quirks ?? {};
  const requests: RecordedRequest[] = [];
  const tokens = new Map<string, string>(); // token → session id
  const sessions = { created: 0, deleted: 0, live: () => tokens.size };
  let sessionSeq = 0;
  let taskSeq = 0;
  const tasks = new Map<string, { polls: number; apply: () => Promise<void> }>();
  const etags = { system: 1, bios: 1, settings: 1 };
  const boot: Record<string, unknown> = {
    BootSourceOverrideTarget: "None",
    BootSourceOverrideEnabled: "Disabled",
    BootSourceOverrideMode: "Legacy",
    ...(q.noHttpBootUri ? {} : { HttpBootUri: null }),
  };
  const targets = q.noUefiHttp ? allTargets.filter((t) => t !== "UefiHttp" && t !== "UefiTarget") : allTargets;
  const enabledValues = q.noContinuous ? ["Disabled", "Once"] : ["Disabled", "Once", "Continuous"];
  const resets = q.noPowerCycle ? allResets.filter((t) => t !== "PowerCycle") : allResets;
  const biosCurrent: Record<string, unknown> = { HttpDev1EnDis: "Disabled", HttpDev1Uri: "", HttpDev1TlsMode: "OneWay", BootMode: "Uefi" };
  let biosPending: Record<string, unknown> = {};

  const tag = (n: number) => (q.rejectWeakEtag ? `W/"${n}"` : `"${n}"`);
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", "odata-version": "4.0", ...headers },
    });
  const withEtag = (body: Record<string, unknown>, n: number) =>
    q.noEtag ? json(body) : json({ ...body, "@odata.etag": tag(n) }, 200, { etag: tag(n) });
  const location = (path: string) => (q.foreignLocation ? `${q.foreignLocation}${path}` : path);

  /** If-Match as DSP0266 and RFC 9110 §13.1.1 have it: `*` or a strong match; a weak tag matches only where the quirk is off. */
  const precondition = (request: Request, n: number): Response | undefined => {
    const header = request.headers.get("if-match");
    if (header === null) return q.requireIfMatch ? json(message("PreconditionRequired", "A precondition header or annotation is required to change this resource."), 428) : undefined;
    if (header.trim() === "*") return undefined;
    const current = `"${n}"`;
    const match = header.split(",").map((t) => t.trim()).some((t) => (t.startsWith("W/") ? !q.rejectWeakEtag && t.slice(2) === current : t === current));
    return match ? undefined : json(message("PreconditionFailed", "The ETag supplied did not match the ETag required to change this resource."), 412);
  };

  /** The URL the firmware boots from, as real firmware reads its settings at power-on. */
  const bootUrl = (): string | undefined => {
    Object.assign(biosCurrent, biosPending);
    if (Object.keys(biosPending).length) etags.bios++;
    biosPending = {};
    const target = boot.BootSourceOverrideTarget;
    const overriding = boot.BootSourceOverrideEnabled !== "Disabled";
    if (overriding && boot.BootSourceOverrideEnabled === "Once") boot.BootSourceOverrideEnabled = "Disabled"; // consumed by this boot
    if (overriding && target === "UefiHttp" && typeof boot.HttpBootUri === "string" && boot.HttpBootUri) return boot.HttpBootUri;
    if (q.biosHttpDevUri && biosCurrent.HttpDev1EnDis === "Enabled" && biosCurrent.HttpDev1Uri) return String(biosCurrent.HttpDev1Uri);
    return options.dhcpBootUrl;
  };

  const reset = async (type: string) => {
    const sys = options.system;
    switch (type) {
      case "On":
        if (sys.power() === "Off") await sys.on(bootUrl());
        return;
      case "ForceOff":
      case "GracefulShutdown":
        await sys.off();
        return;
      case "ForceRestart":
      case "GracefulRestart":
        if (sys.power() === "On") await sys.reset(bootUrl());
        return;
      case "PowerCycle":
        await sys.off();
        await sys.on(bootUrl());
        return;
    }
  };

  /** The change happens now, or (tasks quirk) once its task monitor has been polled enough. */
  const accepted = async (apply: () => Promise<void>, done: Response): Promise<Response> => {
    if (!q.tasks) {
      await apply();
      return done;
    }
    const id = String(++taskSeq);
    tasks.set(id, { polls: q.tasks, apply });
    const monitor = `${root}/TaskService/TaskMonitors/${id}`;
    return json({ "@odata.id": `${root}/TaskService/Tasks/${id}`, Id: id, TaskState: "Running", TaskMonitor: monitor }, 202, { location: location(monitor), "retry-after": "0" });
  };

  const computerSystem = (n: number) => ({
    "@odata.id": systemPath(n),
    "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
    Id: n === 1 ? systemId : String(n),
    Name: "Emulated server",
    SystemType: "Physical",
    PowerState: options.system.power(),
    Boot: {
      ...boot,
      "BootSourceOverrideTarget@Redfish.AllowableValues": targets,
      "BootSourceOverrideEnabled@Redfish.AllowableValues": enabledValues,
      "BootSourceOverrideMode@Redfish.AllowableValues": ["Legacy", "UEFI"],
    },
    ...(q.biosHttpDevUri ? { Bios: { "@odata.id": `${systemPath(n)}/Bios` } } : {}),
    Actions: {
      "#ComputerSystem.Reset": {
        target: `${systemPath(n)}/Actions/ComputerSystem.Reset`,
        ...(q.resetActionInfo ? { "@Redfish.ActionInfo": `${systemPath(n)}/ResetActionInfo` } : { "ResetType@Redfish.AllowableValues": resets }),
      },
    },
  });

  const authorized = (request: Request): boolean => {
    const token = request.headers.get("x-auth-token");
    if (token !== null) return tokens.has(token);
    const basic = request.headers.get("authorization");
    return basic === `Basic ${btoa(`${options.user}:${options.password}`)}`;
  };

  const route = async (request: Request, path: string, body: string): Promise<Response> => {
    const method = request.method;
    if (q.failFirst && requests.length <= q.failFirst) return json(message("InternalError", "The request failed due to an internal service error."), 503);
    if ((path === root || path === `${root}/`) && method === "GET") {
      return json({
        "@odata.id": `${root}/`,
        "@odata.type": "#ServiceRoot.v1_16_0.ServiceRoot",
        Id: "RootService",
        Name: "Root Service",
        RedfishVersion: "1.18.0",
        UUID: "92384634-2938-2342-8820-489239905423",
        Systems: { "@odata.id": `${root}/Systems` },
        ...(q.noSessions ? {} : { SessionService: { "@odata.id": `${root}/SessionService` }, Links: { Sessions: { "@odata.id": sessionsPath } } }),
      });
    }
    if (path === sessionsPath && method === "POST" && !q.noSessions) {
      let credentials: { UserName?: unknown; Password?: unknown } = {};
      try {
        credentials = JSON.parse(body);
      } catch {}
      if (credentials.UserName !== options.user || credentials.Password !== options.password) {
        return json(message("ResourceAtUriUnauthorized", "While accessing the resource, an authentication error occurred."), 401);
      }
      const id = String(++sessionSeq);
      const token = crypto.randomUUID().replaceAll("-", "");
      tokens.set(token, id);
      sessions.created++;
      const at = `${sessionsPath}/${id}`;
      return json({ "@odata.id": at, "@odata.type": "#Session.v1_7_0.Session", Id: id, UserName: options.user }, 201, { "x-auth-token": token, location: location(at) });
    }
    if (!authorized(request)) return json(message("InsufficientPrivilege", "There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation."), 401, { "www-authenticate": 'Basic realm="Redfish"' });

    const sessionMatch = path.match(/^\/redfish\/v1\/SessionService\/Sessions\/(\d+)$/);
    if (sessionMatch && method === "DELETE" && !q.noSessions) {
      const entry = [...tokens].find(([, id]) => id === sessionMatch[1]);
      if (!entry) return json(message("ResourceNotFound", "The requested resource was not found."), 404);
      tokens.delete(entry[0]);
      sessions.deleted++;
      return new Response(null, { status: 204 });
    }
    const taskMatch = path.match(/^\/redfish\/v1\/TaskService\/TaskMonitors\/(\d+)$/);
    if (taskMatch && method === "GET") {
      const task = tasks.get(taskMatch[1]!);
      if (!task) return json(message("ResourceNotFound", "The requested resource was not found."), 404);
      if (task.polls-- > 0) return json({ Id: taskMatch[1], TaskState: "Running", PercentComplete: 50 }, 202, { location: location(path), "retry-after": "0" });
      tasks.delete(taskMatch[1]!);
      await task.apply();
      return new Response(null, { status: 204 });
    }
    if (path === `${root}/Systems` && method === "GET") {
      const count = q.systems ?? 1;
      const members = Array.from({ length: count }, (_, i) => ({ "@odata.id": systemPath(i + 1) }));
      return json({ "@odata.id": `${root}/Systems`, "@odata.type": "#ComputerSystemCollection.ComputerSystemCollection", Name: "Computer System Collection", Members: members, "Members@odata.count": count });
    }
    const sys = path.match(/^\/redfish\/v1\/Systems\/(\d+)(\/.*)?$/);
    if (!sys || Number(sys[1]) < 1 || Number(sys[1]) > (q.systems ?? 1)) return json(message("ResourceNotFound", "The requested resource was not found."), 404);
    const n = Number(sys[1]);
    const sub = sys[2] ?? "";
    if (sub === "" && method === "GET") return withEtag(computerSystem(n), etags.system);
    if (sub === "" && method === "PATCH") {
      const failed = precondition(request, etags.system);
      if (failed) return failed;
      let patch: { Boot?: Record<string, unknown> };
      try {
        patch = JSON.parse(body);
      } catch {
        return json(message("MalformedJSON", "The request body submitted was malformed JSON and could not be parsed by the receiving service."), 400);
      }
      const changes = patch.Boot ?? {};
      for (const [name, value] of Object.entries(changes)) {
        const refuse = (id: string, text: string) => json(message(id, text, { MessageArgs: [String(value), name], RelatedProperties: [`#/Boot/${name}`] }), 400);
        if (name === "HttpBootUri") {
          if (q.noHttpBootUri) return refuse("PropertyUnknown", `The property ${name} is not in the list of valid properties for the resource.`);
          if (q.readOnlyHttpBootUri) return refuse("PropertyNotWritable", `The property ${name} is a read only property and cannot be assigned a value.`);
          continue;
        }
        const allowed = name === "BootSourceOverrideTarget" ? targets : name === "BootSourceOverrideEnabled" ? enabledValues : name === "BootSourceOverrideMode" ? ["Legacy", "UEFI"] : undefined;
        if (!allowed) return refuse("PropertyUnknown", `The property ${name} is not in the list of valid properties for the resource.`);
        if (!allowed.includes(String(value))) return refuse("PropertyValueNotInList", `The value ${String(value)} for the property ${name} is not in the list of acceptable values.`);
      }
      return accepted(async () => {
        Object.assign(boot, changes);
        etags.system++;
      }, new Response(null, { status: 204 }));
    }
    if (sub === "/ResetActionInfo" && method === "GET") {
      return json({ "@odata.id": path, "@odata.type": "#ActionInfo.v1_3_0.ActionInfo", Id: "ResetActionInfo", Parameters: [{ Name: "ResetType", Required: true, DataType: "String", AllowableValues: resets }] });
    }
    if (sub === "/Actions/ComputerSystem.Reset" && method === "POST") {
      let type: unknown;
      try {
        type = JSON.parse(body).ResetType;
      } catch {}
      if (typeof type !== "string" || !resets.includes(type)) {
        return json(message("ActionParameterNotSupported", `The parameter ResetType for the action ComputerSystem.Reset is not supported on the target resource.`), 400);
      }
      return accepted(() => reset(type), new Response(null, { status: 204 }));
    }
    if (q.biosHttpDevUri && sub === "/Bios" && method === "GET") {
      return withEtag({ "@odata.id": path, "@odata.type": "#Bios.v1_2_1.Bios", Id: "Bios", Attributes: { ...biosCurrent }, "@Redfish.Settings": { SettingsObject: { "@odata.id": `${path}/Settings` } } }, etags.bios);
    }
    if (q.biosHttpDevUri && sub === "/Bios/Settings" && method === "GET") {
      return withEtag({ "@odata.id": path, "@odata.type": "#Bios.v1_2_1.Bios", Id: "Settings", Attributes: { ...biosPending } }, etags.settings);
    }
    if (q.biosHttpDevUri && sub === "/Bios/Settings" && method === "PATCH") {
      const failed = precondition(request, etags.settings);
      if (failed) return failed;
      const attributes = (JSON.parse(body) as { Attributes?: Record<string, unknown> }).Attributes ?? {};
      const unknown = Object.keys(attributes).find((name) => !(name in biosCurrent));
      if (unknown) return json(message("PropertyUnknown", `The property ${unknown} is not in the list of valid properties for the resource.`), 400);
      return accepted(async () => {
        biosPending = { ...biosPending, ...attributes };
        etags.settings++;
      }, new Response(null, { status: 204 }));
    }
    return json(message("ResourceNotFound", "The requested resource was not found."), method === "GET" ? 404 : 405);
  };

  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: options.tls.cert, key: options.tls.key },
    async fetch(request) {
      const url = new URL(request.url);
      const body = await request.text();
      requests.push({ method: request.method, path: url.pathname, headers: Object.fromEntries(request.headers), body });
      if (q.slowMs) await Bun.sleep(q.slowMs);
      return route(request, url.pathname, body);
    },
  });

  return {
    url: `https://127.0.0.1:${server.port}`,
    requests,
    sessions,
    boot: () => ({ ...boot }),
    touch: () => void etags.system++,
    bios: () => ({ current: { ...biosCurrent }, pending: { ...biosPending } }),
    stop: () => server.stop(true),
  };
}
