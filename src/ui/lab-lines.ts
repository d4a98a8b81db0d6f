import type { Server } from "../core/lab.ts";
import type { Change } from "../core/store.ts";
import type { LogEntry } from "./log-entry.ts";

/** The lines a change to the lab's servers deserves: decisions, their results, servers taken out. */
export function labEntries({ before, after }: Change): LogEntry[] {
  if (before.lab === after.lab || !after.lab) return [];
  const entries: LogEntry[] = [];
  for (const server of after.lab.servers) {
    const previous = before.lab?.servers.find((s) => s.name === server.name);
    if (!previous || previous === server) continue;
    const fields = { ip: server.ip, server: server.name };
    if (server.health.state === "quarantined" && previous.health.state !== "quarantined") {
      entries.push({ message: `⛔ ${server.name} taken out for the rest of the run: ${server.health.reason}`, fields: { ...fields, reason: server.health.reason } });
    }
    if (server.consoleError && server.consoleError !== previous.consoleError) {
      entries.push({ message: `🖥️ ${server.name}'s firmware says: ${server.consoleError.line}`, fields: { ...fields, reason: server.consoleError.line } });
    }
    const last = server.last;
    if (last && last !== previous.last) {
      entries.push(
        last.ok
          ? { message: `🔌 ${server.name}: ${words(last.action)} ${last.assumed ? `taken as done (${last.assumed})` : "done"}`, fields }
          : { message: `⚠️ ${server.name}: ${words(last.action)} failed: ${last.error ?? "no reason given"}`, fields: { ...fields, error: last.error ?? "" } },
      );
    }
    if (server.pending && server.pending.id !== previous.pending?.id) {
      entries.push({ message: `🔌 ${server.name}: ${words(server.pending.action)} (${server.pending.reason})`, fields: { ...fields, reason: server.pending.reason } });
    }
    // Off with no action of ours: the BMC said so after poweroff.efi.
    if (server.stage === "off" && previous.stage === "running" && last === previous.last) {
      entries.push({ message: `💤 ${server.name} is off (poweroff.efi), by its BMC's word`, fields });
    }
  }
  return entries;
}

function words(action: NonNullable<Server["pending"]>["action"]): string {
  switch (action) {
    case "point":
      return "pointing its boot at dispatch";
    case "on":
      return "powering on";
    case "cycle":
      return "power-cycling";
    case "off":
      return "switching off";
    case "rearm":
      return "arming its one-time boot override again";
    case "restore":
      return "putting back its boot settings";
    default:
      return action satisfies never;
  }
}
