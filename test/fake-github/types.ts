// Public types of the fake GitHub. Everything here is re-exported from ./index.ts.


import type { CommentRecord } from "./model.ts";
/** `label`: the asset's display label, as set when uploading (GitHub sends "" when there is none). */
export type FakeAsset = { name: string; contentType: string; data: Uint8Array; label?: string };

export type FakeRelease = {
  tag: string;
  assets: FakeAsset[];
  /** Flag this one as the repository's latest release (GitHub's "Set as latest"). */
  latest?: boolean;
  prerelease?: boolean;
  /** Drafts are listed (the token has push access) but have no tag yet: not found by tag, never latest. */
  draft?: boolean;
  /** ISO time (GitHub: the date of the release's commit); default: one hour after the previous entry. */
  createdAt?: string;
};

/** Repository settings a test may change while dispatch runs. */
export type RepositorySettings = { hasIssues: boolean; archived: boolean };

export type FakeMilestone = { title: string; state?: "open" | "closed" };

export type FakeGitHubOptions = {
  /** Repository owner; default "AMDEPYC". Matched case-insensitively, like GitHub. */
  owner?: string;
  /** Repository name; default "dispatch". Matched case-insensitively, like GitHub. */
  repo?: string;
  /** The only accepted token; default "ghp_faketoken123". */
  token?: string;
  releases: FakeRelease[];
  /** Numbered 1..N in the order given. */
  milestones?: FakeMilestone[];
  /** Logins that may be assigned to issues. Default: any login is assignable. */
  assignable?: string[];
  /** Issues turned off in the repository's settings: `has_issues: false`, and 410 on the issue routes. Default true. */
  hasIssues?: boolean;
  /** An archived repository: `archived: true`, and writes are 403 "Repository was archived so is read-only." */
  archived?: boolean;
  /**
   * A second accepted token that may read (releases, assets, issues) but not create issues:
   * 403 "Resource not accessible by personal access token", as GitHub answers a fine-grained
   * token with Issues: read-only.
   */
  readOnlyToken?: string;
  /**
   * Serve the API under this path, as GitHub Enterprise Server does ("/api/v3"); every other
   * path then answers an HTML 404, as its web server does. `apiUrl` includes it, `webUrl` not.
   */
  apiPrefix?: string;
  /** The loopback address the storage host listens on (default 127.0.0.1): "127.0.0.2" puts it on another host. */
  storageHost?: string;
};

/** An issue created through `POST /repos/{owner}/{repo}/issues`. */
export type CreatedIssue = {
  id: number;
  number: number;
  title: string;
  body: string | null;
  /** Label names, in the order given. */
  labels: string[];
  /** Assignee logins (from `assignees` and the legacy `assignee`). */
  assignees: string[];
  /** Milestone number, or null. */
  milestone: number | null;
  html_url: string;
  created_at: string;
  /** Set once the issue is closed through `PATCH` (and back to null when reopened). */
  closed_at?: string | null;
  state_reason?: "completed" | "not_planned" | "reopened" | null;
};

export type RecordedRequest = {
  host: "api" | "storage";
  method: string;
  /** Path plus query string, e.g. "/repos/AMDEPYC/dispatch/milestones?page=2". */
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
};

export type FaultRoute = "release" | "asset" | "storage" | "issue" | "update-issue" | "milestones" | "list-issues" | "repository";

export type FailRule = {
  route: FaultRoute;
  status: number;
  /** How many matching requests get this answer; the rule is removed when it reaches 0. */
  times: number;
  /** How many matching requests pass untouched before the rule applies (default 0). */
  after?: number;
  /** Extra response headers, applied last (e.g. `x-ratelimit-remaining: "0"`, `retry-after: "1"`). */
  headers?: Record<string, string>;
  /** Override the JSON (API) or XML/text (storage) body. Default: a GitHub-like body for the status. */
  body?: unknown;
};

export type Faults = {
  failNext: FailRule[];
  /** Storage sends this many body bytes of each response, then drops the connection. */
  cutStorageAfterBytes?: number;
  /** If set, only this many storage responses are cut; then `cutStorageAfterBytes` is cleared. */
  cutStorageTimes?: number;
  /** Throttle the storage host's body bytes (per response). */
  storageBytesPerSecond?: number;
  /** The asset endpoint (octet-stream) redirects here instead of the storage host. */
  redirectTo?: string;
  /** The API host answers 503 to everything. */
  down?: boolean;
  /** The next `times` issue creations do create the issue, then answer `status` (GitHub's 502 after the fact). */
  failAfterCreate?: { status: number; times: number };
  /** Issue creations create the issue at once, then wait this long before answering (to kill a client in between). */
  issueResponseDelayMs?: number;
};

export type FakeGitHub = {
  /** The API's base URL, e.g. http://127.0.0.1:PORT, or …/api/v3 with `apiPrefix` (dispatch's --api-url). */
  apiUrl: string;
  /** Origin of the API host without `apiPrefix`: what a user of Enterprise Server copies from the browser. */
  webUrl: string;
  /** Origin of the storage host (a second server: different port, different origin). */
  storageUrl: string;
  owner: string;
  repo: string;
  token: string;
  /** Issues created so far (live array). */
  readonly issues: CreatedIssue[];
  /** Comments made on issues, oldest first. */
  readonly comments: readonly CommentRecord[];
  /** Every request to either host, in arrival order (live array). */
  readonly requests: RecordedRequest[];
  /** Mutable fault knobs. */
  readonly faults: Faults;
  /** The repository's settings, live (`hasIssues`, `archived`): set them to change GitHub's answers from now on. */
  readonly settings: RepositorySettings;
  /** True once the storage host has received any request carrying an Authorization header. */
  readonly storageSawAuthorization: boolean;
  stop(): Promise<void>;
};
