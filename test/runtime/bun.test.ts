import { describe } from "bun:test";
import { join } from "node:path";
import { fullCycleTests } from "../support/full-cycle.ts";

// The same run from source under Bun, the baseline the binary and Deno are held to.
describe("bun src/main.ts", () => {
  fullCycleTests(async () => ({
    command: [process.execPath, "src/main.ts"],
    cwd: join(import.meta.dir, "../.."),
    env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" },
  }));
});
