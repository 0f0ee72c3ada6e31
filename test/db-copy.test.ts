// `hls db copy`: an SQLite database filled by the real pipeline, copied into a PostgreSQL one, and read back
// on both sides. Starts its own cluster, so it runs once, in the sqlite project.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, runHls } from './helpers/hls.js';
import { writeBody } from './helpers/payloads.js';
import { queueIssueEvent, REPO, stage, type Stage } from './helpers/pipeline.js';
import { startCluster, type Cluster } from './helpers/postgres-cluster.js';
import { COPY_TABLES, isFullTextIndexTable } from '../src/store/copy-tables.js';

let cluster: Cluster;
let s: Stage;

/** A body that is valid JSON but not valid UTF-8, with an escaped NUL in the issue's title and body. */
function rawIssueBody(number: number): Buffer {
  const head = `{"action":"opened","issue":{"number":${number},"title":"NUL \\u0000 in the title","body":"The widget prints a NUL \\u0000 and these bytes: `;
  const tail =
    ` when it starts.","user":{"login":"alice","type":"User"},"html_url":"https://github.com/${REPO}/issues/${number}"},` +
    `"repository":{"full_name":"${REPO}","name":"widgets","owner":{"login":"octo-org"}},` +
    `"sender":{"login":"alice","type":"User"}}`;
  return Buffer.concat([Buffer.from(head), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(tail)]);
}

async function queueRaw(number: number): Promise<void> {
  s.github
    .repo(REPO)
    .issues.set(number, { number, title: 'raw', body: 'raw', labels: [], user: 'alice', comments: [] });
  const file = writeBody(s.dir, `raw-${number}.json`, rawIssueBody(number));
  const result = await runHls(['queue', '--event', 'issues', '--delivery', `raw-${number}`, '--body-file', file], {
    env: s.env,
  });
  expect(result.code, result.stderr).toBe(0);
}

let queued = 0;

/** `hls queue` of a small issues.opened delivery into `db` (the file unless told otherwise), as the relay runs it. */
async function queueInto(db = s.db): Promise<string> {
  const delivery = `copy-${++queued}`;
  const file = writeBody(s.dir, `${delivery}.json`, {
    action: 'opened',
    issue: { number: 1000 + queued },
    sender: { login: 'bob' },
  });
  const result = await runHls(['--db', db, 'queue', '--event', 'issues', '--delivery', delivery, '--body-file', file], {
    env: s.env,
  });
  expect(result.code, result.stderr).toBe(0);
  return delivery;
}

interface CopyJson {
  match: boolean;
  tables: {
    table: string;
    copied: number;
    missing: number;
    changed: number;
    target_only: number;
    match: boolean;
    source: { rows: number; rows_sha256: string; payloads_sha256?: string };
    target: { rows: number; rows_sha256: string; payloads_sha256?: string };
  }[];
}

const byTable = (json: CopyJson) => Object.fromEntries(json.tables.map((t) => [t.table, t]));

function copy(to: string, ...extra: string[]) {
  return runHls(['db', 'copy', '--from', s.db, '--to', to, ...extra], { env: s.env });
}

function tables(): string[] {
  return query<{ name: string }>(
    s.db,
    `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
  )
    .map((row) => row.name)
    .filter((name) => !isFullTextIndexTable(name));
}

/** Rows as comparable values, in a stable order; SQLite's NUL in text is PostgreSQL's U+FFFD. */
function rows(target: string, table: string): unknown[] {
  // The file's columns: PostgreSQL's own (similar_threads.search, computed from the row) are not copied.
  const columns = query<{ name: string }>(s.db, `SELECT name FROM pragma_table_info('${table}')`).map((c) => c.name);
  return query<Record<string, unknown>>(target, `SELECT ${columns.join(', ')} FROM ${table}`)
    .map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([column, value]) => [
          column,
          typeof value === 'string'
            ? value.replaceAll('\0', '\uFFFD')
            : Buffer.isBuffer(value)
              ? value.toString('hex')
              : value,
        ]),
      ),
    )
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const count = (target: string, table: string) =>
  query<{ n: number }>(target, `SELECT count(*) AS n FROM ${table}`)[0]!.n;

beforeAll(async () => {
  cluster = await startCluster();
  s = await stage({
    config: { claude: { daily_budget_usd: 5 }, github: { pacing: { enabled: true, min_interval_seconds: 0 } } },
  });
  const work = async () => {
    const worker = await runHls(['worker', '--once'], { env: s.env });
    expect(worker.code, worker.stderr).toBe(0);
  };
  await queueIssueEvent(s, 1);
  await queueIssueEvent(s, 1, { action: 'edited' });
  await work();
  // Drops the payload of the completed event and deletes the skipped edit (no ledger row refers to it),
  // counting it in pruned_events.
  const prune = await runHls(['prune', '--older-than', '1ms', '--delete-rows'], { env: s.env });
  expect(prune.code, prune.stderr).toBe(0);
  await queueIssueEvent(s, 2);
  await queueRaw(3);
  await work();
  // What `/hls ignore` leaves (test/comment-commands.test.ts drives the command itself).
  const file = new Database(s.db);
  file
    .prepare(`INSERT INTO thread_settings (thread_key, ignored, changed_by, changed_at) VALUES (?, 1, 'ada', ?)`)
    .run(`${REPO}#2`, Date.now());
  file.close();
});

