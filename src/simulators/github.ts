/**
 * An in-memory loopback fake of the GitHub REST API (node:http only), for integration tests that drive
 * the real Octokit (`new Octokit({ auth, baseUrl: fake.url })`) or worker processes given the URL
 * through `github.api_url` / `GITHUB_API_URL`.
 *
 * Behaviour modelled on api.github.com (see DESIGN.md §3):
 * - `authorization: token X` or `Bearer X` (any case; Octokit sends `token X`, or `bearer X` for a
 *   JWT-shaped token). Missing → 401 "Requires authentication", wrong → 401 "Bad credentials"; both
 *   carry the unauthenticated bucket's rate-limit headers (limit 60).
 * - Every API response carries x-ratelimit-{limit,remaining,used,reset,resource} and
 *   x-github-request-id. Every authenticated request (reads, writes, scripted failures) uses one
 *   point of `core`, except `GET /rate_limit`. At 0 remaining → 403 "API rate limit exceeded…" until
 *   the reset (an hour after the first counted request).
 * - With `writeLimits` (the numbers of hls's `github.pacing`), GitHub's secondary limits on
 *   content-creating requests (POST, PATCH, PUT, DELETE) of the token: a write that arrives less than
 *   `minIntervalMs / 2` after the previous accepted one (GitHub's 1 s is guidance; the half tolerates
 *   jitter), or while a trailing window (shortened by the same half interval) already holds `max`
 *   accepted writes, is answered 403 with the
 *   secondary-rate-limit body and `retry-after` (whole seconds until it would be accepted, at least 1),
 *   changes nothing but the core count, and is counted in `secondaryLimitAnswers`.
 * - Error bodies: `{message, [errors], documentation_url, status: "<code>"}`.
 * - `POST …/issues/{n}/labels` and `PUT` create unknown labels in the repo (color ededed, null
 *   description), as GitHub does. Label names match case-insensitively.
 * - Comment bodies above 65,536 characters (code points) → 422.
 * - `GET …/pulls/{n}` with a diff/patch media type → the diff as text (content-type echoes the media
 *   type, e.g. `application/vnd.github.v3.diff; charset=utf-8`), or 406 too_large when
 *   `tooLargeForDiff`, more than 300 files, or more than 20,000 diff lines.
 * - `GET …/actions/jobs/{id}/logs` → 302 to `${url}/_logs/{id}?sig=…` (served without auth or
 *   rate-limit headers, like the storage host the real API redirects to) → text/plain.
 * - `GET /repos/{o}/{r}/issues` lists the repository's issues (pull requests among them) by number,
 *   `state` open (default), closed or all, paginated as below.
 * - A pull request is an issue too: the issue endpoints for a number present only in `pulls` create
 *   the issue on first use (`pull_request: true`).
 * - Pagination: `per_page` (default 30, max 100) and `page`, with a `link` header (next, last, first,
 *   prev) of absolute URLs on this server. Lists keep insertion order; comments are oldest first.
 * - Webhooks: `hooks` of a repo (`repo(…).hooks`) or an organisation (`org(…).hooks`), listed by
 *   `GET /repos/{o}/{r}/hooks` and `GET /orgs/{org}/hooks` (page pagination as above). Each hook has a
 *   delivery log, served by `GET …/hooks/{id}/deliveries` newest first (highest id first) with cursor
 *   pagination: `per_page` (default 30, max 100) and `cursor`, and only a `next` link,
 *   `<${url}/…/deliveries?per_page=2&cursor=v1_ID>; rel="next"`, where ID is the first delivery of the
 *   next page. `POST …/deliveries/{delivery_id}/attempts` → 202 `{}`, records the attempt
 *   (`hook.attempts`) and appends a new delivery with the same guid and `redelivery: true`
 *   (`hook.redeliveryStatusCode`, default 200 "OK"). Unknown hook or delivery → 404.
 * - Collaborator permission: `GET /repos/{o}/{r}/collaborators/{username}/permission` →
 *   `{permission, role_name, user}` from `repo(…).permissions` (login → role, case-insensitive); a user
 *   not listed reads as a public repository's outsider (`read`). `permission` is the legacy field:
 *   maintain reads as write, triage as read.
 * - Reactions of issue comments: `POST …/issues/comments/{id}/reactions` `{content}` → 201 with the
 *   reaction (200 and the same one when the token's user already reacted so), 422 for a content GitHub
 *   does not know; `GET` lists them (`content` filters). Kept in `comment.reactions`.
 * - `GET /meta` → `meta` (the test sets its `hooks` ranges; default GitHub's published ones), with or
 *   without a token (a wrong token is still 401), counted in the bucket of the credentials used.
 * - Files of the default branch: `GET /repos/{o}/{r}/contents/{path}` → `{type: "file", encoding:
 *   "base64", content, sha (the git blob sha), size, …}` with an `etag` header, from `repo(…).files`
 *   (path → text; tests set, change and delete entries), 404 when absent; an installation without the
 *   `contents` permission gets 403 "Resource not accessible by integration". A request whose
 *   `if-none-match` is the file's current etag gets 304 without a body and, as on GitHub, costs no
 *   rate-limit point (`x-ratelimit-remaining` unchanged).
 * - Every request is recorded (`requests`), in arrival order, with the status it got.
 * - With `app`, a GitHub App (DESIGN.md "GitHub Apps"): a `Bearer` JWT is verified (RS256 against
 *   `app.publicKey`, `iss` = the app id, `iat` not in the future, `exp` in the future and at most 10
 *   minutes after `iat`; otherwise 401 with GitHub's message) and serves `GET /app`,
 *   `GET /repos/{o}/{r}/installation`, `POST /app/installations/{id}/access_tokens` (a `ghs_` token
 *   living `app.tokenTtlMs`), `GET /app/hook/deliveries` and `POST /app/hook/deliveries/{id}/attempts`
 *   (the App's webhook, `app.hook`, as above); app routes without a valid JWT → 401 "A JSON web token
 *   could not be decoded". An installation token reaches the repositories of its installation only
 *   (others 404), `GET /installation/repositories` lists them, an expired one → 401 "Bad credentials".
 *   Each installation (and the App's JWT) has its own core bucket and its own secondary write limits,
 *   minting exempt; comments it posts
 *   are by `<slug>[bot]`. Requests record the installation (`installation`) or `jwt: true`.
 */
import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGitHubOptions {
  /** The only accepted token; default 'ghp_test'. */
  token?: string;
  /** The token's user; default 'hls-bot'. Type 'Bot' when it ends with '[bot]'. */
  login?: string;
  /** Delay before every response. */
  latencyMs?: number;
  /** The core rate limit per hour; default 5000 (lower it to test exhaustion). */
  rateLimit?: number;
  /** Enforces secondary limits on content-creating requests (see above); default none. */
  writeLimits?: WriteLimits;
  /** The initial `GET /meta` answer (see FakeGitHub.meta). */
  meta?: FakeMeta;
  /** Also serves a GitHub App and its installations (see above). */
  app?: FakeAppOptions;
  /** The address to listen on (default 127.0.0.1; a multi-host test gives a network namespace's link). */
  host?: string;
}

export interface FakeAppOptions {
  id: number;
  slug: string;
  /** The App's public key (PEM); JWTs must be signed with its private half. */
  publicKey: string;
  installations: FakeInstallation[];
  /** Lifetime of an installation token; default one hour. */
  tokenTtlMs?: number;
  /** The App's own webhook (its id is not used in routes); default one without deliveries. */
  hook?: FakeHook;
}

export interface FakeInstallation {
  id: number;
  /** 'owner/name' of each repository it was granted. */
  repositories: string[];
  /** Default: issues and pull_requests write, metadata, actions and contents read. */
  permissions?: Record<string, string>;
}

