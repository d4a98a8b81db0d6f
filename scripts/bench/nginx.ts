import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { until } from "../../test/support/until.ts";
import { track } from "./children.ts";

/** A running nginx, stopped by its own pid. */
export type Nginx = { readonly url: string; readonly pid: number; stop(): Promise<void> };

const candidates = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"];

/**
 * The nginx binary; installs Debian's nginx (and curl, the bench's client) when missing and
 * we are root.
 */
export async function ensureNginx(log: (line: string) => void): Promise<string> {
  const found = candidates.find((path) => existsSync(path)) ?? Bun.which("nginx");
  const missing = [...(found ? [] : ["nginx"]), ...(Bun.which("curl") ? [] : ["curl"])];
  if (missing.length === 0) return found!;
  if (process.getuid?.() !== 0) throw new Error(`${missing.join(" and ")} not installed: run \`apt-get install -y ${missing.join(" ")}\` as root, or run the bench as root`);
  log(`installing ${missing.join(" and ")} from Debian (apt-get install ${missing.join(" ")})`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const command of [
    ["apt-get", "update", "-qq"],
    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing],
  ]) {
    const child = Bun.spawn(command, { env, stdout: "ignore", stderr: "inherit" });
    if ((await child.exited) !== 0) throw new Error(`${command.join(" ")} failed`);
  }
  const installed = candidates.find((path) => existsSync(path));
  if (!installed) throw new Error("nginx was installed but its binary was not found");
  return installed;
}

export type NginxSite =
  /** Serves the files under `root` with sendfile: the storage host, as fast as this machine can serve a file. */
  | { readonly kind: "files"; readonly root: string }
  /** A plain reverse proxy in front of `upstream`: what a user might run instead of dispatch. */
  | { readonly kind: "proxy"; readonly upstream: string };

/**
 * Starts nginx in the foreground (`daemon off`) with its own configuration and prefix under
 * `dir`, on 127.0.0.1 and a port it picks. Debian's system configuration is not touched.
 */
export async function startNginx(binary: string, dir: string, site: NginxSite, port: number): Promise<Nginx> {
  const conf = join(dir, "nginx.conf");
  const location =
    site.kind === "files"
      ? `root ${site.root};`
      : // Debian's defaults, except that nginx must not spool a large body to disk (dispatch keeps
        // no copy on disk either): it then streams through its in-memory buffers.
        `proxy_pass ${site.upstream}; proxy_max_temp_file_size 0;`;
  await writeFile(
    conf,
    `# written by scripts/bench.ts
${process.getuid?.() === 0 ? "user root;" : ""}
worker_processes auto;
daemon off;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  default_type application/octet-stream;
  client_body_temp_path ${join(dir, "client_body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  server {
    listen 127.0.0.1:${port};
    location / { ${location} }
  }
}
`,
  );
  const child = track(Bun.spawn([binary, "-p", dir, "-c", conf], { stdout: "ignore", stderr: "pipe" }));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill("SIGTERM");
    await child.exited;
  };
  try {
    await until(() => fetch(`${url}/`, { method: "HEAD" }).then(() => true, () => false), `nginx on ${url}`, {
      everyMs: 50,
      hopeless: () => (child.exitCode === null ? undefined : `nginx exited (${child.exitCode})`),
    });
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}: ${await new Response(child.stderr).text()}`);
  }
  return { url, pid: child.pid, stop };
}
