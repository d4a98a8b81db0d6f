// A fake GitHub for dispatch's tests: two real loopback HTTP servers.
//   - apiUrl:     the REST API (Bun.serve) — releases, release assets (JSON or 302), milestones, issues (dispatch lists them; it never searches).
//   - storageUrl: the asset storage host (node:http) — serves pre-signed URLs with Range, throttling, cuts.
// See README.md in this folder for behaviour notes.

import { createState } from "./model.ts";
import { handleApi } from "./server.ts";
import { startStorage } from "./storage.ts";
import type { FakeGitHub, FakeGitHubOptions } from "./types.ts";

export type {
  CreatedIssue,
  FailRule,
  FakeAsset,
  FakeGitHub,
  FakeGitHubOptions,
  FakeMilestone,
  FakeRelease,
  FaultRoute,
  Faults,
  RecordedRequest,
  RepositorySettings,
} from "./types.ts";
export { DEFAULT_OWNER, DEFAULT_REPO, DEFAULT_TOKEN, VIEWER_LOGIN } from "./model.ts";

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const state = createState(options);
  const storage = await startStorage(state);
  let api: ReturnType<typeof Bun.serve>;
  try {
    api = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => handleApi(state, req),
      error: (err) =>
        new Response(JSON.stringify({ message: "Server Error", detail: String(err) }), {
          status: 500,
          headers: { "content-type": "application/json; charset=utf-8" },
        }),
    });
  } catch (err) {
    await storage.stop();
    throw err;
  }
  state.webUrl = `http://127.0.0.1:${api.port}`;
  state.apiUrl = `${state.webUrl}${state.apiPrefix}`;
  state.storageUrl = storage.url;

  let stopped: Promise<void> | undefined;
  return {
    apiUrl: state.apiUrl,
    webUrl: state.webUrl,
    storageUrl: state.storageUrl,
    owner: state.owner,
    repo: state.repo,
    token: state.token,
    issues: state.issues,
    comments: state.comments,
    requests: state.requests,
    faults: state.faults,
    settings: state.settings,
    get storageSawAuthorization() {
      return state.storageSawAuthorization;
    },
    stop() {
      stopped ??= Promise.all([api.stop(true), storage.stop()]).then(() => undefined);
      return stopped;
    },
  };
}
