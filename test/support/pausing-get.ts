import { request } from "node:http";

/** GET with a client that reads in bursts with pauses, as a slow firmware does; the bytes and how it ended. */
export function pausingGet(port: number, from = "127.0.0.1", url = "/", pause = { every: 16, ms: 2 }): Promise<{ body: Buffer; complete: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (complete: boolean) => resolve({ body: Buffer.concat(chunks), complete });
    const req = request({ host: "127.0.0.1", port, path: url, localAddress: from, agent: false }, (res) => {
      let reads = 0;
      res.on("data", (data: Buffer) => {
        chunks.push(data);
        if (++reads % pause.every === 0) {
          res.pause();
          setTimeout(() => res.resume(), pause.ms);
        }
      });
      res.on("end", () => done(res.complete));
      res.on("aborted", () => done(false));
      res.on("error", () => done(false));
    });
    req.on("error", () => done(false));
    req.end();
  });
}
