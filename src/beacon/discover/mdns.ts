import { type Socket, createSocket } from "node:dgram";
import { networkInterfaces } from "node:os";
import * as dns from "dns-packet";
import type { Candidate, Found } from "../candidate.ts";

/**
 * Finds dispatch by asking the link with mDNS itself: no Avahi, no D-Bus, which minimal
 * workload images lack. The questions go from an ephemeral port on each IPv4 interface to
 * 224.0.0.251:5353, a "one-shot" query (RFC 6762 §5.1): responders answer it by unicast to
 * that port, so nothing here binds 5353 or joins the group, and an Avahi already running on
 * the machine is not disturbed. dns-packet encodes and decodes the messages.
 */

export const SERVICE = "_dispatch._tcp.local";
const GROUP = "224.0.0.251";
const PORT = 5353;
/** The path dispatch uses when its TXT record gives none. */
const DEFAULT_PATH = "/dispatch";

type Answer = dns.Answer;

/** Loopback and link-local addresses: dispatch announces them too, but a workload cannot use them. */
export function usableAddress(address: string): boolean {
  if (address.includes(":")) {
    const a = address.toLowerCase();
    return a !== "::1" && !/^fe[89ab]/.test(a);
  }
  return !address.startsWith("127.") && !address.startsWith("169.254.") && address !== "0.0.0.0";
}

/** IPv4 addresses of this machine's interfaces that can reach a lab network. */
function localAddresses(): { name: string; address: string }[] {
  return Object.entries(networkInterfaces()).flatMap(([name, addresses]) =>
    (addresses ?? []).filter((a) => a.family === "IPv4" && !a.internal && usableAddress(a.address)).map((a) => ({ name, address: a.address })),
  );
}

const txtValue = (record: Answer | undefined, key: string): string | undefined => {
  if (record?.type !== "TXT") return undefined;
  const entries = Array.isArray(record.data) ? record.data : [record.data];
  for (const entry of entries) {
    const text = typeof entry === "string" ? entry : new TextDecoder().decode(entry);
    const eq = text.indexOf("=");
    if (eq > 0 && text.slice(0, eq).toLowerCase() === key) return text.slice(eq + 1);
  }
  return undefined;
};

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** What the answers so far say: each instance with its port, path and usable addresses. */
function resolve(records: readonly Answer[], responders: ReadonlyMap<string, string>) {
  const instances = [...new Set(records.flatMap((r) => (r.type === "PTR" && same(r.name, SERVICE) ? [r.data] : [])))].sort();
  return instances.map((instance) => {
    const srv = records.find((r): r is Extract<Answer, { type: "SRV" }> => r.type === "SRV" && same(r.name, instance));
    const txt = records.find((r) => r.type === "TXT" && same(r.name, instance));
    const target = srv?.data.target;
    const addresses = target
      ? [...new Set(records.flatMap((r) => ((r.type === "A" || r.type === "AAAA") && same(r.name, target) ? [r.data] : [])))]
      : [];
    // The address the answer came from, for a responder that sent no address records.
    const source = responders.get(instance.toLowerCase());
    const usable = addresses.filter(usableAddress);
    if (usable.length === 0 && source && usableAddress(source)) usable.push(source);
    return { instance, target, port: srv?.data.port, path: txtValue(txt, "path"), usable, addresses };
  });
}

const urlFor = (address: string, port: number, path: string) =>
  `http://${address.includes(":") ? `[${address}]` : address}:${port}${path.startsWith("/") ? path : `/${path}`}`;

/**
 * Asks each interface for `_dispatch._tcp.local`, then for whatever records the answers left
 * out (SRV, TXT, address), and after `windowMs` turns what came back into URLs: one per usable
 * address of each instance, instances in name order.
 */
export async function fromMdns(windowMs: number): Promise<Found> {
  const interfaces = localAddresses();
  const notes: string[] = [];
  if (interfaces.length === 0) return { candidates: [], notes: ["mDNS: no network interface with an IPv4 address to ask on"] };

  const records: Answer[] = [];
  const responders = new Map<string, string>();
  const sockets: Socket[] = [];
  const send = (socket: Socket, questions: dns.Question[]) => {
    const message = dns.encode({ type: "query", id: Math.floor(Math.random() * 0xffff) + 1, flags: 0, questions });
    socket.send(message, PORT, GROUP, () => {});
  };
  const followUps = (): dns.Question[] => {
    const questions: dns.Question[] = [{ type: "PTR", name: SERVICE }];
    for (const found of resolve(records, responders)) {
      if (found.port === undefined) questions.push({ type: "SRV", name: found.instance });
      if (found.path === undefined) questions.push({ type: "TXT", name: found.instance });
      if (found.target && found.addresses.length === 0) questions.push({ type: "A", name: found.target });
    }
    return questions;
  };

  try {
    for (const { name, address } of interfaces) {
      const socket = createSocket({ type: "udp4" });
      socket.on("message", (message, from) => {
        let packet: dns.Packet;
        try {
          packet = dns.decode(message);
        } catch {
          return; // not DNS, or damaged: other answers still count
        }
        if (packet.type !== "response") return;
        for (const record of [...(packet.answers ?? []), ...(packet.additionals ?? [])]) {
          records.push(record);
          if (record.type === "PTR" && same(record.name, SERVICE)) responders.set(record.data.toLowerCase(), from.address);
        }
      });
      socket.on("error", (error) => notes.push(`mDNS on ${name} (${address}): ${error.message}`));
      const bound = await new Promise<boolean>((resolve) => {
        socket.once("error", () => resolve(false));
        socket.bind({ address, port: 0 }, () => resolve(true));
      });
      if (!bound) {
        socket.close();
        continue;
      }
      socket.setMulticastInterface(address);
      socket.setMulticastTTL(255);
      sockets.push(socket);
      send(socket, [{ type: "PTR", name: SERVICE }]);
    }
    // Ask again part-way: a lost datagram, or records the first answers left out.
    await new Promise((r) => setTimeout(r, windowMs / 3));
    for (const socket of sockets) send(socket, followUps());
    await new Promise((r) => setTimeout(r, (windowMs * 2) / 3));
  } finally {
    for (const socket of sockets) socket.close();
  }

  const candidates: Candidate[] = [];
  for (const found of resolve(records, responders)) {
    const label = `mDNS "${found.instance}"`;
    if (found.port === undefined) {
      notes.push(`${label}: no SRV record came back, skipped`);
      continue;
    }
    if (found.usable.length === 0) {
      notes.push(`${label}: only loopback or link-local addresses (${found.addresses.join(", ") || "none"}), skipped`);
      continue;
    }
    for (const address of found.usable) candidates.push({ url: urlFor(address, found.port, found.path ?? DEFAULT_PATH), from: label });
  }
  if (candidates.length === 0 && notes.length === 0) {
    notes.push(`mDNS: no answer for ${SERVICE} within ${windowMs} ms on ${interfaces.map((i) => i.name).join(", ")}`);
  }
  return { candidates: [...new Map(candidates.map((c) => [c.url, c])).values()], notes };
}
