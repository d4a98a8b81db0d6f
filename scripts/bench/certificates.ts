import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ServerCertificate } from "./nginx.ts";

/** A CA made for this run and a certificate it signed for 127.0.0.1. */
export type LocalCa = ServerCertificate & {
  /** The CA certificate: what NODE_EXTRA_CA_CERTS (Bun, Node) or `curl --cacert` trusts. */
  readonly ca: string;
};

async function run(command: string[]): Promise<void> {
  const child = Bun.spawn(command, { stdout: "ignore", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`${command.slice(0, 3).join(" ")} failed: ${stderr.trim()}`);
}

/**
 * Makes a throwaway CA and a server certificate for 127.0.0.1 with openssl, in `dir` (the
 * bench's temp folder, removed with it). P-256 keys, as a real storage host might use; one day
 * of validity, since nothing outlives the run.
 */
export async function makeLocalCa(openssl: string, dir: string): Promise<LocalCa> {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const file = (name: string) => join(dir, name);
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run([openssl, "req", "-x509", ...key, "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "1", "-subj", "/CN=dispatch bench CA"]);
  await run([openssl, "req", ...key, "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=127.0.0.1"]);
  await Bun.write(file("server.ext"), "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n");
  await run([openssl, "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial", "-days", "1", "-extfile", file("server.ext"), "-out", file("server.pem")]);
  return { ca: file("ca.pem"), cert: file("server.pem"), key: file("server.key") };
}
