import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The temporary folders a test file makes, each in the system's temp folder under a prefix that
 * names the test. `removeAll` deletes them; call it in `afterEach` (or `afterAll`) once whatever
 * used them (a dispatch, a server) has stopped.
 */
export function tempDirs() {
  const made: string[] = [];
  return {
    make(prefix: string): string {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    removeAll(): void {
      for (const dir of made.splice(0).reverse()) rmSync(dir, { recursive: true, force: true });
    },
  };
}
