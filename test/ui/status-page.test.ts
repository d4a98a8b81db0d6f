import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserServer, type Page, chromium } from "playwright-core";
import { type FakeGitHub, startFakeGitHub } from "../fake-github/index.ts";
import { type TestDispatch, startTestDispatch } from "../support/dispatch.ts";
import { labServer } from "../support/lab.ts";
import { http } from "../support/http-client.ts";
import { tempDirs } from "../support/temp-dirs.ts";
import { efi, pattern } from "../support/workloads.ts";

const temp = tempDirs();

// Debian's chromium, driven by playwright-core (which never downloads a browser of its own).
// CI installs it (scripts/setup-test-host.sh); elsewhere the test is skipped, saying why.
const chromiumPath = "/usr/bin/chromium";
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) {
  if (process.env.CI) throw new Error(`${chromiumPath} is missing: scripts/setup-test-host.sh installs it for CI`);
  console.warn(`skipping the status page browser test: no ${chromiumPath} (apt-get install chromium)`);
}

// The lab has no internet: everything Chromium would fetch on its own is switched off.
const chromiumArgs = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let gh: FakeGitHub;
let d: TestDispatch;
let server: BrowserServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("a.efi", 1_200_000), efi("b.efi", 40_000)] }] });
  d = await startTestDispatch(gh);
  // A server process of our own, so it can be stopped by pid whatever happens.
  server = await chromium.launchServer({ executablePath: chromiumPath, headless: true, chromiumSandbox: false, args: chromiumArgs });
  browser = await chromium.connect(server.wsEndpoint());
});

afterAll(async () => {
  await browser?.close().catch(() => {});
  const pid = server?.process().pid;
  await server?.close().catch(() => {});
  if (pid) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await d?.stop();
  await gh?.stop();
});

const row = (name: string, state: string) => `tr[data-name="${name}"][data-state="${state}"]`;
const progressOf = (page: Page, name: string) => page.$eval(`tr[data-name="${name}"] progress`, (p) => (p as HTMLProgressElement).value);

describe.skipIf(!haveChromium)("the status page in Chromium", () => {
  test("follows a job through every state without a reload, its bar moving during a slow download", async () => {
    const page = await browser!.newPage();
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const outside: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(`http://127.0.0.1:${d.port}/`)) outside.push(r.url());
    });

    await page.goto(`http://127.0.0.1:${d.port}/`);
    await page.waitForSelector(row("a.efi", "unassigned"));
    await page.waitForSelector('#connection[data-state="live"]');
    expect(await page.textContent("#boot-urls")).toContain(d.url);
    // Marks this document: a reload would lose it.
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));

    const lab = labServer(d.url, "127.0.0.2");
    await lab.head();
    await page.waitForSelector(row("a.efi", "assigned"));
    expect(await page.textContent(`tr[data-name="a.efi"] td.ip`)).toBe("127.0.0.2");

    // About four seconds for 1.2 MB: the bar must be seen to move.
    gh.faults.storageBytesPerSecond = 300_000;
    const download = lab.get();
    await page.waitForSelector(row("a.efi", "downloading"));
    await page.waitForFunction(() => (document.querySelector('tr[data-name="a.efi"] progress') as HTMLProgressElement | null)?.value! > 0);
    const early = await progressOf(page, "a.efi");
    await page.waitForFunction(
      (before) => (document.querySelector('tr[data-name="a.efi"] progress') as HTMLProgressElement | null)?.value! > before,
      early,
    );
    expect(await progressOf(page, "a.efi")).toBeGreaterThan(early);
    expect(await page.textContent(`tr[data-name="a.efi"] .figures`)).toMatch(/\d+% · .* of 1\.1 MiB/);
    gh.faults.storageBytesPerSecond = undefined;
    expect((await download).body.byteLength).toBe(1_200_000);
    await page.waitForFunction(() => document.querySelector('tr[data-name="a.efi"] td.detail')?.textContent?.includes("downloaded"));

    await lab.boot();
    await page.waitForSelector(row("a.efi", "booting"));
    await lab.report({ title: "memtest passed" });
    await page.waitForSelector(row("a.efi", "finished"));
    const link = await page.$eval(`tr[data-name="a.efi"] td.detail a`, (a) => ({ href: (a as HTMLAnchorElement).href, text: a.textContent }));
    expect(link).toEqual({ href: gh.issues[0]!.html_url, text: "#1" });

    // A second server downloads b.efi, then asks again without `beacon boot`: failed, with why.
    const other = labServer(d.url, "127.0.0.3");
    await other.get();
    await other.head();
    await page.waitForSelector(row("b.efi", "failed"));
    expect(await page.textContent(`tr[data-name="b.efi"] td.detail`)).toContain("never sent `beacon boot`");
    expect(await page.textContent('#counts li[data-state="finished"]')).toContain("1");
    expect(await page.textContent('#counts li[data-state="failed"]')).toContain("1");

    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
    await page.close();
  }, 60_000);

  test("shows the lab's servers and the refused beacon calls, live", async () => {
    const dir = temp.make("dispatch-page-lab-");
    writeFileSync(join(dir, "a.efi"), pattern(4000, 1));
    const lab = join(dir, "lab.toml");
    // Power commands that do nothing: the page only needs servers with a state.
    writeFileSync(lab, 'power_on_spacing = "0s"\n[[server]]\nname = "node-1"\nip = "127.0.0.4"\npower = "command"\non = "true"\noff = "true"\ncycle = "true"\n');
    const withLab = await startTestDispatch(undefined, { dir, reportsDir: temp.make("dispatch-page-reports-"), lab });
    try {
      const page = await browser!.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(`http://127.0.0.1:${withLab.port}/`);
      await page.waitForSelector('#servers tr[data-server="node-1"]');
      await page.waitForFunction(() => document.querySelector('#servers tr[data-server="node-1"]')?.textContent?.includes("on done"));
      expect(await page.isHidden("#refused")).toBe(true);
      await http(withLab.url, { method: "PUT", from: "127.0.0.9", body: JSON.stringify({ title: "stray" }) });
      await page.waitForSelector("#refused:not([hidden]) li");
      expect(await page.textContent("#refused li")).toContain("report from 127.0.0.9: 127.0.0.9 was never handed a workload by this dispatch");
      await page.close();
    } finally {
      await withLab.stop();
      temp.removeAll();
    }
  }, 60_000);
});
