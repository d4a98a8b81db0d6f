import { run } from "./processes.ts";

/**
 * Network namespaces joined by veth pairs: a second host on a lab network, made by the test and
 * deleted by it. Traffic stays inside the machine; nothing touches the machine's own interfaces.
 * Names carry a random tag, so concurrent test runs do not meet.
 */
export type Netns = {
  /** Namespace names, all starting with the run's tag. */
  readonly tag: string;
  /** Creates a namespace with loopback up, and no route but its own links'. */
  add(name: string): string;
  /** A bridge named `br0` in namespace `ns`, holding `address` (CIDR). */
  bridge(ns: string, address: string): void;
  /** A veth pair: `ifname` with `address` (CIDR) in `ns`, its other end in `peerNs` (enslaved to `master` if given). */
  link(ns: string, ifname: string, address: string, peerNs: string, peer: { ifname: string; address?: string; master?: string }): void;
  /** Runs a command inside `ns` to completion. */
  exec(ns: string, command: string[], options?: { timeoutMs?: number; allowFailure?: boolean }): ReturnType<typeof run>;
  /** Deletes every namespace made (their interfaces go with them). */
  destroy(): void;
};

/** Why the namespace tests cannot run here, or undefined when they can. */
export function namespaceProblem(commands: string[]): string | undefined {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "making network namespaces needs root";
  const missing = commands.filter((c) => !Bun.which(c, { PATH: `${process.env.PATH}:/usr/sbin:/sbin` }));
  if (missing.length) return `missing ${missing.join(", ")} (bash scripts/setup-test-host.sh installs them)`;
  const probe = `dprobe-${process.pid}`;
  const added = run(["ip", "netns", "add", probe], { allowFailure: true });
  if (added.code !== 0) return `ip netns add failed: ${added.stderr.trim()}`;
  run(["ip", "netns", "del", probe], { allowFailure: true });
  return undefined;
}

export function makeNetns(): Netns {
  const tag = `d${Math.random().toString(16).slice(2, 8)}`;
  const made: string[] = [];
  let veths = 0;
  return {
    tag,
    add(name) {
      const ns = `${tag}-${name}`;
      run(["ip", "netns", "add", ns]);
      made.push(ns);
      run(["ip", "-n", ns, "link", "set", "lo", "up"]);
      return ns;
    },
    bridge(ns, address) {
      run(["ip", "-n", ns, "link", "add", "br0", "type", "bridge"]);
      run(["ip", "-n", ns, "addr", "add", address, "dev", "br0"]);
      run(["ip", "-n", ns, "link", "set", "br0", "up"]);
    },
    link(ns, ifname, address, peerNs, peer) {
      // Created straight into the namespaces under unique names, then renamed there.
      const a = `${tag}v${veths}`;
      const b = `${tag}w${veths++}`;
      run(["ip", "link", "add", a, "netns", ns, "type", "veth", "peer", "name", b, "netns", peerNs]);
      run(["ip", "-n", ns, "link", "set", "dev", a, "name", ifname]);
      run(["ip", "-n", peerNs, "link", "set", "dev", b, "name", peer.ifname]);
      run(["ip", "-n", ns, "addr", "add", address, "dev", ifname]);
      if (peer.address) run(["ip", "-n", peerNs, "addr", "add", peer.address, "dev", peer.ifname]);
      if (peer.master) run(["ip", "-n", peerNs, "link", "set", "dev", peer.ifname, "master", peer.master]);
      run(["ip", "-n", peerNs, "link", "set", "dev", peer.ifname, "up"]);
      run(["ip", "-n", ns, "link", "set", "dev", ifname, "up"]);
    },
    exec(ns, command, options) {
      return run(["ip", "netns", "exec", ns, ...command], options);
    },
    destroy() {
      for (const ns of made.splice(0)) run(["ip", "netns", "del", ns], { allowFailure: true });
    },
  };
}
