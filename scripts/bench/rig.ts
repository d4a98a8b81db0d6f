import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, ftruncateSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ApiStub, type StubAsset, startApiStub } from "./api-stub.ts";
import { type Nginx, startNginx } from "./nginx.ts";

/** A file on the storage host: sparse, so a 4 GiB workload costs no disk. */
export type BenchFile = { readonly name: string; readonly size: number };

/** The storage host, the nginx proxy in front of it, and the GitHub API stand-in. */
export type Rig = {
  readonly storage: Nginx;
  readonly proxy: Nginx;
  readonly api: ApiStub;
  /** A file's URL straight from the storage host, and through the nginx proxy. */
  direct(file: BenchFile): string;
  proxied(file: BenchFile): string;
  stop(): Promise<void>;
};

export type RigAsset = { readonly name: string; readonly file: BenchFile };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRig(nginxBinary: string, files: readonly BenchFile[], assets: readonly RigAsset[]): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), "dispatch-bench-"));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    // nginx workers may run as another user: let them in.
    chmodSync(dir, 0o755);
    const root = join(dir, "files");
    for (const sub of [root, join(dir, "storage"), join(dir, "proxy")]) mkdirSync(sub, { mode: 0o755 });
    for (const file of files) {
      const fd = openSync(join(root, file.name), "w", 0o644);
      ftruncateSync(fd, file.size);
      closeSync(fd);
    }
    const storage = await startNginx(nginxBinary, join(dir, "storage"), { kind: "files", root }, await freePort());
    cleanups.push(() => storage.stop());
    const proxy = await startNginx(nginxBinary, join(dir, "proxy"), { kind: "proxy", upstream: storage.url }, await freePort());
    cleanups.push(() => proxy.stop());
    const stubAssets: StubAsset[] = assets.map((a) => ({ name: a.name, size: a.file.size, path: a.file.name }));
    const api = startApiStub(stubAssets, storage.url);
    cleanups.push(() => api.stop());
    return {
      storage,
      proxy,
      api,
      direct: (file) => `${storage.url}/${file.name}`,
      proxied: (file) => `${proxy.url}/${file.name}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
