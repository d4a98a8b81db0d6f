import { createServer, type Socket } from "node:net";
import { poweroffEfi } from "../../src/efi/poweroff.ts";
import type { EmulatedSystem } from "../redfish-emulator/system.ts";
import { http } from "./http-client.ts";

/**
 * A server that behaves like firmware and a workload, without a VM: powered on, it HTTP-boots
 * from the boot URL its BMC set (HEAD, then GET, from its own loopback address, as OVMF does),
 * then runs what it got:
 * - poweroff.efi: it switches itself off;
 * - a workload whose bytes start with "hang": it never calls back (until reset or power-off);
 * - any other workload: `beacon boot`, then `beacon report`, then it reboots and asks again.
 * `neverAsks`: its firmware cannot reach the boot URL (a wrong URL): it just sits there.
 * `serial`: a unix socket path where it serves its serial console, as QEMU's `-serial
 * unix:PATH,server` does: what OVMF and the workload print (OVMF's own wording for its errors).
 */
export type FirmwareServer = EmulatedSystem & {
  readonly ip: string;
  /** Each boot: the URL and what it got ("poweroff", a workload's size, or "error"). */
  readonly boots: { url: string | undefined; got: string }[];
  readonly reports: number;
  /** Stops its serial port (with `serial`). */
  closeSerial(): Promise<void>;
};

const hangs = new TextEncoder().encode("hang");
const startsWith = (bytes: Uint8Array, prefix: Uint8Array) => prefix.every((b, i) => bytes[i] === b);
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export function firmwareServer(ip: string, options: { neverAsks?: boolean; postMs?: number; serial?: string } = {}): FirmwareServer {
  let state: "On" | "Off" = "Off";
  const clients = new Set<Socket>();
  const serial = options.serial
    ? createServer((socket) => {
        clients.add(socket);
        socket.on("close", () => clients.delete(socket));
        socket.on("error", () => {});
      }).listen(options.serial)
    : undefined;
  const print = (text: string) => {
    for (const c of clients) c.write(text.replaceAll("\n", "\r\n"));
  };
  /** Bumped on every power change: a boot loop from before stops at its next step. */
  let generation = 0;
  let reports = 0;
  const boots: FirmwareServer["boots"] = [];

  const bootLoop = async (url: string | undefined, mine: number) => {
    const alive = () => generation === mine && state === "On";
    // A bounded loop: each pass is one boot; a real server reboots as often as it gets work.
    for (let pass = 0; pass < 50 && alive(); pass++) {
      // A reboot takes real firmware seconds: what the last boot printed has reached its console
      // before this boot asks (dispatch splits a console where the boot request comes).
      if (serial && pass > 0) await Bun.sleep(200);
      print("\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001 \"UEFI HTTPv4 (MAC:525400123456)\"\n>>Start HTTP Boot over IPv4.....\n");
      if (options.neverAsks || url === undefined) {
        print("  Error: Could not retrieve NBP file size from HTTP server.\n\nBdsDxe: failed to load Boot0001: Not Found\n");
        return;
      }
      if (options.postMs) await Bun.sleep(options.postMs); // the firmware's POST, as real servers spend it
      if (!alive()) return;
      let bytes: Uint8Array;
      try {
        await http(url, { method: "HEAD", from: ip });
        const reply = await http(url, { from: ip, timeoutMs: 30_000 });
        bytes = reply.body;
      } catch {
        // Nothing answers at the boot URL: like a server's boot manager, try again shortly.
        boots.push({ url, got: "error" });
        await Bun.sleep(500);
        continue;
      }
      if (!alive()) return;
      if (sameBytes(bytes, poweroffEfi)) {
        boots.push({ url, got: "poweroff" });
        state = "Off";
        return;
      }
      boots.push({ url, got: String(bytes.length) });
      print(`  Downloading...100%\nworkload of ${bytes.length} bytes on ${ip}: started\n`);
      if (startsWith(bytes, hangs)) {
        print(`\x1b[33mhang: step 1\x1b[0m\nhang: step 2\nhang: waiting for a lock that never comes`);
        return; // hung: only a reset or power-off helps
      }
      await http(url, { method: "POST", from: ip }).catch(() => undefined);
      if (!alive()) return;
      print(`workload of ${bytes.length} bytes: all good, reporting\n`);
      const report = JSON.stringify({ title: `ran ${bytes.length} bytes on ${ip}`, body: "all good" });
      const put = await http(url, { method: "PUT", from: ip, body: report, headers: { "content-type": "application/json" } }).catch(() => undefined);
      if (put?.status === 200) reports++;
    }
  };

  const boot = (url: string | undefined) => {
    const mine = ++generation;
    void bootLoop(url, mine);
  };

  return {
    ip,
    boots,
    get reports() {
      return reports;
    },
    power: () => state,
    async on(url) {
      if (state === "On") return;
      state = "On";
      boot(url);
    },
    async off() {
      state = "Off";
      generation++;
    },
    async reset(url) {
      if (state === "Off") return;
      boot(url);
    },
    async closeSerial() {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => (serial ? serial.close(() => resolve()) : resolve()));
    },
  };
}
