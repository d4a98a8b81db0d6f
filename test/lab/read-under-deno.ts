// Reads a lab file under Deno for test/lab/deno.test.ts (its packages: smol-toml, valibot,
// shell-quote, fastest-levenshtein) and prints the lab, or the problems, as JSON.
import { LabError, readLab } from "../../src/lab/read.ts";
import { denoRuntime } from "../../src/runtime/deno/index.ts";

declare const Deno: { args: string[] };
try {
  console.log(JSON.stringify(await readLab(Deno.args[0]!, { env: denoRuntime.env, readText: denoRuntime.files.readText })));
} catch (error) {
  if (!(error instanceof LabError)) throw error;
  console.log(JSON.stringify({ problems: error.problems }));
}
