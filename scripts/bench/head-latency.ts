import { Agent, request } from "node:http";

/**
 * Sends `count` HEAD requests one after another on a kept-alive connection from `from`, and
 * returns each one's latency in milliseconds (request written → response headers read).
 */
export async function headLatencies(url: string, from: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(url, { method: "HEAD", agent, localAddress: from, timeout: 10_000 });
        req.on("timeout", () => req.destroy(new Error("HEAD timed out")));
        req.on("error", reject);
        req.on("response", (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.end();
      });
      latencies.push(performance.now() - started);
      if (status !== 200) throw new Error(`HEAD answered ${status}`);
    }
  } finally {
    agent.destroy();
  }
  return latencies;
}
