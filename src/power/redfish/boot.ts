/**
 * The system's Boot object (ComputerSystem.v1_x: BootSourceOverrideTarget/Enabled/Mode,
 * HttpBootUri since v1_9) and how dispatch points it at itself on this BMC.
 */

export type BootSettings = {
  readonly target?: string;
  readonly enabled?: string;
  readonly mode?: string;
  /** null: the BMC has the property, empty. */
  readonly uri?: string | null;
};

export type BootInfo = BootSettings & {
  /** BootSourceOverrideTarget@Redfish.AllowableValues; undefined when the BMC does not say. */
  readonly targets?: readonly string[];
  readonly enabledValues?: readonly string[];
  /** Whether the Boot object has HttpBootUri at all (Dell iDRAC has not). */
  readonly hasUri: boolean;
  readonly hasMode: boolean;
};

/** Where the boot URL goes on this BMC. */
export type UrlPlace =
  | { readonly kind: "HttpBootUri" }
  /** A BIOS attribute (Dell HttpDev1Uri, HPE UrlBootFile), set through the Bios settings object; applied at the next boot. */
  | { readonly kind: "bios"; readonly attribute: "HttpDev1Uri" | "UrlBootFile"; readonly settings: string }
  /** Nowhere: the firmware gets it from DHCP. */
  | { readonly kind: "dhcp" };

export type BootPlan = {
  readonly target: "UefiHttp" | "Pxe";
  readonly enabled: "Continuous" | "Once";
  readonly url: UrlPlace;
  readonly notes: readonly string[];
};

const strings = (value: unknown): string[] | undefined => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : undefined);
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

export function readBoot(system: unknown): BootInfo {
  const boot = ((system as { Boot?: unknown } | undefined)?.Boot ?? {}) as Record<string, unknown>;
  return {
    target: text(boot.BootSourceOverrideTarget),
    enabled: text(boot.BootSourceOverrideEnabled),
    mode: text(boot.BootSourceOverrideMode),
    uri: boot.HttpBootUri === null ? null : text(boot.HttpBootUri),
    targets: strings(boot["BootSourceOverrideTarget@Redfish.AllowableValues"]),
    enabledValues: strings(boot["BootSourceOverrideEnabled@Redfish.AllowableValues"]),
    hasUri: "HttpBootUri" in boot,
    hasMode: "BootSourceOverrideMode" in boot,
  };
}

/** The Bios resource's attributes and where its pending settings are PATCHed (`@Redfish.Settings`). */
export type BiosInfo = { readonly path: string; readonly attributes: Record<string, unknown>; readonly settings: string };

export function readBios(path: string, bios: unknown): BiosInfo {
  const body = (bios ?? {}) as Record<string, unknown>;
  const settingsObject = (body["@Redfish.Settings"] as { SettingsObject?: { "@odata.id"?: unknown } } | undefined)?.SettingsObject?.["@odata.id"];
  return {
    path,
    attributes: (body.Attributes ?? {}) as Record<string, unknown>,
    settings: typeof settingsObject === "string" ? settingsObject : `${path.replace(/\/$/, "")}/Settings`,
  };
}

/** Decides how to point this system at dispatch, from what the BMC says it allows. */
export function planBoot(boot: BootInfo, bios: BiosInfo | undefined): BootPlan {
  const notes: string[] = [];
  const httpAllowed = boot.targets === undefined || boot.targets.includes("UefiHttp");
  if (!httpAllowed) {
    notes.push(
      `UefiHttp is not among the BMC's boot targets (${boot.targets!.join(", ") || "none"}; OpenBMC is so): Pxe in UEFI mode instead, and the firmware's network boot takes the URL from DHCP (see the lab guide)`,
    );
  }
  const enabled = boot.enabledValues === undefined || boot.enabledValues.includes("Continuous") ? "Continuous" : "Once";
  if (enabled === "Once") notes.push("the BMC allows no Continuous boot override: set Once, and again after each `beacon boot`");
  let url: UrlPlace = { kind: "dhcp" };
  if (httpAllowed && boot.hasUri) url = { kind: "HttpBootUri" };
  else if (httpAllowed) {
    const attribute = bios && (["HttpDev1Uri", "UrlBootFile"] as const).find((a) => a in bios.attributes);
    if (attribute) {
      url = { kind: "bios", attribute, settings: bios!.settings };
      notes.push(`no HttpBootUri on this BMC: the URL goes into the BIOS attribute ${attribute} (Dell iDRAC: HttpDev1Uri, HPE iLO: UrlBootFile), applied at the next power-on`);
    } else {
      notes.push("no HttpBootUri on this BMC: UefiHttp is set alone and the firmware takes the URL from DHCP (see the lab guide)");
    }
  }
  return { target: httpAllowed ? "UefiHttp" : "Pxe", enabled, url, notes };
}

export function describePlan(plan: BootPlan): string {
  const where = plan.url.kind === "HttpBootUri" ? " + HttpBootUri" : plan.url.kind === "bios" ? ` + BIOS ${plan.url.attribute}` : ", URL from DHCP";
  return `${plan.target}${where}, ${plan.enabled}`;
}

/** The Boot PATCH that points the system at `url` (HttpBootUri only where it goes there). */
export function bootPatch(plan: BootPlan, boot: BootInfo, url: string): Record<string, string> {
  return {
    BootSourceOverrideTarget: plan.target,
    BootSourceOverrideEnabled: plan.enabled,
    ...(boot.hasMode ? { BootSourceOverrideMode: "UEFI" } : {}),
    ...(plan.url.kind === "HttpBootUri" ? { HttpBootUri: url } : {}),
  };
}

/** The Boot PATCH that puts back what was there before (only what was there). */
export function restorePatch(before: BootSettings, plan: BootPlan): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  if (before.target !== undefined) patch.BootSourceOverrideTarget = before.target;
  if (before.enabled !== undefined) patch.BootSourceOverrideEnabled = before.enabled;
  if (before.mode !== undefined) patch.BootSourceOverrideMode = before.mode;
  if (plan.url.kind === "HttpBootUri" && before.uri !== undefined) patch.HttpBootUri = before.uri;
  return patch;
}

/** The BIOS attributes that carry the URL (the device enabled, TLS off for a plain http:// URL). */
export function biosPatch(attribute: "HttpDev1Uri" | "UrlBootFile", bios: BiosInfo, url: string): Record<string, string> {
  if (attribute === "UrlBootFile") return { UrlBootFile: url };
  return {
    HttpDev1EnDis: "Enabled",
    HttpDev1Uri: url,
    // iDRAC defaults to one-way TLS and then refuses a plain http:// boot URL (UEFI0417).
    ...("HttpDev1TlsMode" in bios.attributes && url.startsWith("http:") ? { HttpDev1TlsMode: "None" } : {}),
  };
}
