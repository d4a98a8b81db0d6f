import { describe } from "bun:test";
import { fullCycleTests } from "../support/full-cycle.ts";
import { denoLaunch } from "./deno-launch.ts";

describe("deno run -A src/main.ts", () => {
  fullCycleTests(async () => denoLaunch());
});
