import type { Subprocess } from "bun";
import { connect, createServer } from "node:net";

/** A port free on 127.0.0.1 right now, for a server that takes its port from its configuration. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/**
 * Waits until `child` accepts connections on `port` (a TCP connect, so it works for TLS too),
 * at most 10 s; throws with its stderr if it exits first.
 */
export async function waitForPort(child: Subprocess<"ignore", "ignore", "pipe">, port: number, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${await new Response(child.stderr).text()}`);
    if (await accepts(port)) return;
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      await child.exited;
      throw new Error(`${name} did not start on 127.0.0.1:${port}`);
    }
    await Bun.sleep(50);
  }
}
