// JSON bodies shaped like api.github.com's, modelled on the recorded objects in
// node_modules/@octokit/fixtures/scenarios/api.github.com/{release-assets,search-issues,labels,errors,get-repository,get-root}
// and on the required properties of the matching @octokit/openapi component schemas.
// API URLs point at the fake (`state.apiUrl`), html URLs at https://github.com, as for api.github.com.

import { type AssetRecord, type IssueRecord, type LabelRecord, type MilestoneRecord, type ReleaseRecord, type State, VIEWER_LOGIN } from "./model.ts";

export const DOCS = {
  rest: "https://docs.github.com/rest",
  root: "https://docs.github.com/rest/meta/meta#github-api-root",
  repository: "https://docs.github.com/rest/repos/repos#get-a-repository",
  releaseByTag: "https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name",
  latestRelease: "https://docs.github.com/rest/releases/releases#get-the-latest-release",
  release: "https://docs.github.com/rest/releases/releases#get-a-release",
  listReleases: "https://docs.github.com/rest/releases/releases#list-releases",
  releaseAsset: "https://docs.github.com/rest/releases/assets#get-a-release-asset",
  listAssets: "https://docs.github.com/rest/releases/assets#list-release-assets",
  listMilestones: "https://docs.github.com/rest/issues/milestones#list-milestones",
  milestone: "https://docs.github.com/rest/issues/milestones#get-a-milestone",
  createIssue: "https://docs.github.com/rest/issues/issues#create-an-issue",
  issue: "https://docs.github.com/rest/issues/issues#get-an-issue",
  updateIssue: "https://docs.github.com/rest/issues/issues#update-an-issue",
  listIssues: "https://docs.github.com/rest/issues/issues#list-repository-issues",
  rateLimit: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
  secondaryRateLimit: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
} as const;

/** The legacy node_id encoding: base64("0" + type.length + ":" + type + id), e.g. "MDc6UmVsZWFzZTE=" for Release 1. */
export function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString("base64");
}

/** Stable fake user id derived from the login. */
export function userId(login: string): number {
  let h = 0;
  for (const c of login.toLowerCase()) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return 10_000_000 + (h % 90_000_000);
}

