import type { Runtime } from "../types.ts";
import { nodeFiles } from "./files.ts";
import { bunProcess } from "./process.ts";
import { bunServe } from "./serve.ts";
import { nodeTerminal } from "./terminal.ts";

export const bunRuntime: Runtime = {
  name: "bun",
  serve: bunServe,
  ...bunProcess,
  terminal: nodeTerminal,
  files: nodeFiles,
};
