import type { BigIntStats } from "node:fs";
import { mkdir, open, readFile, readdir, rename, rm, stat, truncate } from "node:fs/promises";
import type { AppendFile, FileStat, Files, ReadFile } from "../types.ts";

/** Files through `node:fs`, which Bun implements natively. */
export const nodeFiles: Files = {
  async mkdirp(path) {
    await mkdir(path, { recursive: true, mode: 0o700 });
  },
  async readText(path) {
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  },
  async writeDurably(path, text) {
    const file = await open(path, "w", 0o600);
    try {
      await file.writeFile(text, "utf8");
      await file.datasync();
    } finally {
      await file.close();
    }
  },
  rename: (from, to) => rename(from, to),
  async truncate(path, length) {
    await truncate(path, length);
    const file = await open(path, "r+");
    try {
      await file.datasync();
    } finally {
      await file.close();
    }
  },
  remove: (path) => rm(path, { force: true }),
  async openAppend(path): Promise<AppendFile> {
    const file = await open(path, "a", 0o600);
    return {
      async write(bytes) {
        for (let offset = 0; offset < bytes.byteLength; ) {
          const { bytesWritten } = await file.write(bytes, offset, bytes.byteLength - offset);
          offset += bytesWritten;
        }
      },
      sync: () => file.datasync(),
      close: () => file.close(),
    };
  },
  list: (dir) => readdir(dir),
  async stat(path) {
    try {
      return statOf(await stat(path, { bigint: true }));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  },
  async openRead(path): Promise<ReadFile> {
    const file = await open(path, "r");
    return {
      stat: async () => statOf(await file.stat({ bigint: true })),
      read: async (into, position) => (await file.read(into, 0, into.byteLength, position)).bytesRead,
      close: () => file.close(),
    };
  },
  async syncDir(dir) {
    const file = await open(dir, "r");
    try {
      await file.sync();
    } finally {
      await file.close();
    }
  },
};

function statOf(s: BigIntStats): FileStat {
  return {
    kind: s.isFile() ? "file" : s.isDirectory() ? "directory" : "other",
    size: Number(s.size),
    modifiedNs: String(s.mtimeNs),
    inode: Number(s.ino),
  };
}
