import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poweroffEfi } from "../../src/efi/poweroff.ts";
import { args } from "../../src/cli/args.ts";
import { version } from "../../src/version.ts";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { runDispatch, startDispatchProcess } from "../support/dispatch-process.ts";
import { until } from "../support/dispatch.ts";
import { efi, iso, other } from "../support/workloads.ts";

let gh: FakeGitHub;
let bin: string;
beforeAll(async () => {
  gh = await startFakeGitHub({
    releases: [{ tag: "example", assets: [efi("workload-1.efi", 4096), efi("workload-2.efi", 8192), iso("other-3.iso", 10_000), other("README.txt", 10)] }],
    milestones: [{ title: "lab" }],
  });
  bin = mkdtempSync(join(tmpdir(), "dispatch-cli-"));
});
afterAll(async () => {
  await gh?.stop();
  rmSync(bin, { recursive: true, force: true });
});

const root = new URL("../..", import.meta.url).pathname;
/** `bun src/main.ts` with exactly this environment: no token and no GitHub CLI unless given. */
const bunWith = (extra: Record<string, string> = {}) => ({
  command: [process.execPath, "src/main.ts"],
  cwd: root,
  env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...extra },
});
async function runCli(args: string[], extra: Record<string, string> = {}) {
  const { code, stdout, stderr } = await runDispatch(bunWith(extra), args);
  return { code, output: stdout + stderr };
}

const base = () => ["--owner", gh.owner, "--repo", gh.repo, "--tag", "example", "--api-url", gh.apiUrl, "--bind", "127.0.0.1:0", "--no-mdns"];

describe("help and errors", () => {
  test("--help lists the options and examples, exit 0", async () => {
    const { code, output } = await runCli(["--help"]);
    expect(code).toBe(0);
    for (const word of ["--owner", "-o", "--repo", "--tag", "--token", "--bind", "--path", "--api-url", "--no-mdns", "Examples:"]) expect(output).toContain(word);
    expect(output).not.toContain("\x1b["); // a pipe gets no terminal escape codes
  });

  test("--help reads like a well-made CLI: every option, one aligned column, 80 columns, no trailing spaces", async () => {
    const { output } = await runCli(["--help"]);
    const lines = output.trimEnd().split("\n");
    for (const line of lines) {
      expect(line.length).toBeLessThanOrEqual(80);
      expect(line).toBe(line.trimEnd());
    }
    // Every option of the definition, by the name a user types (a flag on by default by its --no- form).
    for (const [name, def] of Object.entries(args)) {
      if (def.type === "positional") continue;
      const flag = def.type === "boolean" && def.default === true ? `--no-${name}` : `--${name}`;
      const alias = "alias" in def ? `-${def.alias}, ` : "    ";
      expect(lines.some((l) => l.startsWith(`  ${alias}${flag}`))).toBe(true);
    }
    // Descriptions start in one column.
    const starts = lines
      .filter((l) => /^  (-\w, |    )--/.test(l))
      .map((l) => {
        const gap = l.indexOf("  ", l.search(/\S/));
        return gap < 0 ? undefined : gap + /^ +/.exec(l.slice(gap))![0].length;
      })
      .filter((n) => n !== undefined);
    expect(starts.length).toBeGreaterThan(10);
    expect(new Set(starts).size).toBe(1);
  });

  test("--version prints the version", async () => {
    const { code, output } = await runCli(["--version"]);
    expect(code).toBe(0);
    expect(output.trim()).toBe(version);
  });

  test("without a token: the four ways to authenticate, the permissions, exit non-zero", async () => {
    const { code, output } = await runCli(base());
    expect(code).not.toBe(0);
    for (const word of ["gh auth login", "--token", "GITHUB_TOKEN", "Contents", "Issues", "repo"]) expect(output).toContain(word);
  });

  test("a bad --bind says what it expects", async () => {
    const { code, output } = await runCli([...base(), "--bind", "nonsense"], { GITHUB_TOKEN: gh.token });
    expect(code).toBe(2);
    expect(output).toContain("0.0.0.0:8080");
  });

  test("an unknown option is a usage error (exit 2) naming the closest known one; nothing is served or asked of GitHub", async () => {
    const before = gh.requests.length;
    // The typo of the issue: --bnd's value would have become a filter, and dispatch listened on 0.0.0.0:8080.
    const typo = await runCli([...base().filter((a) => a !== "--bind" && a !== "127.0.0.1:0"), "--bnd", "192.0.2.1:8080"], { GITHUB_TOKEN: gh.token });
    expect(typo.code).toBe(2);
    expect(typo.output).toContain("dispatch: unknown option --bnd (did you mean --bind?); dispatch --help lists every option.");
    expect(typo.output).not.toContain("listening on");
    for (const [given, named] of [
      [["--no-mdsn"], "unknown option --no-mdsn (did you mean --no-mdns?)"],
      [["--exit-when-don"], "unknown option --exit-when-don (did you mean --exit-when-done?)"],
      [["--file-failure=yes"], "unknown option --file-failure (did you mean --file-failures?)"],
      [["-x"], "unknown option -x;"],
      [["--frobnicate"], "unknown option --frobnicate;"],
    ] as const) {
      const { code, output } = await runCli([...base(), ...given], { GITHUB_TOKEN: gh.token });
      expect({ given, code }).toEqual({ given, code: 2 });
      expect(output).toContain(named);
    }
    expect(gh.requests.length).toBe(before);
    // Every spelling citty takes is still taken: aliases, camelCase, --no-…, --flag=value.
    const d = await startDispatchProcess(bunWith({ GITHUB_TOKEN: gh.token }), ["-o", gh.owner, "-r", gh.repo, "-t", "example", `--api-url=${gh.apiUrl}`, "-b", "127.0.0.1:0", "--no-mdns", "--downloadTimeout", "1m", "--log-format", "plain", "workload"]);
    expect(d.lines.join("\n")).toContain("2 queued");
    expect(await d.stop()).toBe(0);
  });

  test("an unknown tag says to check --tag; a wrong token says so; neither shows the token", async () => {
    const missing = await runCli([...base(), "--tag", "nope"], { GITHUB_TOKEN: gh.token });
    expect(missing.code).toBe(1);
    expect(missing.output).toContain("--tag");
    const wrong = await runCli(base(), { GITHUB_TOKEN: "ghp_wrongtoken999" });
    expect(wrong.code).toBe(1);
    expect(wrong.output).toContain("401");
    expect(wrong.output).not.toContain("ghp_wrongtoken999");
  });
});

