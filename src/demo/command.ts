import { type ArgsDef, defineCommand } from "citty";
import { runProcess } from "../app/process.ts";
import type { Runtime } from "../runtime/types.ts";
import { chooseOutput } from "../ui/choose-output.ts";
import { type Output, logFormats } from "../ui/output.ts";
import { plainOutput } from "../ui/plain-output.ts";
import { startDemo } from "./run-demo.ts";

/** `dispatch demo`'s own flags: everything else is fixed (loopback, no mDNS, folders for both ends). */
export const demoArgs = {
  folder: { type: "positional", required: false, description: "Folder for the samples, reports, state and VM files (default: a new one under the temporary folder)" },
  vm: {
    type: "boolean",
    default: true,
    description: "Boot the samples on a QEMU/OVMF VM where qemu-system-x86_64 and OVMF are installed",
    negativeDescription: "Play the servers on loopback even where QEMU is installed",
  },
  port: { type: "string", default: "0", description: "Port on 127.0.0.1 (default: any free one)", valueHint: "port" },
  "log-format": { type: "enum", options: [...logFormats], description: "plain or json log lines instead of the live view", valueHint: "format" },
} as const satisfies ArgsDef;

export function demoCommand(runtime: Runtime) {
  return defineCommand({
    meta: {
      name: "demo",
      description: "The whole loop on this machine: sample EFI workloads served from a folder, booted on a QEMU/OVMF VM (or played on loopback), reports to files",
    },
    args: demoArgs,
    async run({ args }) {
      const port = Number(args.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        console.error(`dispatch demo: --port takes a port number (0 for any free one), not "${args.port}"`);
        return runtime.exit(2);
      }
      let out: Output = plainOutput();
      await runProcess(
        async (quit) => {
          out = chooseOutput(args["log-format"], runtime, quit);
          const demo = await startDemo({ ...(args.folder !== undefined && { folder: String(args.folder) }), vm: args.vm, port }, runtime, out);
          void demo.over.then(async ({ code, lines }) => {
            const [verdict, ...rest] = lines;
            if (verdict) (verdict.warn ? out.warn : out.info)(verdict.text);
            await demo.stop();
            // After the live view has closed, so that they stay on the screen.
            for (const line of rest) out.info(line.text);
            runtime.exit(code);
          });
          return demo;
        },
        { runtime, out: () => out, exitWhenDone: false },
      );
    },
  });
}
