import { readFile } from "node:fs/promises";
import type { RedfishPower } from "../../lab/types.ts";
import { type FetchLike, tlsFetch } from "../../runtime/tls-fetch.ts";
import { type BmcCheck, PowerError, type PowerDriver, type PowerState } from "../driver.ts";
import { type BiosInfo, type BootInfo, type BootPlan, type BootSettings, biosPatch, bootPatch, describePlan, planBoot, readBios, readBoot, restorePatch } from "./boot.ts";
import { RedfishClient } from "./client.ts";
import { etagOf, patchResource } from "./patch.ts";
import { allows, powerOf, readReset, type ResetAction, resetSystem } from "./reset.ts";
import { login, logout } from "./session.ts";
import { pickSystem, readServiceRoot } from "./system.ts";

export type RedfishOptions = {
  /** One HTTP exchange (default 20 s: BMCs are slow). */
  readonly timeoutMs?: number;
  /** More attempts after a 5xx or connection error (default 3). */
  readonly retries?: number;
  /** First wait before a retry, doubled each time (default 1 s). */
  readonly backoffMs?: number;
  /** Between two polls of a task monitor or of the power state (default 1 s). */
  readonly pollMs?: number;
  /** A task, or a ForceOff before On, may take this long (default 120 s). */
  readonly taskTimeoutMs?: number;
  /** Instead of the runtime's fetch with the lab file's TLS settings (tests). */
  readonly fetch?: FetchLike;
  /** Called for each HTTP request sent (metrics, the benchmark). */
  readonly onCall?: (method: string) => void;
};

type Connected = {
  readonly client: RedfishClient;
  readonly system: string;
  readonly notes: string[];
};

type Known = { boot: BootInfo; bios: BiosInfo | undefined; plan: BootPlan; reset: ResetAction; etag: { etag: string | undefined } };

/**
 * The Redfish driver: one BMC, one ComputerSystem. Connects on first use (service root, system,
 * session), learns what the BMC allows in check(), and falls back where real BMCs differ (see
 * boot.ts and patch.ts). Credentials go to the BMC's origin only and into no message.
 */