export function userJson(state: State, login: string) {
  const id = userId(login);
  const url = `${state.apiUrl}/users/${login}`;
  return {
    login,
    id,
    node_id: nodeId("User", id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url,
    html_url: `https://github.com/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: "User",
    user_view_type: "public",
    site_admin: false,
  };
}

function repoApi(state: State): string {
  return `${state.apiUrl}/repos/${state.owner}/${state.repo}`;
}

function repoHtml(state: State): string {
  return `https://github.com/${state.owner}/${state.repo}`;
}

export function assetJson(state: State, asset: AssetRecord) {
  return {
    url: `${repoApi(state)}/releases/assets/${asset.id}`,
    id: asset.id,
    node_id: nodeId("ReleaseAsset", asset.id),
    name: asset.name,
    label: asset.label,
    uploader: userJson(state, VIEWER_LOGIN),
    content_type: asset.contentType,
    state: "uploaded",
    size: asset.data.byteLength,
    digest: asset.digest,
    download_count: asset.downloadCount,
    created_at: asset.createdAt,
    updated_at: asset.createdAt,
    browser_download_url: `${repoHtml(state)}/releases/download/${encodeURIComponent(asset.release.tag)}/${encodeURIComponent(asset.name)}`,
  };
}

export function releaseJson(state: State, release: ReleaseRecord) {
  const url = `${repoApi(state)}/releases/${release.id}`;
  const tag = encodeURIComponent(release.tag);
  return {
    url,
    assets_url: `${url}/assets`,
    upload_url: `${url}/assets{?name,label}`,
    html_url: `${repoHtml(state)}/releases/tag/${tag}`,
    id: release.id,
    author: userJson(state, VIEWER_LOGIN),
    node_id: nodeId("Release", release.id),
    tag_name: release.tag,
    target_commitish: "main",
    name: release.tag,
    draft: release.draft,
    immutable: false,
    prerelease: release.prerelease,
    created_at: release.createdAt,
    updated_at: release.createdAt,
    published_at: release.draft ? null : release.createdAt,
    assets: release.assets.map((a) => assetJson(state, a)),
    tarball_url: `${repoApi(state)}/tarball/${tag}`,
    zipball_url: `${repoApi(state)}/zipball/${tag}`,
    body: null,
  };
}

/** `GET /`: the API's root, as in the get-root fixture (URL templates on the fake's API). */
export function rootJson(state: State) {
  const api = state.apiUrl;
  const web = state.apiPrefix ? state.webUrl : "https://github.com";
  return {
    current_user_url: `${api}/user`,
    current_user_authorizations_html_url: `${web}/settings/connections/applications{/client_id}`,
    authorizations_url: `${api}/authorizations`,
    code_search_url: `${api}/search/code?q={query}{&page,per_page,sort,order}`,
    commit_search_url: `${api}/search/commits?q={query}{&page,per_page,sort,order}`,
    emails_url: `${api}/user/emails`,
    emojis_url: `${api}/emojis`,
    events_url: `${api}/events`,
    feeds_url: `${api}/feeds`,
    followers_url: `${api}/user/followers`,
    following_url: `${api}/user/following{/target}`,
    gists_url: `${api}/gists{/gist_id}`,
    hub_url: `${api}/hub`,
    issue_search_url: `${api}/search/issues?q={query}{&page,per_page,sort,order}`,
    issues_url: `${api}/issues`,
    keys_url: `${api}/user/keys`,
    label_search_url: `${api}/search/labels?q={query}&repository_id={repository_id}{&page,per_page}`,
    notifications_url: `${api}/notifications`,
    organization_url: `${api}/orgs/{org}`,
    organization_repositories_url: `${api}/orgs/{org}/repos{?type,page,per_page,sort}`,
    organization_teams_url: `${api}/orgs/{org}/teams`,
    public_gists_url: `${api}/gists/public`,
    rate_limit_url: `${api}/rate_limit`,
    repository_url: `${api}/repos/{owner}/{repo}`,
    repository_search_url: `${api}/search/repositories?q={query}{&page,per_page,sort,order}`,
    current_user_repositories_url: `${api}/user/repos{?type,page,per_page,sort}`,
    starred_url: `${api}/user/starred{/owner}{/repo}`,
    starred_gists_url: `${api}/gists/starred`,
    topic_search_url: `${api}/search/topics?q={query}{&page,per_page}`,
    user_url: `${api}/users/{user}`,
    user_organizations_url: `${api}/user/orgs`,
    user_repositories_url: `${api}/users/{user}/repos{?type,page,per_page,sort}`,
    user_search_url: `${api}/search/users?q={query}{&page,per_page,sort,order}`,
  };
}

/**
 * `GET /repos/{owner}/{repo}`: a full-repository as in the get-repository fixture. `permissions`
 * is the token owner's role (admin), which says nothing about what a fine-grained token may do.
 */
export function repositoryJson(state: State) {
  const api = repoApi(state);
  const html = repoHtml(state);
  const owner = { ...userJson(state, state.owner), type: "Organization" };
  const at = "2024-06-03T08:00:00Z";
  return {
    id: state.repoId,
    node_id: nodeId("Repository", state.repoId),
    name: state.repo,
    full_name: `${state.owner}/${state.repo}`,
    private: false,
    owner,
    html_url: html,
    description: null,
    fork: false,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: at,
    updated_at: at,
    pushed_at: at,
    git_url: `git://github.com/${state.owner}/${state.repo}.git`,
    ssh_url: `git@github.com:${state.owner}/${state.repo}.git`,
    clone_url: `${html}.git`,
    svn_url: html,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: state.settings.hasIssues,
    has_projects: true,
    has_downloads: true,
    has_wiki: true,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: state.settings.archived,
    disabled: false,
    open_issues_count: state.issueRecords.length,
    license: null,
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: "public",
    forks: 0,
    open_issues: state.issueRecords.length,
    watchers: 0,
    default_branch: "main",
    permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
    temp_clone_token: "",
    allow_squash_merge: true,
    allow_merge_commit: true,
    allow_rebase_merge: true,
    allow_auto_merge: false,
    delete_branch_on_merge: false,
    allow_update_branch: false,
    use_squash_pr_title_as_default: false,
    organization: owner,
    network_count: 0,
    subscribers_count: 0,
  };
}

export function milestoneJson(state: State, m: MilestoneRecord) {
  const url = `${repoApi(state)}/milestones/${m.number}`;
  return {
    url,
    html_url: `${repoHtml(state)}/milestone/${m.number}`,
    labels_url: `${url}/labels`,
    id: m.id,
    node_id: nodeId("Milestone", m.id),
    number: m.number,
    title: m.title,
    description: null,
    creator: userJson(state, VIEWER_LOGIN),
    open_issues: m.openIssues,
    closed_issues: 0,
    state: m.state,
    created_at: m.createdAt,
    updated_at: m.createdAt,
    due_on: null,
    closed_at: m.state === "closed" ? m.createdAt : null,
  };
}

export function labelJson(state: State, label: LabelRecord) {
  return {
    id: label.id,
    node_id: nodeId("Label", label.id),
    url: `${repoApi(state)}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    // The colour GitHub gives labels it creates implicitly (e.g. from `labels` on issue creation).
    color: "ededed",
    default: false,
    description: null,
  };
}

export function issueJson(state: State, issue: IssueRecord) {
  const url = `${repoApi(state)}/issues/${issue.number}`;
  const assignees = issue.assignees.map((login) => userJson(state, login));
  return {
    url,
    repository_url: repoApi(state),
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `${repoHtml(state)}/issues/${issue.number}`,
    id: issue.id,
    node_id: nodeId("Issue", issue.id),
    number: issue.number,
    title: issue.title,
    user: userJson(state, VIEWER_LOGIN),
    labels: issue.labels.map((l) => labelJson(state, l)),
    state: issue.state ?? "open",
    locked: false,
    assignee: assignees[0] ?? null,
    assignees,
    milestone: issue.milestone ? milestoneJson(state, issue.milestone) : null,
    comments: 0,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt ?? issue.createdAt,
    closed_at: issue.closedAt ?? null,
    author_association: "MEMBER",
    active_lock_reason: null,
    body: issue.body,
    closed_by: issue.state === "closed" ? userJson(state, VIEWER_LOGIN) : null,
    reactions: {
      url: `${url}/reactions`,
      total_count: 0,
      "+1": 0,
      "-1": 0,
      laugh: 0,
      hooray: 0,
      confused: 0,
      heart: 0,
      rocket: 0,
      eyes: 0,
    },
    timeline_url: `${url}/timeline`,
    performed_via_github_app: null,
    state_reason: issue.stateReason ?? null,
  };
}

// ---- error bodies ----------------------------------------------------------------------------

export function errorBody(message: string, status: number, documentationUrl: string = DOCS.rest) {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

export type FieldError = { resource: string; code: string; field: string; value?: unknown; message?: string };

/** `{"message":"Validation Failed","errors":[...]}`, as in the errors / release-assets-conflict fixtures. */
export function validationFailed(errors: FieldError[], documentationUrl: string) {
  return { message: "Validation Failed", errors, documentation_url: documentationUrl, status: "422" };
}

/** Default JSON body for an API status forced by a fault. */
export function apiFaultBody(status: number, headers: Record<string, string>): unknown {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  switch (status) {
    case 400:
      return errorBody("Bad Request", 400);
    case 401:
      return errorBody("Bad credentials", 401);
    case 403:
      if (lower["x-ratelimit-remaining"] === "0") {
        return errorBody(`API rate limit exceeded for user ID ${userId(VIEWER_LOGIN)}.`, 403, DOCS.rateLimit);
      }
      if (lower["retry-after"] !== undefined) {
        return errorBody(
          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
          403,
          DOCS.secondaryRateLimit,
        );
      }
      return errorBody("Resource not accessible by personal access token", 403);
    case 404:
      return errorBody("Not Found", 404);
    case 422:
      return { message: "Validation Failed", errors: [], documentation_url: DOCS.rest, status: "422" };
    case 429:
      return errorBody(
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        429,
        DOCS.secondaryRateLimit,
      );
    case 500:
    case 502:
      return { message: "Server Error" };
    case 503:
      return { message: "Service Unavailable", documentation_url: DOCS.rest };
    case 504:
      return {
        message:
          "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request and contact us if the problem persists.",
      };
    default:
      return { message: `HTTP ${status}`, documentation_url: DOCS.rest };
  }
}

/** S3-style XML error, as returned by GitHub's release-asset storage host. */
export function storageErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>FAKE${Date.now()}</RequestId></Error>`;
}

export function storageFaultCode(status: number): [string, string] {
  switch (status) {
    case 403:
      return ["AccessDenied", "Access Denied"];
    case 404:
      return ["NoSuchKey", "The specified key does not exist."];
    case 500:
      return ["InternalError", "We encountered an internal error. Please try again."];
    case 503:
      return ["SlowDown", "Please reduce your request rate."];
    default:
      return ["ServiceUnavailable", `HTTP ${status}`];
  }
}
