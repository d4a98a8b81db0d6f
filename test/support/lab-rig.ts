import { afterAll, afterEach, beforeAll } from "bun:test";
import { emulatorCertificate } from "../redfish-emulator/certificate.ts";
import { tempDirs } from "./temp-dirs.ts";

/**
 * What a `--lab` test file through the real CLI needs around its runs: temporary folders, steps
 * undone after each test (BMC emulators, emulated servers, dispatch), the repository's root for
 * `bun src/main.ts`, and one TLS certificate for every Redfish emulator of the file. Call once,
 * at the top of the file: it registers its own hooks.
 */
export function labRig(name: string) {
  const temp = tempDirs();
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  afterAll(() => temp.removeAll());
  let tls: Awaited<ReturnType<typeof emulatorCertificate>> | undefined;
  beforeAll(async () => {
    tls = await emulatorCertificate(temp.make(`dispatch-${name}-tls-`));
  });
  return {
    temp,
    cleanup,
    root: new URL("../..", import.meta.url).pathname,
    /** The emulators' certificate (made before the file's first test). */
    tls: () => {
      if (!tls) throw new Error("labRig: the certificate is made in beforeAll; ask for it inside a test");
      return tls;
    },
  };
}