/** An installation token the fake minted. */
export interface MintedToken {
  installation: number;
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** What `GET /meta` answers; only `hooks` (the webhook source ranges) is modelled. */
export interface FakeMeta {
  hooks?: unknown;
  [key: string]: unknown;
}

/** GitHub's webhook source ranges as published in 2026-11. */
export const GITHUB_HOOK_RANGES = [
  '192.30.252.0/22',
  '185.199.108.0/22',
  '140.82.112.0/20',
  '143.55.64.0/20',
  '2a0a:a440::/29',
  '2606:50c0::/32',
];

/** The same numbers as hls's `github.pacing`, in ms. */
export interface WriteLimits {
  /** A write arriving less than half of this after the previous accepted write is refused. */
  minIntervalMs: number;
  /** A write is refused while the trailing `ms` already hold `max` accepted writes. */
  windows: { max: number; ms: number }[];
}

export interface FakeLabel {
  name: string;
  color: string;
  description: string | null;
}

export interface FakeRepo {
  labels: FakeLabel[];
  issues: Map<number, FakeIssue>;
  pulls: Map<number, FakePull>;
  runs: Map<number, FakeRun>;
  /** The repository's webhooks. */
  hooks: FakeHook[];
  /** The repository id GitHub would report (`repository_id` of deliveries). */
  readonly id: number;
  /** Collaborators' roles by login (see the permission endpoint above). */
  permissions: Map<string, FakeRole>;
  /** Files of the default branch by path (e.g. '.github/hls.yml'), served by the contents API. */
  files: Map<string, string>;
}

export type FakeRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read';

export interface FakeReaction {
  id: number;
  /** +1, -1, laugh, confused, heart, hooray, rocket, eyes. */
  content: string;
  user: string;
  created_at: string;
}

export interface FakeOrg {
  /** The organisation's webhooks. */
  hooks: FakeHook[];
}

/** A webhook; only `id` and `config.url` are required. */
export interface FakeHook {
  id: number;
  config: { url: string; content_type?: string; insecure_ssl?: string };
  /** Default true. */
  active?: boolean;
  /** Default ['push']. */
  events?: string[];
  /** The delivery log, in any order (served newest first, by id). */
  deliveries?: FakeDelivery[];
  /** Every accepted `POST …/attempts`, in order (set by the fake). */
  attempts?: FakeAttempt[];
  /** status_code of the delivery a redelivery appends; default 200 (status "OK"). */
  redeliveryStatusCode?: number;
}

/** One entry of a hook's delivery log, as GitHub lists it (hook-delivery-item). */
export interface FakeDelivery {
  id: number;
  /** X-GitHub-Delivery; shared by every attempt of one event. */
  guid: string;
  /** ISO 8601, e.g. 2026-11-23T14:00:00Z. */
  delivered_at: string;
  redelivery: boolean;
  /** Seconds. */
  duration: number;
  /** "OK", "Invalid HTTP Response: 502", "failed to connect to host", … */
  status: string;
  /** 0 when no HTTP response was received. */
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
}

export interface FakeAttempt {
  /** The delivery id the attempt was requested for. */
  delivery_id: number;
  guid: string;
  /** The id of the delivery entry it appended. */
  new_delivery_id: number;
  at: number;
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string | null;
  /** Label names; unknown names render as grey labels. */
  labels: string[];
  user: string;
  comments: FakeComment[];
  pull_request?: boolean;
  state?: 'open' | 'closed';
}

export interface FakeComment {
  id: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
  /** Set by the fake on the first reaction. */
  reactions?: FakeReaction[];
}

export interface FakePullFile {
  filename: string;
  status: string;
  additions: number;
  deletions: number;
  changes: number;
  patch?: string;
}

export interface FakePull {
  number: number;
  diff: string;
  files: FakePullFile[];
  /** → 406 on the diff media type (also automatic above 300 files or 20,000 diff lines). */
  tooLargeForDiff?: boolean;
  head?: { ref: string; sha: string };
  base?: { ref: string; sha: string };
}

export interface FakeJob {
  id: number;
  name: string;
  conclusion: string;
  log: string;
}

export interface FakeRun {
  id: number;
  jobs: FakeJob[];
}

export interface RecordedRequest {
  method: string;
  /** The pathname, still percent-encoded as sent. */
  path: string;
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Parsed JSON, else the raw text; undefined without a body. */
  body: any;
  /** The installation whose token authenticated it (GitHub App). */
  installation?: number;
  /** Authenticated as the App (a valid JWT). */
  jwt?: boolean;
  /** 0 until the response is sent. */
  status: number;
  at: number;
}

export interface FailMatch {
  method?: string;
  /** Tested against the pathname (percent-encoded, no query). */
  path?: RegExp;
  /** Query parameters the request must have, e.g. `{ page: '2' }`. */
  query?: Record<string, string>;
}

export interface FailReply {
  status: number;
  /** Override or add response headers (e.g. retry-after, x-ratelimit-remaining: '0'). */
  headers?: Record<string, string>;
  /**
   * Object → JSON, string → text/plain, null → empty. Omitted → GitHub's body for the case: the
   * secondary-rate-limit message for 403/429 with retry-after, the primary one for 403 with
   * x-ratelimit-remaining 0, else `{message: <reason phrase>, documentation_url, status}`.
   */
  body?: unknown;
}

export interface FakeGitHub {
  url: string;
  requests: RecordedRequest[];
  /** The `GET /meta` answer; replace it to change what the next request gets. */
  meta: FakeMeta;
  /** Created on first use, empty. `fullName` is 'owner/name', matched case-insensitively. */
  repo(fullName: string): FakeRepo;
  /** Created on first use, without hooks; matched case-insensitively. */
  org(name: string): FakeOrg;
  /** POST/PATCH/PUT/DELETE only. */
  writes(): RecordedRequest[];
  /** Writes refused by `writeLimits` so far (scripted failures not included). */
  readonly secondaryLimitAnswers: number;
  /** Installation tokens minted so far (with `app`), in order. */
  readonly mintedTokens: MintedToken[];
  /** Every installation token minted so far is refused from now on (401 "Bad credentials"), as if revoked. */
  revokeTokens(): void;
  /** The next `times` (default 1) matching requests get `reply` instead of being served. */
  failNext(match: FailMatch, reply: FailReply, times?: number): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
const COMMENT_MAX = 65_536;
const DIFF_MAX_FILES = 300;
const DIFF_MAX_LINES = 20_000;
const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

interface Bucket {
  limit: number;
  used: number;
  /** Epoch seconds; 0 before the first counted request. */
  reset: number;
}

interface RepoState {
  owner: string;
  name: string;
  full: string;
  id: number;
  data: FakeRepo;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Scripted {
  match: FailMatch;
  reply: FailReply;
  left: number;
}

interface InstallationState {
  def: FakeInstallation;
  core: Bucket;
  /** Arrival times of its writes `writeLimits` accepted, ascending. */
  writes: number[];
}

/** Who a request authenticated as. */
type Caller =
  | { kind: 'token' }
  | { kind: 'jwt' }
  | { kind: 'installation'; state: InstallationState }
  | { kind: 'refused'; message: string };

const DEFAULT_APP_PERMISSIONS = {
  issues: 'write',
  pull_requests: 'write',
  metadata: 'read',
  actions: 'read',
  contents: 'read',
};
/** GitHub refuses the contents API to an installation without the contents permission. */
const readsContents = (installation: FakeInstallation): boolean =>
  Boolean((installation.permissions ?? DEFAULT_APP_PERMISSIONS).contents);
const JWT_MAX_LIFETIME_S = 600;
const JWT_UNDECODABLE = 'A JSON web token could not be decoded';
/** Routes that take the App's JWT (the App's own, and installation look-ups). */
const APP_ROUTE = /^\/(app(\/.*)?|repos\/[^/]+\/[^/]+\/installation)$/;

const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const epoch = (): number => Math.floor(Date.now() / 1000);
const hashInt = (text: string): number => parseInt(createHash('sha1').update(text).digest('hex').slice(0, 7), 16) + 1;
const sha = (text: string): string => createHash('sha1').update(text).digest('hex');
const nodeId = (prefix: string, id: number): string => `${prefix}_${Buffer.from(`0:${id}`).toString('base64url')}`;
const codePoints = (text: string): number => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};
const requestId = (): string =>
  [2, 3, 4, 4, 4].map((bytes) => randomBytes(bytes).toString('hex').toUpperCase().replace(/^0+/, '')).join(':');

function error(status: number, message: string, extra: { errors?: unknown[]; documentation_url?: string } = {}): Reply {
  const body: Record<string, unknown> = { message };
  if (extra.errors) body.errors = extra.errors;
  body.documentation_url = extra.documentation_url ?? DOCS;
  body.status = String(status);
  return { status, body };
}

const notFound = (): Reply => error(404, 'Not Found');
const validation = (errors: unknown[], doc?: string): Reply =>
  error(422, 'Validation Failed', { errors, documentation_url: doc });

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const token = options.token ?? 'ghp_test';
  const login = options.login ?? 'hls-bot';
  const latencyMs = options.latencyMs ?? 0;
  /** The token's core bucket (an installation has its own). */
  const tokenCore: Bucket = { limit: options.rateLimit ?? 5000, used: 0, reset: 0 };
  const anon: Bucket = { limit: 60, used: 0, reset: 0 };
  const requests: RecordedRequest[] = [];
  const repos = new Map<string, RepoState>();
  const orgs = new Map<string, { login: string; id: number; data: FakeOrg }>();
  const scripted: Scripted[] = [];
  /** Arrival times of the token's writes `writeLimits` accepted, ascending. */
  const tokenWrites: number[] = [];
  let secondaryLimitAnswers = 0;
  const logLinks = new Map<string, { repo: RepoState; jobId: number }>();
  const labelIds = new WeakMap<FakeLabel, number>();
  const issueMeta = new WeakMap<FakeIssue, { id: number; created_at: string; updated_at: string }>();
  const pullMeta = new WeakMap<FakePull, { id: number; created_at: string }>();
  let nextId = 1000;
  let nextCommentId = 2_000_000_000;
  let url = '';
  const app = options.app;
  const appKey: KeyObject | undefined = app && createPublicKey(app.publicKey);
  const appHook: FakeHook = app?.hook ?? { id: 1, config: { url: 'https://hls.invalid/hook' } };
  const appBucket: Bucket = { limit: 5000, used: 0, reset: 0 };
  const appWrites: number[] = [];
  const installations = new Map<number, InstallationState>(
    (app?.installations ?? []).map((def) => [def.id, { def, core: { limit: 5000, used: 0, reset: 0 }, writes: [] }]),
  );
  const mintedTokens: MintedToken[] = [];
  const tokenIndex = new Map<string, MintedToken>();