describe("token sources", () => {
  test("falls back to `gh auth token` when no flag or variable is set", async () => {
    const gh_ = join(bin, "gh");
    writeFileSync(gh_, `#!/bin/sh\n[ "$1 $2" = "auth token" ] && echo ${gh.token}\n`);
    chmodSync(gh_, 0o755);
    try {
      const d = await startDispatchProcess(bunWith({ PATH: `${bin}:/usr/bin:/bin` }), base());
      expect(d.lines.join("\n")).toContain("3 queued");
      expect(await d.stop()).toBe(0);
    } finally {
      rmSync(gh_);
    }
  });

  test("--token wins over the environment", async () => {
    const d = await startDispatchProcess(bunWith({ GITHUB_TOKEN: "ghp_wrongtoken999" }), [...base(), "--token", gh.token]);
    expect(await d.stop()).toBe(0);
  });
});

describe("the quick start, driven with curl from several servers at once", () => {
  test("filters, two servers boot and report concurrently, issues filed, then poweroff.efi; SIGTERM exits 0", async () => {
    const d = await startDispatchProcess(bunWith({ GITHUB_TOKEN: gh.token }), [...base(), "workload"]);
    const output = () => d.lines.join("\n");
    try {
      const url = d.url;
      expect(output()).toContain("4 assets, 2 queued");
      expect(output()).not.toContain("other-3.iso");

      const curl = async (from: string, ...args: string[]) => {
        const p = Bun.spawn(["curl", "-sS", "--max-time", "10", "--interface", from, ...args, url], { stdout: "pipe", stderr: "pipe" });
        const [out, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), p.exited]);
        return { code, out: new Uint8Array(out) };
      };
      const server = async (from: string) => {
        const head = await curl(from, "-I");
        const headers = new TextDecoder().decode(head.out);
        const size = Number(/content-length: (\d+)/i.exec(headers)?.[1]);
        const body = await curl(from);
        expect(body.out.byteLength).toBe(size);
        const boot = await curl(from, "-X", "POST", "-o", "/dev/null", "-w", "%{http_code}");
        expect(new TextDecoder().decode(boot.out)).toBe("200");
        const report = JSON.stringify({ title: `run on ${from}`, body: "ok", labels: ["lab"], milestone: "lab" });
        const put = await curl(from, "-X", "PUT", "-H", "content-type: application/json", "--data-binary", report, "-o", "/dev/null", "-w", "%{http_code}");
        expect(new TextDecoder().decode(put.out)).toBe("200");
        return size;
      };
      const sizes = await Promise.all([server("127.0.0.2"), server("127.0.0.3")]);
      expect(sizes.sort()).toEqual([4096, 8192]);

      await until(() => output().includes("🏁 workload-1.efi finished"), "workload-1 finished", 20_000);
      await until(() => output().includes("🏁 workload-2.efi finished"), "workload-2 finished", 20_000);
      const mine = gh.issues.filter((i) => i.title.startsWith("run on 127.0.0."));
      expect(mine.map((i) => i.title).sort()).toEqual(["run on 127.0.0.2", "run on 127.0.0.3"]);
      expect(mine.every((i) => i.milestone === 1 && i.labels.join() === "lab")).toBe(true);

      // Both servers come back: the queue is empty, so each gets poweroff.efi.
      for (const from of ["127.0.0.2", "127.0.0.3"]) expect((await curl(from)).out).toEqual(poweroffEfi);

      expect(await d.stop()).toBe(0);
      for (const emoji of ["📌", "📥", "⚡", "📝", "🏁", "🔌"]) expect(output()).toContain(emoji);
      expect(output()).not.toContain(gh.token);
    } finally {
      await d.stop();
    }
  }, 60_000);
});
