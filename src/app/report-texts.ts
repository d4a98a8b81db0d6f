import { join } from "node:path";
import type { OpenSpool, TextSpool } from "../http/report-reader.ts";
import type { DispatchEvent } from "../core/events.ts";
import type { Files } from "../runtime/types.ts";

/** The folder of the state folder where long report texts are kept, whole. */
export const reportsFolder = "reports";

/**
 * Long report bodies, each streamed into its own file under `reports/` in the state folder as
 * it arrives (`<arrival time>-<server>.txt`, the body's text as sent), flushed to the disk
 * before the report is answered. The journal names the file.
 */
export function reportTexts(files: Files, stateDir: string): OpenSpool {
  // Names given out by this process (a later process starts at a later millisecond).
  const taken = new Set<string>();
  const folder = join(stateDir, reportsFolder);
  let folderKept: Promise<void> | undefined;
  return async (at, ip) => {
    // The folder's own entry in the state folder is flushed once, so a power cut cannot lose it.
    folderKept ??= files.mkdirp(folder).then(() => files.syncDir(stateDir));
    await folderKept.catch((error: unknown) => {
      folderKept = undefined;
      throw error;
    });
    const base = `${new Date(at).toISOString().replaceAll(":", "-")}-${ip.replaceAll(/[^0-9A-Za-z.]/g, "-")}`;
    let name = `${base}.txt`;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}.txt`;
    taken.add(name);
    const file = `${reportsFolder}/${name}`;
    const path = join(stateDir, file);
    const out = await files.openAppend(path);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await out.close();
    };
    const spool: TextSpool = {
      write: (bytes) => out.write(bytes),
      async finish() {
        await out.sync();
        await close();
        // The new file's name in the folder too: the answer says the report is safe.
        await files.syncDir(folder);
        return file;
      },
      async discard() {
        await close().catch(() => {});
        await files.remove(path);
      },
    };
    return spool;
  };
}

/** `2026-12-02T14-38-06.123Z-192.0.2.7.txt` → its arrival time, as `reportTexts` names a text. */
function arrivalOf(name: string): number | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d\.\d{3}Z)-.*\.txt$/.exec(name);
  return match ? Date.parse(`${match[1]}:${match[2]}:${match[3]}`) : undefined;
}

/**
 * Removes report texts that arrived in this journal's run but that no journal line names: a
 * crash (or power cut) after the text was written and before its report was recorded. Such a
 * report was never answered 200, so beacon sends it again. Texts from before the journal's
 * first event belong to earlier runs (journals kept aside) and stay. Returns the removed files
 * (relative to the state folder).
 */
export async function removeUnrecorded(files: Files, stateDir: string, events: readonly DispatchEvent[]): Promise<string[]> {
  const first = events[0]?.at;
  if (first === undefined) return [];
  const recorded = new Set(events.flatMap((event) => (event.type === "reported" && event.report.kept ? [event.report.kept.file] : [])));
  const names = await files.list(join(stateDir, reportsFolder)).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names.sort()) {
    const file = `${reportsFolder}/${name}`;
    const arrived = arrivalOf(name);
    if (arrived === undefined || arrived < first || recorded.has(file)) continue;
    await files.remove(join(stateDir, file));
    removed.push(file);
  }
  if (removed.length) await files.syncDir(join(stateDir, reportsFolder));
  return removed;
}
