import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { track } from "./children.ts";
import { waitForPort } from "./ports.ts";

/** A running nginx, stopped by its own pid. */
export type Nginx = { readonly url: string; readonly pid: number; stop(): Promise<void> };

/** A certificate and its key, PEM files (scripts/bench/certificates.ts makes them). */
export type ServerCertificate = { readonly cert: string; readonly key: string };

export type NginxSite =
  /** Serves the files under `root` with sendfile: the storage host, as fast as this machine can serve a file. */
  | {
      readonly kind: "files";
      readonly root: string;
      readonly tls?: ServerCertificate;
      /** Log each request here as `STATUS PROTOCOL CIPHER USER-AGENT`, to show who fetched from which host, and how. */
      readonly accessLog?: string;
    }
  /**
   * A plain reverse proxy in front of `upstream`: what a user might run instead of dispatch. An
   * https upstream is verified against `ca` (the run's CA), as dispatch verifies GitHub's storage.
   */
  | { readonly kind: "proxy"; readonly upstream: string; readonly ca?: string };

/**
 * Starts nginx in the foreground (`daemon off`) with its own configuration and prefix under
 * `dir`, on 127.0.0.1 and a port it picks. Debian's system configuration is not touched.
 */
export async function startNginx(binary: string, dir: string, site: NginxSite, port: number): Promise<Nginx> {
  const conf = join(dir, "nginx.conf");
  // Over TLS nginx encrypts in user space (no kernel TLS here), so sendfile does not apply.
  // TLS 1.3 as GitHub's storage offers it (nginx 1.22 leaves it out of its default protocols),
  // with one cipher, so dispatch (BoringSSL) and curl (OpenSSL, which would pick AES-256) do the same work.
  const tls = site.kind === "files" ? site.tls : undefined;
  const location =
    site.kind === "files"
      ? `root ${site.root};`
      : // Debian's defaults, except that nginx must not spool a large body to disk (dispatch keeps
        // no copy on disk either): it then streams through its in-memory buffers.
        `proxy_pass ${site.upstream}; proxy_max_temp_file_size 0;${site.ca ? ` proxy_ssl_verify on; proxy_ssl_trusted_certificate ${site.ca}; proxy_ssl_name 127.0.0.1; proxy_ssl_protocols TLSv1.2 TLSv1.3;` : ""}`;
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
  log_format bench '$status $ssl_protocol $ssl_cipher $http_user_agent';
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
    listen 127.0.0.1:${port}${tls ? " ssl" : ""};${tls ? `\n    ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key};\n    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;` : ""}${site.kind === "files" && site.accessLog ? `\n    access_log ${site.accessLog} bench;` : ""}
    location / { ${location} }
  }
}
`,
  );
  const child = track(Bun.spawn([binary, "-p", dir, "-c", conf], { stdout: "ignore", stderr: "pipe" }));
  const url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  await waitForPort(child, port, "nginx");
  return {
    url,
    pid: child.pid,
    stop: async () => {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}