  // ---------- state helpers ----------

  function repo(fullName: string): FakeRepo {
    const key = fullName.toLowerCase();
    let state = repos.get(key);
    if (!state) {
      const [owner, name] = fullName.split('/');
      if (!owner || !name) throw new Error(`repo(): expected 'owner/name', got '${fullName}'`);
      const id = ++nextId;
      state = {
        owner,
        name,
        full: `${owner}/${name}`,
        id,
        data: {
          labels: [],
          issues: new Map(),
          pulls: new Map(),
          runs: new Map(),
          hooks: [],
          id,
          permissions: new Map(),
          files: new Map(),
        },
      };
      repos.set(key, state);
    }
    return state.data;
  }

  function org(name: string): FakeOrg {
    const key = name.toLowerCase();
    let state = orgs.get(key);
    if (!state) {
      if (!name || name.includes('/')) throw new Error(`org(): expected an organisation login, got '${name}'`);
      orgs.set(key, (state = { login: name, id: ++nextId, data: { hooks: [] } }));
    }
    return state.data;
  }

  function take(bucket: Bucket): void {
    const now = epoch();
    if (bucket.reset === 0 || now >= bucket.reset) {
      bucket.used = 0;
      bucket.reset = now + 3600;
    }
    bucket.used++;
  }

  function rateHeaders(bucket: Bucket): Record<string, string> {
    const reset = bucket.reset || epoch() + 3600;
    return {
      'x-ratelimit-limit': String(bucket.limit),
      'x-ratelimit-remaining': String(Math.max(0, bucket.limit - bucket.used)),
      'x-ratelimit-used': String(Math.min(bucket.used, bucket.limit)),
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-resource': 'core',
    };
  }

  function exhausted(bucket: Bucket): boolean {
    return bucket.reset !== 0 && epoch() < bucket.reset && bucket.used >= bucket.limit;
  }

  /** ms until `limits` accept a write arriving at `now` after the `acceptedWrites`; 0: accepted. */
  function writeWait(limits: WriteLimits, now: number, acceptedWrites: number[]): number {
    let earliest = now;
    const last = acceptedWrites.at(-1);
    if (last !== undefined) earliest = Math.max(earliest, last + limits.minIntervalMs / 2);
    for (const { max, ms } of limits.windows) {
      // The same tolerance as for the interval: a write may arrive that much later than its slot.
      const inWindow = acceptedWrites.filter((at) => at > now - ms + limits.minIntervalMs / 2);
      // The oldest write that must leave the window before one more fits in it.
      if (inWindow.length >= max) earliest = Math.max(earliest, inWindow[inWindow.length - max]! + ms);
    }
    return earliest - now;
  }

  function userJson(name: string): Record<string, unknown> {
    const id = hashInt(`user:${name}`);
    const bot = name.endsWith('[bot]');
    return {
      login: name,
      id,
      node_id: nodeId(bot ? 'BOT' : 'U', id),
      avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
      gravatar_id: '',
      url: `${url}/users/${encodeURIComponent(name)}`,
      html_url: bot ? `https://github.com/apps/${name.slice(0, -5)}` : `https://github.com/${name}`,
      type: bot ? 'Bot' : 'User',
      user_view_type: 'public',
      site_admin: false,
    };
  }

  function findLabel(rs: RepoState, name: string): FakeLabel | undefined {
    const wanted = name.toLowerCase();
    return rs.data.labels.find((label) => label.name.toLowerCase() === wanted);
  }

  function ensureLabel(rs: RepoState, name: string): FakeLabel {
    let label = findLabel(rs, name);
    if (!label) {
      label = { name, color: 'ededed', description: null };
      rs.data.labels.push(label);
    }
    return label;
  }

  function labelJson(rs: RepoState, label: FakeLabel): Record<string, unknown> {
    let id = labelIds.get(label);
    if (id === undefined) labelIds.set(label, (id = ++nextId));
    return {
      id,
      node_id: nodeId('LA', id),
      url: `${url}/repos/${rs.full}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      color: label.color,
      default: false,
      description: label.description,
    };
  }

  function issueLabelsJson(rs: RepoState, issue: FakeIssue): Record<string, unknown>[] {
    return issue.labels.map((name) => labelJson(rs, findLabel(rs, name) ?? ensureDetached(name)));
  }

  // Labels named on an issue by a test but absent from the repo render grey, with a stable id.
  const detached = new Map<string, FakeLabel>();
  function ensureDetached(name: string): FakeLabel {
    let label = detached.get(name);
    if (!label) detached.set(name, (label = { name, color: 'ededed', description: null }));
    return label;
  }

  function meta(issue: FakeIssue): { id: number; created_at: string; updated_at: string } {
    let m = issueMeta.get(issue);
    if (!m) {
      const at = nowIso();
      issueMeta.set(issue, (m = { id: ++nextId, created_at: at, updated_at: at }));
    }
    return m;
  }

  function touch(issue: FakeIssue): void {
    meta(issue).updated_at = nowIso();
  }

  function getIssue(rs: RepoState, n: number): FakeIssue | undefined {
    let issue = rs.data.issues.get(n);
    if (!issue && rs.data.pulls.has(n)) {
      issue = {
        number: n,
        title: `Pull request #${n}`,
        body: null,
        labels: [],
        user: 'octocat',
        comments: [],
        pull_request: true,
      };
      rs.data.issues.set(n, issue);
    }
    return issue;
  }

  function issueJson(rs: RepoState, issue: FakeIssue): Record<string, unknown> {
    const m = meta(issue);
    const api = `${url}/repos/${rs.full}/issues/${issue.number}`;
    const html = `https://github.com/${rs.full}/${issue.pull_request ? 'pull' : 'issues'}/${issue.number}`;
    const state = issue.state ?? 'open';
    const json: Record<string, unknown> = {
      url: api,
      repository_url: `${url}/repos/${rs.full}`,
      labels_url: `${api}/labels{/name}`,
      comments_url: `${api}/comments`,
      events_url: `${api}/events`,
      html_url: html,
      id: m.id,
      node_id: nodeId(issue.pull_request ? 'PR' : 'I', m.id),
      number: issue.number,
      title: issue.title,
      user: userJson(issue.user),
      labels: issueLabelsJson(rs, issue),
      state,
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: issue.comments.length,
      created_at: m.created_at,
      updated_at: m.updated_at,
      closed_at: state === 'closed' ? m.updated_at : null,
      author_association: 'NONE',
      active_lock_reason: null,
      body: issue.body,
      state_reason: state === 'closed' ? 'completed' : null,
    };
    if (issue.pull_request) {
      json.pull_request = {
        url: `${url}/repos/${rs.full}/pulls/${issue.number}`,
        html_url: `https://github.com/${rs.full}/pull/${issue.number}`,
        diff_url: `https://github.com/${rs.full}/pull/${issue.number}.diff`,
        patch_url: `https://github.com/${rs.full}/pull/${issue.number}.patch`,
        merged_at: null,
      };
    }
    return json;
  }

