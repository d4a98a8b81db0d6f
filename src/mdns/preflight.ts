import { createSocket } from "node:dgram";

const group = "224.0.0.251";
const port = 5353;

/** An ordinary mDNS question (PTR `_dispatch._tcp.local`), so the check sends nothing unusual. */
const question = new Uint8Array([
  0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, // id 0, flags 0, one question
  9, ...new TextEncoder().encode("_dispatch"), 4, ...new TextEncoder().encode("_tcp"), 5, ...new TextEncoder().encode("local"), 0,
  0, 12, 0, 1, // PTR, IN
]);

/**
 * Does on one interface what ciao does (share port 5353, join the mDNS group, send from the
 * interface's address) and returns why that failed, or undefined. ciao itself swallows such
 * failures (socket errors like EPERM are "silenced", bind failures only printed), and then
 * reports the service as announced although nothing left the machine.
 */
export async function multicastProblem(ipv4: string, timeoutMs = 2000): Promise<string | undefined> {
  const socket = createSocket({ type: "udp4", reuseAddr: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const steps = (async () => {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, () => (socket.off("error", reject), resolve()));
    }).catch((error) => Promise.reject(new Error(`cannot use UDP port ${port}: ${reason(error)}`)));
    try {
      socket.addMembership(group, ipv4);
      socket.setMulticastInterface(ipv4);
    } catch (error) {
      throw new Error(`cannot join the mDNS multicast group: ${reason(error)}`);
    }
    await new Promise<void>((resolve, reject) => socket.send(question, port, group, (error) => (error ? reject(error) : resolve()))).catch(
      (error) => Promise.reject(new Error(`cannot send multicast: ${reason(error)}`)),
    );
  })();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("no answer from the network stack in time")), timeoutMs);
  });
  try {
    await Promise.race([steps, timeout]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    clearTimeout(timer);
    steps.catch(() => {});
    try {
      socket.close();
    } catch {
      // already closed after a failed bind
    }
  }
}

const hints: Record<string, string> = {
  EADDRINUSE: "another program holds the port without sharing it",
  EPERM: "a firewall or the system's policy forbids it",
  EACCES: "not permitted",
};

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const hint = e.code ? hints[e.code] : undefined;
  return `${e?.message ?? String(error)}${hint ? `; ${hint}` : ""}`;
}
