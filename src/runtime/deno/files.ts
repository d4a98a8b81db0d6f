import type { FileStat, Files } from "../types.ts";
import { Deno, type DenoFileInfo } from "./api.ts";

async function syncFile(path: string): Promise<void> {
  const file = await Deno.open(path, { read: true, write: true });
  try {
    await file.syncData();
  } finally {
    file.close();
  }
}

/** Files through Deno's own file API. */
export const denoFiles: Files = {
  mkdirp: (path) => Deno.mkdir(path, { recursive: true, mode: 0o700 }),
  async readText(path) {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  },
  async writeDurably(path, text) {
    await Deno.writeTextFile(path, text, { mode: 0o600 });
    await syncFile(path);
  },
  rename: (from, to) => Deno.rename(from, to),
  async truncate(path, length) {
    await Deno.truncate(path, length);
    await syncFile(path);
  },
  async remove(path) {
    await Deno.remove(path).catch((error: unknown) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  },
  async openAppend(path) {
    const file = await Deno.open(path, { append: true, create: true, mode: 0o600 });
    return {
      async write(bytes) {
        for (let offset = 0; offset < bytes.byteLength; ) offset += await file.write(bytes.subarray(offset));
      },
      sync: () => file.syncData(),
      close: async () => file.close(),
    };
  },
  async list(dir) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    return names;
  },
  async stat(path) {
    try {
      return denoStat(await Deno.stat(path));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  },
  async openRead(path) {
    const file = await Deno.open(path, { read: true });
    return {
      stat: async () => denoStat(await file.stat()),
      async read(into, position) {
        await file.seek(position, Deno.SeekMode.Start);
        return (await file.read(into)) ?? 0;
      },
      close: async () => file.close(),
    };
  },
  async syncDir(dir) {
    const file = await Deno.open(dir, { read: true });
    try {
      await file.sync();
    } finally {
      file.close();
    }
  },
};

/** Deno reports modification times to the millisecond only. */
function denoStat(info: DenoFileInfo): FileStat {
  return {
    kind: info.isFile ? "file" : info.isDirectory ? "directory" : "other",
    size: info.size,
    modifiedNs: String(BigInt(info.mtime?.getTime() ?? 0) * 1_000_000n),
    inode: info.ino ?? 0,
  };
}
