// Runs `runtime.run` under Deno for test/runtime/run.test.ts: the command and options come as
// one JSON argument, the result goes to stdout as JSON.
import { denoRuntime } from "../../src/runtime/deno/index.ts";

const { command, options } = JSON.parse(Deno.args[0]!);
console.log(JSON.stringify((await denoRuntime.run(command, options)) ?? null));

declare const Deno: { args: string[] };
