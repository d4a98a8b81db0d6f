// In-memory state of one fake GitHub: one repository, its releases/assets, milestones, labels and issues.

import type { CreatedIssue, Faults, FakeGitHubOptions, RecordedRequest, RepositorySettings } from "./types.ts";

export const DEFAULT_OWNER = "AMDEPYC";
export const DEFAULT_REPO = "dispatch";
export const DEFAULT_TOKEN = "ghp_faketoken123";
/** Login of the token's owner: issue author, release uploader, milestone creator. */
export const VIEWER_LOGIN = "dispatch-bot";

export type AssetRecord = {
  id: number;
  name: string;
  contentType: string;
  data: Uint8Array;
  label: string;
  /** "sha256:<hex>", as GitHub now reports for release assets. */
  digest: string;
  md5: string;
  createdAt: string;
  downloadCount: number;
  /** Opaque object key on the storage host. */
  storageKey: string;
  release: ReleaseRecord;
};

export type ReleaseRecord = {
  id: number;
  tag: string;
  latest: boolean;
  prerelease: boolean;
  draft: boolean;
  createdAt: string;
  assets: AssetRecord[];
};

export type MilestoneRecord = {
  id: number;
  number: number;
  title: string;
  state: "open" | "closed";
  createdAt: string;
  openIssues: number;
};

export type LabelRecord = { id: number; name: string };

export type IssueRecord = {
  id: number;
  number: number;
  title: string;
  body: string | null;
  labels: LabelRecord[];
  assignees: string[];
  milestone: MilestoneRecord | null;
  createdAt: string;
  /** Set by an edit (`PATCH`); `createdAt` until then. */
  updatedAt?: string;
  state?: "open" | "closed";
  stateReason?: "completed" | "not_planned" | "reopened" | null;
  closedAt?: string | null;
};

/** A comment on an issue (dispatch adds a server's second report to its job's issue). */
export type CommentRecord = { id: number; issue: number; body: string; createdAt: string };

export type State = {
  owner: string;
  repo: string;
  repoId: number;
  token: string;
  /** Reads but may not create issues (`readOnlyToken`), or none. */
  readOnlyToken: string | undefined;
  /** Live: a test may change the settings mid-run (an admin turning issues off). */
  settings: RepositorySettings;
  /** "" or e.g. "/api/v3". */
  apiPrefix: string;
  storageHost: string;
  /** Includes `apiPrefix`. */
  apiUrl: string;
  webUrl: string;
  storageUrl: string;
  /** Secret used to sign storage URLs (fresh per fake). */
  signingKey: string;
  releases: ReleaseRecord[];
  assetsById: Map<number, AssetRecord>;
  assetsByKey: Map<string, AssetRecord>;
  milestones: MilestoneRecord[];
  labels: Map<string, LabelRecord>;
  issueRecords: IssueRecord[];
  /** Public, live: handed out through FakeGitHub as `comments`. */
  comments: CommentRecord[];
  /** Lower-cased logins, or null for "anyone". */
  assignable: Set<string> | null;
  /** Public, live arrays handed out through FakeGitHub. */
  issues: CreatedIssue[];
  requests: RecordedRequest[];
  faults: Faults;
  storageSawAuthorization: boolean;
  rate: { core: number; resetEpoch: number };
  nextIssueId: number;
  nextLabelId: number;
};

/** GitHub timestamps have whole seconds: 2017-10-10T16:00:00Z. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function hex(algorithm: "sha256" | "md5", data: Uint8Array): string {
  const h = new Bun.CryptoHasher(algorithm);
  h.update(data);
  return h.digest("hex");
}

export function createState(options: FakeGitHubOptions): State {
  const owner = options.owner ?? DEFAULT_OWNER;
  const repo = options.repo ?? DEFAULT_REPO;
  const base = Date.parse("2025-01-06T09:00:00Z");
  const assetsById = new Map<number, AssetRecord>();
  const assetsByKey = new Map<string, AssetRecord>();
  let nextAssetId = 240_000_001;

  const flagged = options.releases.some((r) => r.latest);
  const releases: ReleaseRecord[] = options.releases.map((r, i) => {
    const release: ReleaseRecord = {
      id: 190_000_001 + i,
      tag: r.tag,
      latest: false,
      prerelease: r.prerelease ?? false,
      draft: r.draft ?? false,
      // Later entries are newer unless told otherwise.
      createdAt: r.createdAt ? isoSeconds(new Date(r.createdAt)) : isoSeconds(new Date(base + i * 3_600_000)),
      assets: [],
    };
    for (const a of r.assets) {
      const asset: AssetRecord = {
        id: nextAssetId++,
        name: a.name,
        contentType: a.contentType,
        data: a.data,
        label: a.label ?? "",
        digest: `sha256:${hex("sha256", a.data)}`,
        md5: hex("md5", a.data),
        createdAt: release.createdAt,
        downloadCount: 0,
        storageKey: crypto.randomUUID(),
        release,
      };
      release.assets.push(asset);
      assetsById.set(asset.id, asset);
      assetsByKey.set(asset.storageKey, asset);
    }
    return release;
  });
  // GitHub's latest: the flagged one, else the newest full release (no draft, no prerelease) by created_at.
  const full = releases.filter((r) => !r.draft && !r.prerelease);
  const newest = [...full].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id - a.id)[0];
  const latest = flagged ? releases[options.releases.findIndex((r) => r.latest)] : newest;
  if (latest) latest.latest = true;

  const milestones: MilestoneRecord[] = (options.milestones ?? []).map((m, i) => ({
    id: 11_000_001 + i,
    number: i + 1,
    title: m.title,
    state: m.state ?? "open",
    createdAt: isoSeconds(new Date(base - 86_400_000 + i * 60_000)),
    openIssues: 0,
  }));

  return {
    owner,
    repo,
    repoId: 880_000_001,
    token: options.token ?? DEFAULT_TOKEN,
    readOnlyToken: options.readOnlyToken,
    settings: { hasIssues: options.hasIssues ?? true, archived: options.archived ?? false },
    apiPrefix: (options.apiPrefix ?? "").replace(/\/+$/, ""),
    storageHost: options.storageHost ?? "127.0.0.1",
    apiUrl: "",
    webUrl: "",
    storageUrl: "",
    signingKey: crypto.randomUUID(),
    releases,
    assetsById,
    assetsByKey,
    milestones,
    labels: new Map(),
    issueRecords: [],
    comments: [],
    assignable: options.assignable ? new Set(options.assignable.map((l) => l.toLowerCase())) : null,
    issues: [],
    requests: [],
    faults: { failNext: [] },
    storageSawAuthorization: false,
    rate: { core: 0, resetEpoch: Math.floor(Date.now() / 1000) + 3600 },
    nextIssueId: 3_100_000_001,
    nextLabelId: 8_000_000_001,
  };
}

/** Lower-cased header record (multi-valued headers joined with ", "). */
export function headerRecord(headers: Headers | Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, key) => {
      out[key.toLowerCase()] = value;
    });
  } else {
    for (const [key, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      out[key.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
    }
  }
  return out;
}

export function labelFor(state: State, name: string): LabelRecord {
  const key = name.toLowerCase();
  let label = state.labels.get(key);
  if (!label) {
    label = { id: state.nextLabelId++, name };
    state.labels.set(key, label);
  }
  return label;
}