  function findComment(rs: RepoState, id: number): { issue: FakeIssue; comment: FakeComment } | undefined {
    for (const issue of rs.data.issues.values()) {
      const comment = issue.comments.find((c) => c.id === id);
      if (comment) return { issue, comment };
    }
    return undefined;
  }

  function commentJson(rs: RepoState, issue: FakeIssue, comment: FakeComment): Record<string, unknown> {
    return {
      url: `${url}/repos/${rs.full}/issues/comments/${comment.id}`,
      html_url: `https://github.com/${rs.full}/${issue.pull_request ? 'pull' : 'issues'}/${issue.number}#issuecomment-${comment.id}`,
      issue_url: `${url}/repos/${rs.full}/issues/${issue.number}`,
      id: comment.id,
      node_id: nodeId('IC', comment.id),
      user: userJson(comment.user),
      created_at: comment.created_at,
      updated_at: comment.updated_at,
      author_association: 'NONE',
      body: comment.body,
      performed_via_github_app: null,
    };
  }

  function newCommentId(): number {
    let max = nextCommentId;
    for (const rs of repos.values())
      for (const issue of rs.data.issues.values()) for (const c of issue.comments) max = Math.max(max, c.id);
    nextCommentId = max + 1;
    return nextCommentId;
  }

  function repoJson(rs: RepoState): Record<string, unknown> {
    return {
      id: rs.id,
      node_id: nodeId('R', rs.id),
      name: rs.name,
      full_name: rs.full,
      private: false,
      owner: userJson(rs.owner),
      html_url: `https://github.com/${rs.full}`,
      url: `${url}/repos/${rs.full}`,
      default_branch: 'main',
      has_issues: true,
      archived: false,
      disabled: false,
      visibility: 'public',
    };
  }

  function branch(rs: RepoState, side: { ref: string; sha: string }): Record<string, unknown> {
    return {
      label: `${rs.owner}:${side.ref}`,
      ref: side.ref,
      sha: side.sha,
      user: userJson(rs.owner),
      repo: repoJson(rs),
    };
  }

