import { readFile } from "node:fs/promises";
import { makeLocalCa } from "../../scripts/bench/certificates.ts";

/** A throwaway CA and a certificate it signed for 127.0.0.1, made with openssl in `dir`. */
export async function emulatorCertificate(dir: string): Promise<{ cert: string; key: string; caPath: string }> {
  const made = await makeLocalCa("openssl", dir);
  return { cert: await readFile(made.cert, "utf8"), key: await readFile(made.key, "utf8"), caPath: made.ca };
}