afterAll(async () => {
  await s?.close();
  cluster?.stop();
});

describe('hls db copy (SQLite file filled by the real pipeline -> PostgreSQL)', () => {
  let url: string;

  it('copies every table field by field, payload bytes included, and prints matching checksums', async () => {
    url = cluster.createDatabase();
    const result = await copy(url);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^ok: ${COPY_TABLES.length} tables`, 'm'));

    for (const table of tables()) expect(rows(url, table), table).toEqual(rows(s.db, table));
    // The documented events checksum: sha256 over `id<TAB>sha256(payload)` lines in id order.
    const events = query<{ id: number; payload: Buffer | null }>(
      s.db,
      'SELECT id, payload FROM webhook_events ORDER BY id',
    );
    const lines = events.map(
      (e) => `${e.id}\t${e.payload ? createHash('sha256').update(e.payload).digest('hex') : ''}\n`,
    );
    const expected = createHash('sha256').update(lines.join('')).digest('hex');
    expect(result.stdout).toMatch(new RegExp(`source ${expected}\\n\\s+target ${expected}\\n`));
    // The pipeline filled what a copy has to carry: not only events.
    const filled = ['webhook_events', 'event_history', 'claude_analyses', 'budget_reservations', 'workers'];
    for (const table of [...filled, 'github_writes', 'pruned_events']) {
      expect(count(s.db, table), table).toBeGreaterThan(0);
    }
    const raw = query<{ payload: Buffer }>(url, `SELECT payload FROM webhook_events WHERE delivery_id = 'raw-3'`)[0]!;
    expect(raw.payload.equals(rawIssueBody(3))).toBe(true);
    // The NUL of the title reached the ledger's prompt: PostgreSQL holds it as U+FFFD (compared above).
    // (Another issue's prompt may hold it too: it can be offered #3 as a related issue.)
    const withNul = query<{ delivery_id: string }>(
      s.db,
      `SELECT e.delivery_id FROM claude_analyses a JOIN webhook_events e ON e.id = a.webhook_id
        WHERE instr(a.claude_prompt, char(0)) > 0`,
    );
    expect(withNul.map((r) => r.delivery_id)).toContain('raw-3');
  });

  it('hls stats --json reads the same from the copy as from the file', async () => {
    const stats = async (db: string) => {
      const result = await runHls(['stats', '--json', '--db', db], { env: s.env });
      expect(result.code, result.stderr).toBe(0);
      // Where it read from and when differ by nature.
      const { database: _database, generated_at: _at, window, ...rest } = JSON.parse(result.stdout);
      return { ...rest, window: { ...window, since: undefined } };
    };
    expect(await stats(url)).toEqual(await stats(s.db));
  });

  it('refuses a target that is not empty, with what to do', async () => {
    const result = await copy(url);
    expect(result.code).toBe(78);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--resume');
  });

  it('--resume after the switch copies exactly the tail, with its ids, next to what the relay queued since', async () => {
    const tail = [await queueInto(), await queueInto()];
    // The relay now queues into PostgreSQL: its event's id comes after the headroom left by the copy.
    const afterSwitch = await queueInto(url);
    const result = await copy(url, '--resume', '--json');
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as CopyJson;
    expect(json.match).toBe(true);
    const copied = Object.fromEntries(json.tables.map((t) => [t.table, t.copied]));
    expect(copied).toMatchObject({ webhook_events: 2, event_history: 2, claude_analyses: 0, workers: 0 });
    expect(Object.values(copied).reduce((a, b) => a + b)).toBe(4);
    expect(byTable(json).webhook_events!.target_only).toBe(1);

    const ids = (db: string, deliveries: string[]) =>
      query<{ id: number }>(db, `SELECT id FROM webhook_events WHERE delivery_id IN (?, ?) ORDER BY id`, ...deliveries);
    expect(ids(url, tail)).toEqual(ids(s.db, tail));
    const fileMax = query<{ id: number }>(s.db, 'SELECT max(id) AS id FROM webhook_events')[0]!.id;
    const [relayed] = query<{ id: number }>(url, 'SELECT id FROM webhook_events WHERE delivery_id = ?', afterSwitch);
    expect(relayed!.id).toBeGreaterThan(fileMax + 1_000_000 - 3);
    for (const table of tables()) {
      const extra = table === 'webhook_events' || table === 'event_history' ? 1 : 0;
      expect(count(url, table), table).toBe(count(s.db, table) + extra);
    }
  });

  it('a payload changed in the target fails the comparison (exit 65) and names the table', async () => {
    const name = new URL(url).pathname.slice(1);
    cluster.psql(`UPDATE webhook_events SET payload = payload || '\\x20'::bytea WHERE delivery_id = 'raw-3'`, name);
    const result = await copy(url, '--resume');
    expect(result.code).toBe(65);
    expect(result.stdout).toMatch(/^webhook_events .* DIFFERS \(1 changed, 1 only in target\)$/m);
    expect(result.stdout).toMatch(/^DIFFERENT: 1 table\(s\) differ$/m);
    const [source, target] = /source (\w+)\n\s+target (\w+)/.exec(result.stdout)!.slice(1);
    expect(target).not.toBe(source);
    expect(result.stderr).toMatch(/^error: the target differs from the source in webhook_events: /);
  });
});

describe('hls db copy while hls queue keeps writing to the file', () => {
  it('copies one consistent snapshot, and --resume then brings the rest', async () => {
    const url = cluster.createDatabase();
    const before = count(s.db, 'webhook_events');
    // Two relays' worth of hls queue runs, from before the copy's snapshot until after it ended.
    let copied = false;
    const writers = [0, 1].map(async () => {
      while (!copied) await queueInto();
      await queueInto();
    });
    await waitForCount(before + 1);
    const during = await copy(url, '--json');
    copied = true;
    await Promise.all(writers);
    expect(during.code, during.stderr).toBe(0);
    const first = byTable(JSON.parse(during.stdout) as CopyJson);
    expect(first.webhook_events!.source.rows).toBeGreaterThan(before);
    const total = count(s.db, 'webhook_events');

    const after = await copy(url, '--resume', '--json', '--verbose');
    expect(after.code, after.stderr).toBe(0);
    // Progress goes to stderr only; stdout stays one JSON document.
    expect(after.stderr).toMatch(/^copying webhook_events: \d+ of \d+ rows$/m);
    const second = byTable(JSON.parse(after.stdout) as CopyJson);
    expect(second.webhook_events!.copied).toBeGreaterThanOrEqual(2);
    expect(second.webhook_events!.copied).toBe(total - first.webhook_events!.source.rows);
    for (const table of tables()) expect(count(url, table), table).toBe(count(s.db, table));
    expect(rows(url, 'webhook_events')).toEqual(rows(s.db, 'webhook_events'));
    expect(rows(url, 'event_history')).toEqual(rows(s.db, 'event_history'));
  });
});

async function waitForCount(n: number): Promise<void> {
  for (let i = 0; i < 200 && count(s.db, 'webhook_events') < n; i++) await new Promise((r) => setTimeout(r, 25));
}

describe('hls db copy refusals', () => {
  it('refuses a PostgreSQL source and a file target (64), a missing file (66), a foreign file (78)', async () => {
    const url = cluster.createDatabase();
    const fromUrl = await runHls(['db', 'copy', '--from', url, '--to', url]);
    expect([fromUrl.code, fromUrl.stderr]).toEqual([
      64,
      expect.stringMatching(/^error: --from must be an SQLite file/),
    ]);
    const toFile = await runHls(['db', 'copy', '--from', s.db, '--to', `${s.dir}/other.db`]);
    expect(toFile.code).toBe(64);
    const missing = await runHls(['db', 'copy', '--from', `${s.dir}/none.db`, '--to', url]);
    expect(missing.code).toBe(66);
    expect(existsSync(`${s.dir}/none.db`)).toBe(false);
    const foreign = `${s.dir}/foreign.db`;
    const db = new Database(foreign);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const refused = await runHls(['db', 'copy', '--from', foreign, '--to', url]);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain('not an hls database');
    // The source is refused before the target is touched.
    expect(query(url, `SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'`)).toEqual([{ n: 0 }]);
  });
});