export function redfishDriver(config: RedfishPower, options: RedfishOptions = {}): PowerDriver {
  const limits = { timeoutMs: options.timeoutMs ?? 20_000, retries: options.retries ?? 3, backoffMs: options.backoffMs ?? 1_000 };
  const taskLimits = { pollMs: options.pollMs ?? 1_000, taskTimeoutMs: options.taskTimeoutMs ?? 120_000 };
  const bmc = new URL(config.bmc).origin;
  let connecting: Promise<Connected> | undefined;
  let known: Known | undefined;
  let before: { boot: BootSettings; bios: Record<string, unknown> | undefined } | undefined;

  const label = (error: unknown): never => {
    if (error instanceof PowerError) throw new PowerError(`${bmc}: ${error.message}`, error.kind);
    throw error;
  };

  const connect = (): Promise<Connected> =>
    (connecting ??= (async () => {
      const fetch = options.fetch ?? (await tlsFetch({ verify: config.tlsVerify, ...(config.ca ? { ca: await readFile(config.ca, "utf8") } : {}) }));
      const client = new RedfishClient(config.bmc, config.user, config.password, fetch, limits, options.onCall);
      const root = await readServiceRoot(client);
      const notes: string[] = [];
      const loginNote = await login(client, root.sessions, config.user, config.password);
      if (loginNote) notes.push(loginNote);
      client.relogin = async () => void (await login(client, root.sessions, config.user, config.password));
      const system = await pickSystem(client, root.systems, config.system);
      return { client, system, notes };
    })().catch((error) => {
      connecting = undefined; // the next call tries again
      throw error;
    }));

  const getSystem = async (c: Connected) => c.client.request("GET", c.system);

  const learn = async (c: Connected): Promise<Known & { power: PowerState }> => {
    const answer = await getSystem(c);
    const boot = readBoot(answer.body);
    let bios: BiosInfo | undefined;
    const biosLink = (answer.body as { Bios?: { "@odata.id"?: unknown } } | undefined)?.Bios?.["@odata.id"];
    if (typeof biosLink === "string" && (!boot.hasUri || (boot.targets !== undefined && !boot.targets.includes("UefiHttp")))) {
      const biosAnswer = await c.client.request("GET", biosLink, { accept: [404] });
      if (biosAnswer.status < 400) bios = readBios(biosLink, biosAnswer.body);
    }
    const reset = await readReset(c.client, answer.body, c.system);
    known = { boot, bios, plan: planBoot(boot, bios), reset, etag: { etag: etagOf(answer) } };
    return { ...known, power: powerOf(answer.body) };
  };

  const ensureKnown = async (c: Connected) => known ?? (await learn(c));

  /** Sets the Boot override; a BMC that will not take HttpBootUri (HPE iLO) gets the plan without it. */
  const applyBoot = async (c: Connected, k: Known, url: string, notes: string[]) => {
    const answer = await patchResource(c.client, c.system, { Boot: bootPatch(k.plan, k.boot, url) }, k.etag, taskLimits, notes, [400]);
    if (answer.status !== 400) return;
    const said = JSON.stringify(answer.body ?? {});
    if (k.plan.url.kind === "HttpBootUri" && /HttpBootUri/.test(said)) {
      const bios = k.bios;
      const attribute = bios && (["HttpDev1Uri", "UrlBootFile"] as const).find((a) => a in bios.attributes);
      k.plan = { ...k.plan, url: attribute ? { kind: "bios", attribute, settings: bios!.settings } : { kind: "dhcp" } };
      notes.push(`the BMC refused HttpBootUri (HPE iLO does): ${attribute ? `the URL goes into the BIOS attribute ${attribute}` : "UefiHttp is set alone and the URL comes from DHCP"}`);
      await patchResource(c.client, c.system, { Boot: bootPatch(k.plan, k.boot, url) }, k.etag, taskLimits, notes);
      return;
    }
    if (k.plan.enabled === "Continuous" && /BootSourceOverrideEnabled/.test(said)) {
      k.plan = { ...k.plan, enabled: "Once" };
      notes.push("the BMC refused a Continuous boot override: set Once, and again after each `beacon boot`");
      await patchResource(c.client, c.system, { Boot: bootPatch(k.plan, k.boot, url) }, k.etag, taskLimits, notes);
      return;
    }
    await patchResource(c.client, c.system, { Boot: bootPatch(k.plan, k.boot, url) }, k.etag, taskLimits, notes, []);
  };

  const patchBios = async (c: Connected, settings: string, attributes: Record<string, unknown>, notes: string[]) => {
    const current = await c.client.request("GET", settings, { accept: [404] });
    await patchResource(c.client, settings, { Attributes: attributes }, { etag: current.status < 400 ? etagOf(current) : undefined }, taskLimits, notes);
  };

  const waitFor = async (c: Connected, want: PowerState) => {
    const deadline = Date.now() + taskLimits.taskTimeoutMs;
    for (;;) {
      if (powerOf((await getSystem(c)).body) === want) return;
      if (Date.now() > deadline) throw new PowerError(`the system is not ${want} ${taskLimits.taskTimeoutMs / 1000} s after the reset`, "timeout");
      await new Promise((resolve) => setTimeout(resolve, taskLimits.pollMs));
    }
  };

  const reset = async (type: string) => {
    const c = await connect();
    const k = await ensureKnown(c);
    await resetSystem(c.client, k.reset, type, taskLimits);
  };

  return {
    kind: "redfish",
    bmc,
    async check(): Promise<BmcCheck> {
      try {
        const c = await connect();
        const k = await learn(c);
        const notes = [...c.notes, ...k.plan.notes];
        if (!allows(k.reset, "PowerCycle")) notes.push(`no PowerCycle among the reset types (${k.reset.types!.join(", ")}): a cycle is ForceOff, then On once the BMC says Off`);
        return { power: k.power, bootTarget: describePlan(k.plan), notes, once: k.plan.enabled === "Once" };
      } catch (error) {
        return label(error);
      }
    },
    async pointAt(url) {
      try {
        const c = await connect();
        const k = await ensureKnown(c);
        const notes: string[] = [];
        before ??= { boot: k.boot, bios: undefined }; // as check() found it, before dispatch changed anything
        await applyBoot(c, k, url, notes);
        if (k.plan.url.kind === "bios" && k.bios) {
          const attributes = biosPatch(k.plan.url.attribute, k.bios, url);
          before.bios ??= Object.fromEntries(Object.keys(attributes).map((name) => [name, k.bios!.attributes[name]]));
          await patchBios(c, k.plan.url.settings, attributes, notes);
        }
        return [describePlan(k.plan), ...notes].join("; ");
      } catch (error) {
        return label(error);
      }
    },
    async rearm(url) {
      try {
        const c = await connect();
        const k = await ensureKnown(c);
        if (k.plan.enabled !== "Once") return;
        await patchResource(c.client, c.system, { Boot: bootPatch(k.plan, k.boot, url) }, k.etag, taskLimits, []);
      } catch (error) {
        label(error);
      }
    },
    async powerState() {
      try {
        return powerOf((await getSystem(await connect())).body);
      } catch (error) {
        return label(error);
      }
    },
    async on() {
      await reset("On").catch(label);
    },
    async off() {
      await reset("ForceOff").catch(label);
    },
    async cycle() {
      try {
        const c = await connect();
        const k = await ensureKnown(c);
        const power = powerOf((await getSystem(c)).body);
        if (power === "off") return await resetSystem(c.client, k.reset, "On", taskLimits);
        if (allows(k.reset, "PowerCycle")) return await resetSystem(c.client, k.reset, "PowerCycle", taskLimits);
        await resetSystem(c.client, k.reset, "ForceOff", taskLimits);
        await waitFor(c, "off");
        await resetSystem(c.client, k.reset, "On", taskLimits);
      } catch (error) {
        label(error);
      }
    },
    async restore() {
      if (!before || !known) return;
      try {
        const c = await connect();
        const k = known;
        const patch = restorePatch(before.boot, k.plan);
        if (Object.keys(patch).length) await patchResource(c.client, c.system, { Boot: patch }, k.etag, taskLimits, []);
        if (k.plan.url.kind === "bios" && before.bios) await patchBios(c, k.plan.url.settings, before.bios, []);
        before = undefined;
      } catch (error) {
        label(error);
      }
    },
    async close() {
      const c = await connecting?.catch(() => undefined);
      connecting = undefined;
      known = undefined;
      if (c) await logout(c.client).catch(label);
    },
  };
}
