import { basename, dirname, join } from "node:path";
import type { Files } from "../../runtime/types.ts";

/**
 * Replaces a file whole: the text goes to a file beside it, is flushed, then renamed over it and
 * the folder flushed. A reader (or a crash, even SIGKILL or a power cut) sees the old file or the
 * new one, never half of one.
 */
export async function replaceFile(files: Files, path: string, text: string): Promise<void> {
  const folder = dirname(path);
  const aside = join(folder, `.${basename(path)}.tmp`);
  await files.writeDurably(aside, text);
  await files.rename(aside, path);
  await files.syncDir(folder);
}

/**
 * Runs `write` again whenever it is poked, never two at once: pokes that come while a write runs
 * make one more write after it, so the last state always reaches the disk and none is written twice over.
 */
export function rewriter(write: () => Promise<void>, onError: (error: unknown) => void): { poke(): void; flush(): Promise<void> } {
  let running: Promise<void> | undefined;
  let dirty = false;
  const run = async () => {
    while (dirty) {
      dirty = false;
      try {
        await write();
      } catch (error) {
        onError(error);
      }
    }
    running = undefined;
  };
  return {
    poke() {
      dirty = true;
      running ??= run();
    },
    async flush() {
      while (running) await running;
    },
  };
}
