// A fake GitHub on loopback with a release named "example", for trying dispatch by hand:
//   bun scripts/try-fake-github.ts        (then run the command it prints, in another terminal)
// It prints each issue dispatch files. Ctrl-C stops it.
import { efiApp } from "../src/efi/app.ts";
import { startFakeGitHub } from "../test/fake-github/index.ts";

const workload = (n: number) => ({
  name: `workload-${n}.efi`,
  contentType: "application/vnd.dispatch+efi",
  data: efiApp({ message: `workload-${n} running`, stallMicroseconds: 3_000_000, reset: "warm" }),
});
const gh = await startFakeGitHub({
  releases: [{ tag: "example", assets: [workload(1), workload(2), workload(3), { name: "notes.txt", contentType: "text/plain", data: new TextEncoder().encode("not a workload") }] }],
  milestones: [{ title: "lab" }],
});
console.log(`fake GitHub: ${gh.apiUrl} (storage ${gh.storageUrl}), release "example" of ${gh.owner}/${gh.repo}\n`);
console.log("run dispatch against it:\n");
console.log(`  GITHUB_TOKEN=${gh.token} bun src/main.ts --owner ${gh.owner} --repo ${gh.repo} --tag example --api-url ${gh.apiUrl} --bind 127.0.0.1:8080 --no-mdns\n`);
console.log("then be a server and its beacon, e.g. from 127.0.0.2:\n");
console.log("  curl -I --interface 127.0.0.2 http://127.0.0.1:8080/dispatch");
console.log("  curl -o w.efi --interface 127.0.0.2 http://127.0.0.1:8080/dispatch");
console.log("  curl -X POST --interface 127.0.0.2 http://127.0.0.1:8080/dispatch");
console.log(`  curl -X PUT --interface 127.0.0.2 --data '{"title":"it works","labels":["lab"],"milestone":"lab"}' http://127.0.0.1:8080/dispatch\n`);

let shown = 0;
const timer = setInterval(() => {
  for (const issue of gh.issues.slice(shown)) {
    console.log(`issue #${issue.number} filed: "${issue.title}" labels=${JSON.stringify(issue.labels)} milestone=${issue.milestone}\n${issue.body}\n`);
  }
  shown = gh.issues.length;
}, 250);
const stop = () => {
  clearInterval(timer);
  void gh.stop().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
