import type { Runtime } from "../types.ts";
import { denoFiles } from "./files.ts";
import { denoProcess } from "./process.ts";
import { denoServe } from "./serve.ts";
import { denoTerminal } from "./terminal.ts";

export const denoRuntime: Runtime = {
  name: "deno",
  serve: denoServe,
  ...denoProcess,
  terminal: denoTerminal,
  files: denoFiles,
};
