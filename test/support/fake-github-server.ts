// Runs the fake GitHub as a process of its own, for tests that start dispatch inside a network
// namespace: the fake must listen on that namespace's loopback to be reachable. Prints one JSON
// line {apiUrl, owner, repo, token} once listening; stops on SIGTERM/SIGINT.
//   ip netns exec NS bun test/support/fake-github-server.ts
import { startFakeGitHub } from "../fake-github/index.ts";
import { efi } from "./workloads.ts";

const gh = await startFakeGitHub({ releases: [{ tag: "v1", assets: [efi("memtest.efi", 4096)] }] });
console.log(JSON.stringify({ apiUrl: gh.apiUrl, owner: gh.owner, repo: gh.repo, token: gh.token }));
const stop = () => void gh.stop().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
