import { join } from "node:path";
import type { OpenSpool, TextSpool } from "../http/report-reader.ts";
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
  return async (at, ip) => {
    await files.mkdirp(join(stateDir, reportsFolder));
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
