import type { Subprocess } from "bun";
import { until } from "./dispatch.ts";

export type Cli = {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Every line printed so far (stdout and stderr). */
  readonly lines: string[];
  /** Set once the process is listening. */
  port: number;
  url: string;
  exited: Promise<number>;
  /** Waits until a printed line contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<string>;
  kill(signal: NodeJS.Signals): Promise<number>;
};

const main = new URL("../../src/main.ts", import.meta.url).pathname;

/** The real command line (`bun src/main.ts …`) as a child process; its output kept line by line. */
export async function startCli(args: readonly string[], options: { env?: Record<string, string>; waitListening?: boolean } = {}): Promise<Cli> {
  const proc = Bun.spawn(["bun", main, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", ...options.env },
  });
  const lines: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      rest += decoder.decode(bytes, { stream: true });
      const parts = rest.split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
    }
    if (rest) lines.push(rest);
  };
  const pumped = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  const exited = proc.exited.then(async (code) => (await pumped, code));
  let done = false;
  void exited.then(() => (done = true));

  const cli: Cli = {
    proc,
    lines,
    port: 0,
    url: "",
    exited,
    async waitFor(text, timeoutMs = 15_000) {
      await until(() => done || lines.some((l) => l.includes(text)), `"${text}" from dispatch\n${lines.join("\n")}`, timeoutMs);
      const line = lines.find((l) => l.includes(text));
      if (!line) throw new Error(`dispatch exited without printing "${text}":\n${lines.join("\n")}`);
      return line;
    },
    async kill(signal) {
      if (!done) proc.kill(signal);
      return exited;
    },
  };
  if (options.waitListening !== false) {
    const line = await cli.waitFor("listening on");
    cli.port = Number(/:(\d+); servers boot from/.exec(line)![1]);
    cli.url = `http://127.0.0.1:${cli.port}/dispatch`;
  }
  return cli;
}
