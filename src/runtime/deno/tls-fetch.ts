import { request } from "node:https";
import type { FetchLike, TlsPolicy } from "../tls-types.ts";

type DenoHttp = { createHttpClient(options: { caCerts: string[] }): unknown };
const Deno = (globalThis as unknown as { Deno: DenoHttp }).Deno;

/**
 * Deno: a CA goes to an HttpClient (rustls: it must be a CA, not the server's own certificate
 * used as one); no verification goes through node:https, whose `rejectUnauthorized` Deno honours
 * per request.
 */
export function denoTlsFetch(policy: TlsPolicy): FetchLike {
  if (policy.verify) {
    const client = policy.ca ? Deno.createHttpClient({ caCerts: [policy.ca] }) : undefined;
    return (url, init) => fetch(url, { ...init, redirect: "manual", ...(client ? { client } : {}) } as RequestInit);
  }
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: init.method, headers: init.headers, rejectUnauthorized: false, signal: init.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
          }
          const status = res.statusCode ?? 502;
          const empty = status === 204 || status === 304 || init.method === "HEAD";
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers }));
        });
      });
      req.on("error", reject);
      req.end(init.body);
    });
}
