#!/usr/bin/env bun
/**
 * The fake GitHub as a process of its own, for tests that run dispatch inside a network
 * namespace: the fake must listen on that namespace's loopback, which only a process started
 * there (`ip netns exec NS bun …`) can do.
 *
 *   bun fake-github-process.ts RELEASE.json
 *
 * RELEASE.json: {"tag": "...", "assets": [{"name", "contentType", "path"}]}. Prints one JSON
 * line {"apiUrl", "owner", "repo", "token"} once listening, then {"issue": …} for every issue
 * created. Stops on SIGTERM or SIGINT.
 */
import { readFile } from "node:fs/promises";
import { startFakeGitHub } from "../../fake-github/index.ts";

export type ReleaseFile = { tag: string; assets: { name: string; contentType: string; path: string }[] };

const spec: ReleaseFile = JSON.parse(await readFile(process.argv[2]!, "utf8"));
const assets = await Promise.all(
  spec.assets.map(async (a) => ({ name: a.name, contentType: a.contentType, data: new Uint8Array(await readFile(a.path)) })),
);
const gh = await startFakeGitHub({ releases: [{ tag: spec.tag, assets }] });
console.log(JSON.stringify({ apiUrl: gh.apiUrl, owner: gh.owner, repo: gh.repo, token: gh.token }));

let reported = 0;
const poll = setInterval(() => {
  for (; reported < gh.issues.length; reported++) console.log(JSON.stringify({ issue: gh.issues[reported] }));
}, 100);

const stop = async () => {
  clearInterval(poll);
  await gh.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
