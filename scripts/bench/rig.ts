import { chmodSync, closeSync, existsSync, ftruncateSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ApiStub, type StubAsset, startApiStub } from "./api-stub.ts";
import { makeLocalCa } from "./certificates.ts";
import { type Haproxy, startHaproxy } from "./haproxy.ts";
import { type Nginx, startNginx } from "./nginx.ts";
import { freePort } from "./ports.ts";
import type { Tools } from "./tools.ts";

/** A file on the storage host: sparse, so a 4 GiB workload costs no disk. */
export type BenchFile = { readonly name: string; readonly size: number };

/**
 * The storage host (plain and HTTPS), the two proxies in front of each (nginx, HAProxy), a GitHub
 * API stand-in for each storage host, and the same files as a local workload folder.
 */
export type Rig = {
  readonly storage: Nginx;
  /** The same files over HTTPS, with a certificate from a CA made for this run. */
  readonly tlsStorage: Nginx;
  readonly proxy: Nginx;
  readonly haproxy: Haproxy;
  /** The same two proxies in front of `tlsStorage`, decrypting (and verifying against the run's CA) as dispatch does. */
  readonly tlsProxy: Nginx;
  readonly tlsHaproxy: Haproxy;
  /** Redirects asset downloads to `storage`. */
  readonly api: ApiStub;
  /** Redirects asset downloads to `tlsStorage`. */
  readonly tlsApi: ApiStub;
  /** The CA's certificate (PEM file) that makes `tlsStorage` trusted. */
  readonly ca: string;
  /**
   * A folder for `dispatch --dir`: every asset of the release as `NAME.iso`, a hard link to its
   * file on the storage host, so both read the same pages of the same page cache.
   */
  readonly folder: string;
  /**
   * Downloads (status 200) the HTTPS storage host has served so far, by client (user agent's
   * first word: dispatch or curl), TLS protocol and cipher: proof the TLS path was taken, and how.
   */
  tlsDownloads(): Record<string, number>;
  /** A file's URL straight from the storage host, and through each proxy. */
  direct(file: BenchFile): string;
  directTls(file: BenchFile): string;
  proxied(file: BenchFile): string;
  haproxied(file: BenchFile): string;
  proxiedTls(file: BenchFile): string;
  haproxiedTls(file: BenchFile): string;
  stop(): Promise<void>;
};

export type RigAsset = { readonly name: string; readonly file: BenchFile };

export async function startRig(tools: Tools, files: readonly BenchFile[], assets: readonly RigAsset[]): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), "dispatch-bench-"));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    // nginx workers may run as another user: let them in.
    chmodSync(dir, 0o755);
    const root = join(dir, "files");
    const folder = join(dir, "folder");
    for (const sub of [root, folder, join(dir, "storage"), join(dir, "tls-storage"), join(dir, "proxy"), join(dir, "haproxy"), join(dir, "tls-proxy"), join(dir, "tls-haproxy")]) mkdirSync(sub, { mode: 0o755 });
    for (const file of files) {
      const fd = openSync(join(root, file.name), "w", 0o644);
      ftruncateSync(fd, file.size);
      closeSync(fd);
    }
    for (const asset of assets) linkSync(join(root, asset.file.name), join(folder, `${asset.name}.iso`));
    const tls = await makeLocalCa(tools.openssl, join(dir, "ca"));
    const storage = await startNginx(tools.nginx, join(dir, "storage"), { kind: "files", root }, await freePort());
    cleanups.push(() => storage.stop());
    const tlsLog = join(dir, "tls-storage", "access.log");
    const tlsStorage = await startNginx(tools.nginx, join(dir, "tls-storage"), { kind: "files", root, tls, accessLog: tlsLog }, await freePort());
    cleanups.push(() => tlsStorage.stop());
    const proxy = await startNginx(tools.nginx, join(dir, "proxy"), { kind: "proxy", upstream: storage.url }, await freePort());
    cleanups.push(() => proxy.stop());
    const haproxy = await startHaproxy(tools.haproxy, join(dir, "haproxy"), storage.url, await freePort());
    cleanups.push(() => haproxy.stop());
    const tlsProxy = await startNginx(tools.nginx, join(dir, "tls-proxy"), { kind: "proxy", upstream: tlsStorage.url, ca: tls.ca }, await freePort());
    cleanups.push(() => tlsProxy.stop());
    const tlsHaproxy = await startHaproxy(tools.haproxy, join(dir, "tls-haproxy"), tlsStorage.url, await freePort(), tls.ca);
    cleanups.push(() => tlsHaproxy.stop());
    const stubAssets: StubAsset[] = assets.map((a) => ({ name: a.name, size: a.file.size, path: a.file.name }));
    // Both storage hosts are on 127.0.0.1, the API's own host: dispatch follows redirects there
    // (src/github/hosts.ts), over HTTPS as over plain HTTP.
    const api = startApiStub(stubAssets, storage.url);
    cleanups.push(() => api.stop());
    const tlsApi = startApiStub(stubAssets, tlsStorage.url);
    cleanups.push(() => tlsApi.stop());
    return {
      storage,
      tlsStorage,
      proxy,
      haproxy,
      tlsProxy,
      tlsHaproxy,
      api,
      tlsApi,
      ca: tls.ca,
      folder,
      tlsDownloads: () => {
        const counts: Record<string, number> = {};
        for (const line of existsSync(tlsLog) ? readFileSync(tlsLog, "utf8").split("\n") : []) {
          const [status, protocol, cipher, agent] = line.split(" ");
          const key = `${agent} ${protocol} ${cipher}`;
          if (status === "200") counts[key] = (counts[key] ?? 0) + 1;
        }
        return counts;
      },
      direct: (file) => `${storage.url}/${file.name}`,
      directTls: (file) => `${tlsStorage.url}/${file.name}`,
      proxied: (file) => `${proxy.url}/${file.name}`,
      haproxied: (file) => `${haproxy.url}/${file.name}`,
      proxiedTls: (file) => `${tlsProxy.url}/${file.name}`,
      haproxiedTls: (file) => `${tlsHaproxy.url}/${file.name}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
