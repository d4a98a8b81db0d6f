import { request } from "node:http";

export type Reply = {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** Set when the connection broke before the body was complete. */
  error?: string;
};

/**
 * One HTTP request from a chosen loopback source address, as a lab server at that address
 * would send it. (fetch cannot pick its source address; node:http can.)
 */
export function http(
  url: string,
  options: {
    method?: string;
    from?: string;
    headers?: Record<string, string>;
    body?: string | Uint8Array;
    timeoutMs?: number;
    /** Called when the status line and headers have arrived, before the body. */
    onResponse?: () => void;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? "GET",
      localAddress: options.from ?? "127.0.0.1",
      headers: options.headers,
      timeout: options.timeoutMs ?? 10_000,
      agent: false,
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.on("response", (res) => {
      options.onResponse?.();
      const chunks: Buffer[] = [];
      const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]));
      const done = (error?: string) =>
        resolve({ status: res.statusCode ?? 0, headers, body: new Uint8Array(Buffer.concat(chunks)), ...(error && { error }) });
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => done(res.complete ? undefined : "incomplete body"));
      res.on("aborted", () => done("aborted"));
      res.on("error", (e) => done(e.message));
    });
    req.end(options.body);
  });
}

export const text = (reply: Reply) => new TextDecoder().decode(reply.body);
