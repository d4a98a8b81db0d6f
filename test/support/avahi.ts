import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, run, startProcess } from "./processes.ts";
import { until } from "./until.ts";

/** One resolved service, from an `=` line of `avahi-browse -p -r`. */
export type Resolved = { iface: string; name: string; host: string; address: string; port: number; txt: Record<string, string> };

export type AvahiPeer = {
  /** `avahi-browse -r -t -p` once: everything resolved now. */
  browse(type: string): Resolved[];
  /** Browses until `check` holds for what was resolved; bounded. */
  browseUntil(type: string, check: (found: Resolved[]) => boolean, what: string, timeoutMs?: number): Promise<Resolved[]>;
  /** A running `avahi-browse -p` (no -t), whose `+`/`-` lines show services coming and going. */
  watch(type: string): Child;
  stop(): Promise<void>;
};

/**
 * A real Avahi daemon, as on the machine where beacon runs, inside namespace `ns`. It gets a
 * D-Bus of its own (the system bus socket path is the same in every network namespace, and
 * Avahi owns one well-known name per bus) and a private /run (Avahi's pid file and socket are
 * fixed paths there), so neither the machine's services nor a concurrent test run are touched.
 * Its own configuration: host name "peer" (namespaces share the machine's host name), IPv4 only.
 */
export async function startAvahiPeer(ns: string): Promise<AvahiPeer> {
  const dir = mkdtempSync(join(tmpdir(), "dispatch-avahi-"));
  const bus = join(dir, "bus");
  const env = { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` };
  writeFileSync(
    join(dir, "bus.conf"),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${bus}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`,
  );
  writeFileSync(
    join(dir, "peer.conf"),
    "[server]\nhost-name=peer\nuse-ipv4=yes\nuse-ipv6=no\nenable-dbus=yes\n[publish]\npublish-hinfo=no\npublish-workstation=no\n",
  );

  const started: Child[] = [];
  const stop = async () => {
    // The last started first: avahi-daemon before the bus it talks to.
    for (const child of started.reverse()) await child.stop(3000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const dbus = startProcess(["dbus-daemon", `--config-file=${join(dir, "bus.conf")}`, "--nofork", "--nopidfile"]);
    started.push(dbus);
    await until(() => existsSync(bus), "dbus-daemon's socket", {
      hopeless: () => (dbus.running() ? undefined : "dbus-daemon exited"),
      context: () => dbus.output(),
    });
    const avahi = startProcess(
      [
        "ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "sh", "-c",
        `mount -t tmpfs tmpfs /run && exec avahi-daemon -f '${join(dir, "peer.conf")}' --no-drop-root --no-rlimits --no-chroot --no-proc-title`,
      ],
      { name: "avahi-daemon", env },
    );
    started.push(avahi);
    await avahi.waitFor(/Server startup complete/);
  } catch (error) {
    await stop();
    throw error;
  }

  const browse = (type: string) => {
    const out = run(["timeout", "15", "ip", "netns", "exec", ns, "avahi-browse", "-r", "-t", "-p", "-k", type], { env, timeoutMs: 20_000 });
    return parseResolved(out.stdout);
  };
  return {
    browse,
    async browseUntil(type, check, what, timeoutMs = 20_000) {
      let found: Resolved[] = [];
      await until(() => check((found = browse(type))), `avahi to see ${what}`, { timeoutMs, everyMs: 300, context: () => `last saw ${JSON.stringify(found)}` });
      return found;
    },
    watch(type) {
      const child = startProcess(["timeout", "60", "ip", "netns", "exec", ns, "avahi-browse", "-p", "-k", type], { name: "avahi-browse", env });
      started.push(child);
      return child;
    },
    stop,
  };
}

/** avahi-browse -p writes names with `\DDD` (decimal) and `\c` escapes. */
export const unescapeAvahi = (s: string) => s.replace(/\\(\d{3}|.)/g, (_, e: string) => (e.length === 3 ? String.fromCharCode(Number(e)) : e));

export function parseResolved(stdout: string): Resolved[] {
  const found: Resolved[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("=;")) continue;
    const [, iface, , name, , , host, address, port, ...rest] = line.split(";");
    const txt: Record<string, string> = {};
    for (const [, entry] of rest.join(";").matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
      const text = unescapeAvahi(entry!);
      const eq = text.indexOf("=");
      if (eq > 0) txt[text.slice(0, eq)] = text.slice(eq + 1);
    }
    found.push({ iface: iface!, name: unescapeAvahi(name!), host: host!, address: address!, port: Number(port), txt });
  }
  return found;
}
