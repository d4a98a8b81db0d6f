import { existsSync } from "node:fs";

/** The programs the bench runs besides dispatch: the storage host, the two proxies, the CA maker. */
export type Tools = { readonly nginx: string; readonly haproxy: string; readonly openssl: string };

const places = (name: string) => [`/usr/sbin/${name}`, `/usr/local/sbin/${name}`, `/usr/bin/${name}`, `/usr/local/bin/${name}`];
const find = (name: string) => places(name).find((path) => existsSync(path)) ?? Bun.which(name) ?? undefined;

/**
 * Finds nginx, haproxy, openssl and curl (the bench's client); installs the missing ones from
 * Debian when we are root, as scripts/setup-test-host.sh does.
 */
export async function ensureTools(log: (line: string) => void): Promise<Tools> {
  const wanted = ["nginx", "haproxy", "openssl", "curl"] as const;
  const missing = wanted.filter((name) => !find(name));
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) {
      throw new Error(`${missing.join(", ")} not installed: run \`apt-get install -y ${missing.join(" ")}\` (or scripts/setup-test-host.sh) as root, or run the bench as root`);
    }
    log(`installing ${missing.join(", ")} from Debian (apt-get install ${missing.join(" ")})`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const command of [
      ["apt-get", "update", "-qq"],
      ["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing],
    ]) {
      const child = Bun.spawn(command, { env, stdout: "ignore", stderr: "inherit" });
      if ((await child.exited) !== 0) throw new Error(`${command.join(" ")} failed`);
    }
  }
  const path = (name: string) => {
    const found = find(name);
    if (!found) throw new Error(`${name} was installed but its binary was not found`);
    return found;
  };
  return { nginx: path("nginx"), haproxy: path("haproxy"), openssl: path("openssl") };
}
