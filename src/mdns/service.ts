/** The DNS-SD service beacon browses for: `_dispatch._tcp`. */
export const serviceType = "dispatch";

/** `dispatch-` and a random suffix, so several dispatch instances on one network do not collide. */
export function instanceName(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(2));
  return `dispatch-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A TXT value is one DNS character-string: at most 255 bytes with its `key=`. */
function fit(key: string, value: string): string {
  const room = 255 - key.length - 1;
  const bytes = new TextEncoder().encode(value);
  if (bytes.length <= room) return value;
  return new TextDecoder().decode(bytes.subarray(0, room - 3)).replace(/\uFFFD$/, "") + "...";
}

/** The TXT record beacon reads: `path` is the boot path; `version` and `description` are for people. */
export function serviceTxt(path: string, version: string, description: string): Record<string, string> {
  const oneLine = description.replace(/\s+/g, " ").trim();
  return { path, version: fit("version", version), description: fit("description", oneLine) };
}
