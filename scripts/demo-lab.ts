// A lab on loopback to watch dispatch's views by hand: a fake GitHub with a few workloads
// (one slow to download), and servers at 127.0.0.2… walking through every state, one failing.
//
//   bun scripts/demo-lab.ts [PORT]        then start dispatch as it says, in another terminal
//
// It waits for dispatch on 127.0.0.1:PORT (default 8080), drives the servers, and stops the
// fake GitHub on Ctrl-C. Nothing leaves the machine.
import { startFakeGitHub } from "../test/fake-github/index.ts";
import { labServer } from "../test/support/lab.ts";
import { until } from "../test/support/until.ts";
import { efi, img, iso } from "../test/support/workloads.ts";

const port = Number(process.argv[2] ?? 8080);
const gh = await startFakeGitHub({
  releases: [
    {
      tag: "v1",
      assets: [
        efi("a-memtest86-plus-7.20.efi", 150_000),
        iso("b-ubuntu-24.04-stress-ng-full-burn-in-with-a-rather-long-name.iso", 6_000_000),
        efi("c-smoke-test.efi", 20_000),
        img("d-fw-update-ramdisk.img", 400_000),
        efi("e-never-asked-for.efi", 1_000),
      ],
    },
  ],
});
process.on("SIGINT", async () => {
  await gh.stop();
  process.exit(0);
});
// Slow enough that a person sees the bars move.
gh.faults.storageBytesPerSecond = 400_000;

console.log(`fake GitHub at ${gh.apiUrl}; start dispatch with:\n`);
console.log(`  bun src/main.ts -o ${gh.owner} -r ${gh.repo} -t v1 --api-url ${gh.apiUrl} --token ${gh.token} --bind 127.0.0.1:${port} --no-mdns\n`);

const base = `http://127.0.0.1:${port}`;
await until(() => fetch(`${base}/api/status`).then((r) => r.ok, () => false), `dispatch on ${base}`, { timeoutMs: 10 * 60_000, everyMs: 500 });
console.log("dispatch is up; driving servers");
const pause = (ms: number) => Bun.sleep(ms);
const url = `${base}/dispatch`;

async function walk(ip: string, delayMs: number, failFirst = false) {
  const server = labServer(url, ip);
  await pause(delayMs);
  for (let run = failFirst ? 0 : 1; run < 2; run++) {
    await server.head();
    await pause(1500);
    await server.get(120_000);
    await pause(2000);
    if (run === 0) continue; // asks again without `beacon boot`: that job fails, the next is its
    await server.boot();
    await pause(4000);
    await server.report({ title: `results from ${ip}`, body: "all good" });
  }
}

// A filing that GitHub refuses (422) is retried by dispatch, as the view shows.
gh.faults.failNext.push({ route: "issue", status: 422, times: 1 });
await Promise.all([walk("127.0.0.2", 0), walk("127.0.0.3", 1000), walk("127.0.0.4", 2500, true)]);
console.log("done; Ctrl-C stops the fake GitHub");