  function pullJson(rs: RepoState, pull: FakePull): Record<string, unknown> {
    const issue = getIssue(rs, pull.number)!;
    let m = pullMeta.get(pull);
    if (!m) pullMeta.set(pull, (m = { id: ++nextId, created_at: meta(issue).created_at }));
    const api = `${url}/repos/${rs.full}/pulls/${pull.number}`;
    const html = `https://github.com/${rs.full}/pull/${pull.number}`;
    const head = pull.head ?? { ref: `pr-${pull.number}`, sha: sha(`${rs.full}#${pull.number}:head`) };
    const base = pull.base ?? { ref: 'main', sha: sha(`${rs.full}:main`) };
    const state = issue.state ?? 'open';
    return {
      url: api,
      id: m.id,
      node_id: nodeId('PR', m.id),
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${url}/repos/${rs.full}/issues/${pull.number}`,
      commits_url: `${api}/commits`,
      review_comments_url: `${api}/comments`,
      comments_url: `${url}/repos/${rs.full}/issues/${pull.number}/comments`,
      statuses_url: `${url}/repos/${rs.full}/statuses/${head.sha}`,
      number: pull.number,
      state,
      locked: false,
      title: issue.title,
      user: userJson(issue.user),
      body: issue.body,
      labels: issueLabelsJson(rs, issue),
      milestone: null,
      active_lock_reason: null,
      created_at: m.created_at,
      updated_at: meta(issue).updated_at,
      closed_at: state === 'closed' ? meta(issue).updated_at : null,
      merged_at: null,
      merge_commit_sha: null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: branch(rs, head),
      base: branch(rs, base),
      author_association: 'NONE',
      draft: false,
      merged: false,
      mergeable: null,
      mergeable_state: 'unknown',
      comments: issue.comments.length,
      review_comments: 0,
      commits: 1,
      additions: pull.files.reduce((sum, f) => sum + f.additions, 0),
      deletions: pull.files.reduce((sum, f) => sum + f.deletions, 0),
      changed_files: pull.files.length,
    };
  }

  function fileJson(rs: RepoState, pull: FakePull, file: FakePullFile): Record<string, unknown> {
    const head = pull.head?.sha ?? sha(`${rs.full}#${pull.number}:head`);
    const json: Record<string, unknown> = {
      sha: sha(`${head}:${file.filename}`),
      filename: file.filename,
      status: file.status,
      additions: file.additions,
      deletions: file.deletions,
      changes: file.changes,
      blob_url: `https://github.com/${rs.full}/blob/${head}/${file.filename}`,
      raw_url: `https://github.com/${rs.full}/raw/${head}/${file.filename}`,
      contents_url: `${url}/repos/${rs.full}/contents/${file.filename}?ref=${head}`,
    };
    if (file.patch !== undefined) json.patch = file.patch;
    return json;
  }

  function findJob(rs: RepoState, jobId: number): { run: FakeRun; job: FakeJob } | undefined {
    for (const run of rs.data.runs.values()) {
      const job = run.jobs.find((j) => j.id === jobId);
      if (job) return { run, job };
    }
    return undefined;
  }

  function jobJson(rs: RepoState, run: FakeRun, job: FakeJob): Record<string, unknown> {
    const at = nowIso();
    return {
      id: job.id,
      run_id: run.id,
      workflow_name: 'CI',
      head_branch: 'main',
      run_url: `${url}/repos/${rs.full}/actions/runs/${run.id}`,
      run_attempt: 1,
      node_id: nodeId('CR', job.id),
      head_sha: sha(`${rs.full}:run:${run.id}`),
      url: `${url}/repos/${rs.full}/actions/jobs/${job.id}`,
      html_url: `https://github.com/${rs.full}/actions/runs/${run.id}/job/${job.id}`,
      status: 'completed',
      conclusion: job.conclusion,
      created_at: at,
      started_at: at,
      completed_at: at,
      name: job.name,
      steps: [],
      check_run_url: `${url}/repos/${rs.full}/check-runs/${job.id}`,
      labels: ['ubuntu-latest'],
      runner_id: 1,
      runner_name: 'GitHub Actions 1',
      runner_group_id: 0,
      runner_group_name: 'GitHub Actions',
    };
  }

  // ---------- webhooks ----------

  const hookCreated = new WeakMap<FakeHook, string>();

  function hookJson(hook: FakeHook, base: string, type: 'Repository' | 'Organization'): Record<string, unknown> {
    let created = hookCreated.get(hook);
    if (!created) hookCreated.set(hook, (created = nowIso()));
    const api = `${base}/hooks/${hook.id}`;
    return {
      type,
      id: hook.id,
      name: 'web',
      active: hook.active ?? true,
      events: hook.events ?? ['push'],
      config: { content_type: 'json', insecure_ssl: '0', ...hook.config },
      updated_at: created,
      created_at: created,
      url: api,
      ...(type === 'Repository' ? { test_url: `${api}/test` } : {}),
      ping_url: `${api}/pings`,
      deliveries_url: `${api}/deliveries`,
      ...(type === 'Repository' ? { last_response: { code: null, status: 'unused', message: null } } : {}),
    };
  }

  function deliveryJson(d: FakeDelivery): Record<string, unknown> {
    return {
      id: d.id,
      guid: d.guid,
      delivered_at: d.delivered_at,
      redelivery: d.redelivery,
      duration: d.duration,
      status: d.status,
      status_code: d.status_code,
      event: d.event,
      action: d.action,
      installation_id: d.installation_id,
      repository_id: d.repository_id,
    };
  }

  function nextDeliveryId(): number {
    let max = 0;
    const all = [
      ...[...repos.values()].flatMap((r) => r.data.hooks),
      ...[...orgs.values()].flatMap((o) => o.data.hooks),
    ];
    for (const hook of all) for (const d of hook.deliveries ?? []) max = Math.max(max, d.id);
    return max + 1;
  }

  function deliveryStatus(code: number): string {
    if (code === 0) return 'failed to connect to host';
    return code >= 200 && code < 300 ? 'OK' : `Invalid HTTP Response: ${code}`;
  }

  /** `rest` is what follows `…/hooks` in the path. */
  function hookRoute(
    method: string,
    pathname: string,
    query: Record<string, string>,
    hooks: FakeHook[],
    base: string,
    type: 'Repository' | 'Organization',
    rest: string[],
  ): Reply {
    if (rest.length === 0)
      return method === 'GET' ? list(hooks, pathname, query, (h) => hookJson(h, base, type)) : notFound();
    const id = num(rest[0]);
    const hook = id === undefined ? undefined : hooks.find((h) => h.id === id);
    if (!hook) return notFound();
    if (rest.length === 1) return method === 'GET' ? { status: 200, body: hookJson(hook, base, type) } : notFound();
    if (rest[1] !== 'deliveries') return notFound();

    if (rest.length === 2 && method === 'GET') {
      const perPage = Math.min(100, Math.max(1, Number.parseInt(query.per_page ?? '', 10) || 30));
      const sorted = [...(hook.deliveries ?? [])].sort((x, y) => y.id - x.id);
      let start = 0;
      if (query.cursor !== undefined) {
        const cursor = /^v1_(\d+)$/.exec(query.cursor);
        if (!cursor) return error(400, 'Bad Request');
        start = sorted.findIndex((d) => d.id <= Number(cursor[1]));
        if (start < 0) start = sorted.length;
      }
      const page = sorted.slice(start, start + perPage);
      const next = sorted[start + perPage];
      const headers: Record<string, string> = {};
      if (next) {
        const params = new URLSearchParams({ per_page: String(perPage), cursor: `v1_${next.id}` });
        for (const [name, value] of Object.entries(query)) if (!params.has(name)) params.set(name, value);
        headers.link = `<${url}${pathname}?${params.toString()}>; rel="next"`;
      }
      return { status: 200, body: page.map(deliveryJson), headers };
    }

    if (rest.length === 4 && rest[3] === 'attempts' && method === 'POST') {
      const deliveryId = num(rest[2]);
      const original = (hook.deliveries ?? []).find((d) => d.id === deliveryId);
      if (!original) return notFound();
      const code = hook.redeliveryStatusCode ?? 200;
      const entry: FakeDelivery = {
        ...original,
        id: nextDeliveryId(),
        delivered_at: nowIso(),
        redelivery: true,
        duration: 0.01,
        status: deliveryStatus(code),
        status_code: code,
      };
      (hook.deliveries ??= []).push(entry);
      (hook.attempts ??= []).push({
        delivery_id: original.id,
        guid: original.guid,
        new_delivery_id: entry.id,
        at: Date.now(),
      });
      return { status: 202, body: {} };
    }
    return notFound();
  }

  // ---------- GitHub App ----------

  /** GitHub's message for a JWT it refuses, or undefined for a valid one. */
  function jwtProblem(jwt: string): string | undefined {
    const [head, body, signature] = jwt.split('.');
    let header: { alg?: unknown };
    let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(head!, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'));
    } catch {
      return JWT_UNDECODABLE;
    }
    const signed = Buffer.from(`${head}.${body}`);
    if (header.alg !== 'RS256' || !verify('RSA-SHA256', signed, appKey!, Buffer.from(signature!, 'base64url'))) {
      return JWT_UNDECODABLE;
    }
    if (String(claims.iss) !== String(app!.id)) return "'Issuer' claim ('iss') must be an Integer";
    const now = epoch();
    if (typeof claims.iat !== 'number' || claims.iat > now + 60) {
      return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";
    }
    if (typeof claims.exp !== 'number' || claims.exp <= now) {
      return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
    }
    if (claims.exp - claims.iat > JWT_MAX_LIFETIME_S) return "'Expiration time' claim ('exp') is too far in the future";
    return undefined;
  }

  function authenticate(authorization: string | undefined): Caller {
    if (!authorization) return { kind: 'refused', message: 'Requires authentication' };
    const credential = /^(token|bearer)\s+(\S+)\s*$/i.exec(authorization)?.[2];
    if (credential !== undefined && credential === token) return { kind: 'token' };
    if (app && credential?.split('.').length === 3) {
      const problem = jwtProblem(credential);
      return problem ? { kind: 'refused', message: problem } : { kind: 'jwt' };
    }
    const minted = credential === undefined ? undefined : tokenIndex.get(credential);
    if (minted && Date.now() < minted.expiresAt) {
      return { kind: 'installation', state: installations.get(minted.installation)! };
    }
    return { kind: 'refused', message: 'Bad credentials' };
  }

  function installationJson(state: InstallationState, owner: string): Record<string, unknown> {
    return {
      id: state.def.id,
      account: userJson(owner),
      repository_selection: 'selected',
      app_id: app!.id,
      app_slug: app!.slug,
      target_type: 'Organization',
      permissions: state.def.permissions ?? DEFAULT_APP_PERMISSIONS,
      events: ['issues', 'issue_comment', 'pull_request', 'pull_request_review', 'workflow_run', 'release'],
    };
  }

  function installationFor(fullName: string): InstallationState | undefined {
    const wanted = fullName.toLowerCase();
    return [...installations.values()].find((state) =>
      state.def.repositories.some((name) => name.toLowerCase() === wanted),
    );
  }

  /** The routes that take the App's JWT. */
  function appRoute(method: string, pathname: string, query: Record<string, string>, seg: string[]): Reply {
    if (seg[0] === 'repos') {
      const state = method === 'GET' ? installationFor(`${seg[1]}/${seg[2]}`) : undefined;
      return state ? { status: 200, body: installationJson(state, seg[1]!) } : notFound();
    }
    const key = seg.join('/');
    if (key === 'app' && method === 'GET') {
      return {
        status: 200,
        body: {
          id: app!.id,
          slug: app!.slug,
          name: app!.slug,
          owner: userJson('hls-org'),
          permissions: DEFAULT_APP_PERMISSIONS,
          events: ['issues', 'issue_comment', 'pull_request'],
          installations_count: installations.size,
        },
      };
    }
    const mint = /^app\/installations\/(\d+)\/access_tokens$/.exec(key);
    if (mint && method === 'POST') {
      const state = installations.get(Number(mint[1]));
      if (!state) return notFound();
      const minted: MintedToken = {
        installation: state.def.id,
        token: `ghs_${randomBytes(18).toString('hex')}`,
        expiresAt: Date.now() + (app!.tokenTtlMs ?? 3_600_000),
      };
      mintedTokens.push(minted);
      tokenIndex.set(minted.token, minted);
      return {
        status: 201,
        body: {
          token: minted.token,
          expires_at: new Date(minted.expiresAt).toISOString(),
          permissions: state.def.permissions ?? DEFAULT_APP_PERMISSIONS,
          repository_selection: 'selected',
        },
      };
    }
    if (seg[1] === 'hook' && seg[2] === 'deliveries') {
      return hookRoute(method, pathname, query, [appHook], `${url}/app`, 'Repository', [
        String(appHook.id),
        ...seg.slice(2),
      ]);
    }
    return notFound();
  }

  // ---------- request helpers ----------

  function paginate<T>(items: T[], pathname: string, query: Record<string, string>): { page: T[]; link?: string } {
    const perPage = Math.min(100, Math.max(1, Number.parseInt(query.per_page ?? '', 10) || 30));
    const page = Math.max(1, Number.parseInt(query.page ?? '', 10) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const href = (p: number): string => {
      const params = new URLSearchParams({ ...query, per_page: String(perPage), page: String(p) });
      return `<${url}${pathname}?${params.toString()}>`;
    };
    const parts: string[] = [];
    if (page > 1) parts.push(`${href(Math.min(page - 1, last))}; rel="prev"`);
    if (page < last) parts.push(`${href(page + 1)}; rel="next"`, `${href(last)}; rel="last"`);
    if (page > 1) parts.push(`${href(1)}; rel="first"`);
    return {
      page: items.slice((page - 1) * perPage, page * perPage),
      link: parts.length ? parts.join(', ') : undefined,
    };
  }

  function list<T>(items: T[], pathname: string, query: Record<string, string>, render: (item: T) => unknown): Reply {
    const { page, link } = paginate(items, pathname, query);
    return { status: 200, body: page.map(render), headers: link ? { link } : {} };
  }

  function labelNames(body: unknown): string[] | undefined {
    const raw = Array.isArray(body)
      ? body
      : body && typeof body === 'object'
        ? (body as { labels?: unknown }).labels
        : undefined;
    if (!Array.isArray(raw)) return undefined;
    const names: string[] = [];
    for (const item of raw) {
      const name =
        typeof item === 'string'
          ? item
          : item && typeof item === 'object'
            ? (item as { name?: unknown }).name
            : undefined;
      if (typeof name !== 'string' || name.trim() === '') return undefined;
      names.push(name);
    }
    return names;
  }

  function addToIssue(rs: RepoState, issue: FakeIssue, names: string[]): void {
    for (const name of names) {
      const label = ensureLabel(rs, name);
      if (!issue.labels.some((n) => n.toLowerCase() === label.name.toLowerCase())) issue.labels.push(label.name);
    }
    touch(issue);
  }

  function commentBodyError(body: unknown): Reply | undefined {
    const doc = 'https://docs.github.com/rest/issues/comments#create-an-issue-comment';
    const text = body && typeof body === 'object' ? (body as { body?: unknown }).body : undefined;
    if (typeof text !== 'string' || text.trim() === '') {
      return validation([{ resource: 'IssueComment', code: 'missing_field', field: 'body' }], doc);
    }
    if (codePoints(text) > COMMENT_MAX) {
      return validation(
        [
          {
            resource: 'IssueComment',
            code: 'unprocessable',
            field: 'data',
            message: `Body is too long (maximum is ${COMMENT_MAX} characters)`,
          },
        ],
        doc,
      );
    }
    return undefined;
  }

  // ---------- collaborators and reactions ----------

  const LEGACY_PERMISSION: Record<FakeRole, string> = {
    admin: 'admin',
    maintain: 'write',
    write: 'write',
    triage: 'read',
    read: 'read',
  };
  const REACTIONS = new Set(['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes']);

  function collaboratorPermission(rs: RepoState, username: string): Reply {
    const listed = [...rs.data.permissions].find(([name]) => name.toLowerCase() === username.toLowerCase());
    const role: FakeRole = listed?.[1] ?? 'read';
    const at = (level: FakeRole[]) => level.includes(role);
    const user = {
      ...userJson(listed?.[0] ?? username),
      permissions: {
        admin: at(['admin']),
        maintain: at(['admin', 'maintain']),
        push: at(['admin', 'maintain', 'write']),
        triage: at(['admin', 'maintain', 'write', 'triage']),
        pull: true,
      },
      role_name: role,
    };
    return { status: 200, body: { permission: LEGACY_PERMISSION[role], role_name: role, user } };
  }

  function reactionJson(reaction: FakeReaction): Record<string, unknown> {
    return {
      id: reaction.id,
      node_id: nodeId('REA', reaction.id),
      user: userJson(reaction.user),
      content: reaction.content,
      created_at: reaction.created_at,
    };
  }

  function commentReactions(
    method: string,
    pathname: string,
    query: Record<string, string>,
    comment: FakeComment,
    body: unknown,
  ): Reply {
    const reactions = (comment.reactions ??= []);
    if (method === 'GET') {
      const items = query.content ? reactions.filter((r) => r.content === query.content) : reactions;
      return list(items, pathname, query, reactionJson);
    }
    if (method !== 'POST') return notFound();
    const content = (body as { content?: unknown } | undefined)?.content;
    if (typeof content !== 'string' || !REACTIONS.has(content)) {
      return validation(
        [{ resource: 'Reaction', code: 'invalid', field: 'content' }],
        'https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment',
      );
    }
    const existing = reactions.find((r) => r.content === content && r.user === login);
    if (existing) return { status: 200, body: reactionJson(existing) };
    const reaction: FakeReaction = { id: ++nextId, content, user: login, created_at: nowIso() };
    reactions.push(reaction);
    return { status: 201, body: reactionJson(reaction) };
  }

  // ---------- contents ----------

  const blobSha = (text: string): string =>
    createHash('sha1')
      .update(`blob ${Buffer.byteLength(text)}\0`)
      .update(text)
      .digest('hex');
  const contentsEtag = (text: string): string => `W/"${blobSha(text)}"`;

  function contentsReply(rs: RepoState, path: string): Reply {
    const text = rs.data.files.get(path);
    if (text === undefined)
      return error(404, 'Not Found', { documentation_url: `${DOCS}/repos/contents#get-repository-content` });
    const sha = blobSha(text);
    const name = path.split('/').at(-1)!;
    const base64 = Buffer.from(text).toString('base64').replace(/.{60}/g, '$&\n');
    return {
      status: 200,
      headers: { etag: contentsEtag(text), 'last-modified': new Date().toUTCString() },
      body: {
        type: 'file',
        encoding: 'base64',
        size: Buffer.byteLength(text),
        name,
        path,
        content: base64,
        sha,
        url: `${url}/repos/${rs.full}/contents/${path}`,
        html_url: `https://github.com/${rs.full}/blob/main/${path}`,
        download_url: `https://raw.githubusercontent.com/${rs.full}/main/${path}`,
      },
    };
  }

  /** A contents request whose if-none-match is the file's current etag: 304, free of charge. */
  function unchangedContents(
    method: string,
    pathname: string,
    headers: Record<string, string>,
    caller: Caller,
  ): boolean {
    const match = /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/.exec(pathname);
    const wanted = headers['if-none-match'];
    if (method !== 'GET' || !match || !wanted) return false;
    let full: string;
    let path: string;
    try {
      full = `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`;
      path = match[3]!.split('/').map(decodeURIComponent).join('/');
    } catch {
      return false;
    }
    if (
      caller.kind === 'installation' &&
      (!caller.state.def.repositories.some((name) => name.toLowerCase() === full.toLowerCase()) ||
        !readsContents(caller.state.def))
    ) {
      return false;
    }
    const text = repos.get(full.toLowerCase())?.data.files.get(path);
    return text !== undefined && wanted.split(/\s*,\s*/).includes(contentsEtag(text));
  }

  const num = (segment: string | undefined): number | undefined =>
    segment !== undefined && /^\d+$/.test(segment) ? Number(segment) : undefined;

  // ---------- routing ----------

  function route(
    method: string,
    pathname: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    body: unknown,
    caller: Caller,
  ): Reply {
    let seg: string[];
    try {
      seg = pathname.split('/').slice(1).map(decodeURIComponent);
    } catch {
      return notFound();
    }
    const key = seg.join('/');
    if (app && APP_ROUTE.test(pathname)) return appRoute(method, pathname, query, seg);
    const installation = caller.kind === 'installation' ? caller.state.def : undefined;
    const actor = installation ? `${app!.slug}[bot]` : login;
    if (installation) {
      if (key === 'installation/repositories' && method === 'GET') {
        const granted = installation.repositories.map((name) => repos.get(name.toLowerCase())).filter((r) => r);
        const page = list(granted as RepoState[], pathname, query, repoJson);
        return { ...page, body: { total_count: granted.length, repositories: page.body } };
      }
      if (key === 'user') return error(403, 'Resource not accessible by integration');
      const granted = installation.repositories.some(
        (name) => name.toLowerCase() === `${seg[1]}/${seg[2]}`.toLowerCase(),
      );
      if (seg[0] === 'repos' && !granted) return notFound();
    }

    if (key === 'user' && method === 'GET') {
      return {
        status: 200,
        body: { ...userJson(login), name: null, created_at: '2020-01-01T00:00:00Z' },
        headers: { 'x-oauth-scopes': 'repo' },
      };
    }

    if (seg[0] === 'orgs' && seg.length >= 3 && seg[2] === 'hooks') {
      const os = orgs.get(seg[1]!.toLowerCase());
      if (!os) return notFound();
      return hookRoute(method, pathname, query, os.data.hooks, `${url}/orgs/${os.login}`, 'Organization', seg.slice(3));
    }

    if (seg[0] !== 'repos' || seg.length < 3) return notFound();
    const rs = repos.get(`${seg[1]}/${seg[2]}`.toLowerCase());
    if (!rs) return notFound();
    const rest = seg.slice(3);
    const [a, b, c, d] = rest;

    if (rest.length === 0) return method === 'GET' ? { status: 200, body: repoJson(rs) } : notFound();

    if (a === 'hooks') {
      return hookRoute(method, pathname, query, rs.data.hooks, `${url}/repos/${rs.full}`, 'Repository', rest.slice(1));
    }

    if (a === 'contents' && rest.length >= 2 && method === 'GET') {
      if (installation && !readsContents(installation)) {
        return error(403, 'Resource not accessible by integration', {
          documentation_url: `${DOCS}/repos/contents#get-repository-content`,
        });
      }
      return contentsReply(rs, rest.slice(1).join('/'));
    }

    // Labels of the repository.
    if (a === 'labels' && rest.length === 1) {
      if (method === 'GET') return list(rs.data.labels, pathname, query, (l) => labelJson(rs, l));
      if (method === 'POST') {
        const doc = 'https://docs.github.com/rest/issues/labels#create-a-label';
        const input = (body ?? {}) as { name?: unknown; color?: unknown; description?: unknown };
        if (typeof input.name !== 'string' || input.name.trim() === '') {
          return validation([{ resource: 'Label', code: 'missing_field', field: 'name' }], doc);
        }
        const color = input.color === undefined ? 'ededed' : String(input.color).replace(/^#/, '');
        if (!/^[0-9a-fA-F]{6}$/.test(color))
          return validation([{ resource: 'Label', code: 'invalid', field: 'color' }], doc);
        if (findLabel(rs, input.name))
          return validation([{ resource: 'Label', code: 'already_exists', field: 'name' }], doc);
        const label: FakeLabel = {
          name: input.name,
          color: color.toLowerCase(),
          description: typeof input.description === 'string' ? input.description : null,
        };
        rs.data.labels.push(label);
        return { status: 201, body: labelJson(rs, label) };
      }
      return notFound();
    }
    if (a === 'labels' && rest.length === 2) {
      const label = findLabel(rs, b!);
      if (!label) return notFound();
      if (method === 'GET') return { status: 200, body: labelJson(rs, label) };
      if (method === 'PATCH') {
        const doc = 'https://docs.github.com/rest/issues/labels#update-a-label';
        const input = (body ?? {}) as { new_name?: unknown; color?: unknown; description?: unknown };
        if (input.color !== undefined) {
          const color = String(input.color).replace(/^#/, '');
          if (!/^[0-9a-fA-F]{6}$/.test(color))
            return validation([{ resource: 'Label', code: 'invalid', field: 'color' }], doc);
          label.color = color.toLowerCase();
        }
        if (typeof input.new_name === 'string' && input.new_name !== label.name) {
          const clash = findLabel(rs, input.new_name);
          if (clash && clash !== label)
            return validation([{ resource: 'Label', code: 'already_exists', field: 'name' }], doc);
          const old = label.name.toLowerCase();
          for (const issue of rs.data.issues.values()) {
            issue.labels = issue.labels.map((n) => (n.toLowerCase() === old ? (input.new_name as string) : n));
          }
          label.name = input.new_name;
        }
        if (input.description !== undefined)
          label.description = typeof input.description === 'string' ? input.description : null;
        return { status: 200, body: labelJson(rs, label) };
      }
      if (method === 'DELETE') {
        const old = label.name.toLowerCase();
        rs.data.labels.splice(rs.data.labels.indexOf(label), 1);
        for (const issue of rs.data.issues.values()) issue.labels = issue.labels.filter((n) => n.toLowerCase() !== old);
        return { status: 204 };
      }
      return notFound();
    }

    if (a === 'collaborators' && c === 'permission' && rest.length === 3 && method === 'GET') {
      return collaboratorPermission(rs, b!);
    }

    if (a === 'issues' && b === 'comments' && d === 'reactions' && rest.length === 4) {
      const id = num(c);
      const found = id === undefined ? undefined : findComment(rs, id);
      if (!found) return notFound();
      return commentReactions(method, pathname, query, found.comment, body);
    }

    // Issue comments by id.
    if (a === 'issues' && b === 'comments' && rest.length === 3) {
      const id = num(c);
      const found = id === undefined ? undefined : findComment(rs, id);
      if (!found) return notFound();
      if (method === 'GET') return { status: 200, body: commentJson(rs, found.issue, found.comment) };
      if (method === 'PATCH') {
        const invalid = commentBodyError(body);
        if (invalid) return invalid;
        found.comment.body = (body as { body: string }).body;
        found.comment.updated_at = nowIso();
        touch(found.issue);
        return { status: 200, body: commentJson(rs, found.issue, found.comment) };
      }
      if (method === 'DELETE') {
        found.issue.comments.splice(found.issue.comments.indexOf(found.comment), 1);
        touch(found.issue);
        return { status: 204 };
      }
      return notFound();
    }

    // The repository's issues and pull requests, by number (sort=created&direction=asc is the order served).
    if (a === 'issues' && rest.length === 1 && method === 'GET') {
      const state = query.state ?? 'open';
      const issues = [...rs.data.issues.values()]
        .filter((issue) => state === 'all' || (issue.state ?? 'open') === state)
        .sort((x, y) => x.number - y.number);
      return list(issues, pathname, query, (issue) => issueJson(rs, issue));
    }

    // Issues.
    if (a === 'issues' && rest.length >= 2) {
      const n = num(b);
      const issue = n === undefined ? undefined : getIssue(rs, n);
      if (!issue) return notFound();
      if (rest.length === 2) return method === 'GET' ? { status: 200, body: issueJson(rs, issue) } : notFound();

      if (c === 'labels' && rest.length === 3) {
        if (method === 'GET') {
          return list(issue.labels, pathname, query, (name) =>
            labelJson(rs, findLabel(rs, name) ?? ensureDetached(name)),
          );
        }
        if (method === 'POST' || method === 'PUT') {
          const names = labelNames(body);
          if (!names) {
            return validation(
              [{ resource: 'Label', code: 'invalid', field: 'labels' }],
              'https://docs.github.com/rest/issues/labels#add-labels-to-an-issue',
            );
          }
          if (method === 'PUT') issue.labels = [];
          addToIssue(rs, issue, names);
          return { status: 200, body: issueLabelsJson(rs, issue) };
        }
        if (method === 'DELETE') {
          issue.labels = [];
          touch(issue);
          return { status: 204 };
        }
        return notFound();
      }
      if (c === 'labels' && rest.length === 4 && method === 'DELETE') {
        const wanted = d!.toLowerCase();
        const index = issue.labels.findIndex((name) => name.toLowerCase() === wanted);
        if (index < 0)
          return error(404, 'Label does not exist', {
            documentation_url: 'https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue',
          });
        issue.labels.splice(index, 1);
        touch(issue);
        return { status: 200, body: issueLabelsJson(rs, issue) };
      }
      if (c === 'comments' && rest.length === 3) {
        if (method === 'GET') {
          const since = query.since ? Date.parse(query.since) : NaN;
          const items = Number.isNaN(since)
            ? issue.comments
            : issue.comments.filter((cm) => Date.parse(cm.updated_at) >= since);
          return list(items, pathname, query, (cm) => commentJson(rs, issue, cm));
        }
        if (method === 'POST') {
          const invalid = commentBodyError(body);
          if (invalid) return invalid;
          const at = nowIso();
          const comment: FakeComment = {
            id: newCommentId(),
            body: (body as { body: string }).body,
            user: actor,
            created_at: at,
            updated_at: at,
          };
          issue.comments.push(comment);
          touch(issue);
          return {
            status: 201,
            body: commentJson(rs, issue, comment),
            headers: { location: `${url}/repos/${rs.full}/issues/comments/${comment.id}` },
          };
        }
        return notFound();
      }
      return notFound();
    }

    // Pull requests.
    if (a === 'pulls' && rest.length >= 2 && method === 'GET') {
      const n = num(b);
      const pull = n === undefined ? undefined : rs.data.pulls.get(n);
      if (!pull) return notFound();
      if (rest.length === 2) {
        const accept = headers.accept ?? '';
        const media = /application\/vnd\.github(?:\.v3)?\.(diff|patch)\b/i.exec(accept);
        if (!media) return { status: 200, body: pullJson(rs, pull) };
        const lines = pull.diff === '' ? 0 : pull.diff.split('\n').length;
        const tooManyFiles = pull.files.length > DIFF_MAX_FILES;
        if (pull.tooLargeForDiff || tooManyFiles || lines > DIFF_MAX_LINES) {
          const message =
            tooManyFiles || lines <= DIFF_MAX_LINES
              ? `Sorry, the diff exceeded the maximum number of files (${DIFF_MAX_FILES}). Consider using 'List pull requests files' API or locally cloning the repository instead.`
              : `Sorry, the diff exceeded the maximum number of lines (${DIFF_MAX_LINES}).`;
          return error(406, message, {
            errors: [{ resource: 'PullRequest', field: 'diff', code: 'too_large' }],
            documentation_url: 'https://docs.github.com/rest/pulls/pulls#list-pull-requests-files',
          });
        }
        return {
          status: 200,
          body: pull.diff,
          headers: {
            'content-type': `${media[0].toLowerCase()}; charset=utf-8`,
            'x-github-media-type': `github.v3; param=${media[1]!.toLowerCase()}`,
          },
        };
      }
      if (c === 'files' && rest.length === 3) return list(pull.files, pathname, query, (f) => fileJson(rs, pull, f));
      return notFound();
    }

    // Actions.
    if (a === 'actions' && method === 'GET') {
      if (b === 'runs' && d === 'jobs' && rest.length === 4) {
        const id = num(c);
        const run = id === undefined ? undefined : rs.data.runs.get(id);
        if (!run) return notFound();
        const page = list(run.jobs, pathname, query, (job) => jobJson(rs, run, job));
        return { ...page, body: { total_count: run.jobs.length, jobs: page.body } };
      }
      if (b === 'jobs' && (rest.length === 3 || (rest.length === 4 && d === 'logs'))) {
        const id = num(c);
        const found = id === undefined ? undefined : findJob(rs, id);
        if (!found) return notFound();
        if (rest.length === 3) return { status: 200, body: jobJson(rs, found.run, found.job) };
        const sig = randomBytes(12).toString('hex');
        logLinks.set(sig, { repo: rs, jobId: found.job.id });
        return { status: 302, headers: { location: `${url}/_logs/${found.job.id}?sig=${sig}` } };
      }
    }

    return notFound();
  }

  function defaultScriptedBody(reply: FailReply, headers: Record<string, string>): unknown {
    const rid = headers['x-github-request-id'];
    if ((reply.status === 403 || reply.status === 429) && headers['retry-after'] !== undefined) {
      return {
        message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${rid}.`,
        documentation_url:
          'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        status: String(reply.status),
      };
    }
    if ((reply.status === 403 || reply.status === 429) && headers['x-ratelimit-remaining'] === '0') {
      return {
        message: `API rate limit exceeded for user ID ${hashInt(`user:${login}`)}. If you reach out to GitHub Support for help, please include the request ID ${rid}.`,
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        status: String(reply.status),
      };
    }
    return error(reply.status, STATUS_CODES[reply.status] ?? 'Error').body;
  }

  // ---------- server ----------

  function send(res: ServerResponse, record: RecordedRequest, reply: Reply, base: Record<string, string>): void {
    const headers: Record<string, string> = { ...base };
    let payload: string | undefined;
    if (reply.status !== 204 && reply.status !== 304 && reply.body !== undefined && reply.body !== null) {
      if (typeof reply.body === 'string') {
        payload = reply.body;
        headers['content-type'] = 'text/plain; charset=utf-8';
      } else {
        payload = JSON.stringify(reply.body);
        headers['content-type'] = 'application/json; charset=utf-8';
      }
    }
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value;
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    else if (reply.status !== 204 && reply.status !== 304) headers['content-length'] = '0';
    record.status = reply.status;
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  function apiHeaders(bucket: Bucket | undefined): Record<string, string> {
    return {
      server: 'github.com',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': requestId(),
      ...(bucket ? rateHeaders(bucket) : {}),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const parsed = new URL(req.url ?? '/', 'http://fake.invalid');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    let body: unknown;
    let badJson = false;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        badJson = /json/i.test(headers['content-type'] ?? '');
      }
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = {
      method,
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      headers,
      body,
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));

    // The log storage host: no auth, no rate limit.
    const logs = /^\/_logs\/(\d+)$/.exec(parsed.pathname);
    if (logs && method === 'GET') {
      const link = logLinks.get(parsed.searchParams.get('sig') ?? '');
      const found = link && link.jobId === Number(logs[1]) ? findJob(link.repo, link.jobId) : undefined;
      if (!found) return send(res, record, { status: 404, body: 'The specified blob does not exist.' }, {});
      return send(res, record, { status: 200, body: found.job.log }, {});
    }

    // Scripted failures come before everything else (a proxy or GitHub's front end answering).
    const script = scripted.find(
      (s) =>
        (!s.match.method || s.match.method.toUpperCase() === method) &&
        (!s.match.path || ((s.match.path.lastIndex = 0), s.match.path.test(parsed.pathname))) &&
        Object.entries(s.match.query ?? {}).every(([name, value]) => parsed.searchParams.get(name) === value),
    );
    if (script) {
      if (--script.left <= 0) scripted.splice(scripted.indexOf(script), 1);
      take(tokenCore);
      const base = apiHeaders(tokenCore);
      const replyHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(script.reply.headers ?? {})) replyHeaders[name.toLowerCase()] = value;
      const scriptedBody =
        script.reply.body === undefined
          ? defaultScriptedBody(script.reply, { ...base, ...replyHeaders })
          : script.reply.body;
      return send(res, record, { status: script.reply.status, body: scriptedBody, headers: replyHeaders }, base);
    }

    const isMeta = parsed.pathname === '/meta' && method === 'GET';
    if (isMeta && headers.authorization === undefined) {
      take(anon);
      return send(res, record, { status: 200, body: fake.meta }, apiHeaders(anon));
    }

    const caller = authenticate(headers.authorization);
    const forApp = app !== undefined && APP_ROUTE.test(parsed.pathname);
    if (caller.kind === 'refused' || forApp !== (caller.kind === 'jwt')) {
      take(anon);
      const message =
        caller.kind === 'refused'
          ? caller.message
          : forApp
            ? JWT_UNDECODABLE
            : 'Resource not accessible by integration';
      return send(res, record, error(caller.kind === 'refused' || forApp ? 401 : 403, message), {
        ...apiHeaders(anon),
        'www-authenticate': 'Bearer realm="GitHub"',
      });
    }
    if (caller.kind === 'installation') record.installation = caller.state.def.id;
    if (caller.kind === 'jwt') record.jwt = true;
    const core = caller.kind === 'installation' ? caller.state.core : caller.kind === 'jwt' ? appBucket : tokenCore;
    const acceptedWrites =
      caller.kind === 'installation' ? caller.state.writes : caller.kind === 'jwt' ? appWrites : tokenWrites;

    if (isMeta) {
      take(core);
      return send(res, record, { status: 200, body: fake.meta }, apiHeaders(core));
    }

    if (parsed.pathname === '/rate_limit' && method === 'GET') {
      const reset = core.reset || epoch() + 3600;
      const resource = (limit: number, used = 0) => ({ limit, used, remaining: Math.max(0, limit - used), reset });
      const coreJson = resource(core.limit, Math.min(core.used, core.limit));
      return send(
        res,
        record,
        {
          status: 200,
          body: {
            resources: {
              core: coreJson,
              search: resource(30),
              graphql: resource(5000),
              integration_manifest: resource(5000),
              code_search: resource(10),
            },
            rate: coreJson,
          },
        },
        apiHeaders(core),
      );
    }

    if (exhausted(core)) {
      const base = apiHeaders(core);
      return send(
        res,
        record,
        {
          status: 403,
          body: defaultScriptedBody({ status: 403 }, { ...base, 'x-ratelimit-remaining': '0' }),
        },
        base,
      );
    }
    if (unchangedContents(method, parsed.pathname, headers, caller)) {
      return send(res, record, { status: 304 }, apiHeaders(core));
    }
    const minting = caller.kind === 'jwt' && /\/access_tokens$/.test(parsed.pathname);
    if (options.writeLimits && WRITE_METHODS.has(method) && !minting) {
      const waitMs = writeWait(options.writeLimits, record.at, acceptedWrites);
      if (waitMs > 0) {
        secondaryLimitAnswers++;
        take(core);
        const base = apiHeaders(core);
        const headers = { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) };
        const body = defaultScriptedBody({ status: 403 }, { ...base, ...headers });
        return send(res, record, { status: 403, body, headers }, base);
      }
      acceptedWrites.push(record.at);
    }
    take(core);
    const base = apiHeaders(core);
    if (badJson) return send(res, record, error(400, 'Problems parsing JSON'), base);
    let reply: Reply;
    try {
      reply = route(method, parsed.pathname, record.query, headers, body, caller);
    } catch (err) {
      reply = error(500, `fake GitHub: ${(err as Error).message}`);
    }
    return send(res, record, reply, base);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake GitHub: ${err.message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => resolve());
  });
  url = `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;

  const fake: FakeGitHub = {
    url,
    requests,
    meta: options.meta ?? { hooks: [...GITHUB_HOOK_RANGES] },
    repo,
    org,
    writes: () => requests.filter((r) => WRITE_METHODS.has(r.method)),
    get secondaryLimitAnswers() {
      return secondaryLimitAnswers;
    },
    mintedTokens,
    revokeTokens() {
      tokenIndex.clear();
    },
    failNext(match, reply, times = 1) {
      scripted.push({ match, reply, left: times });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
  return fake;
}
