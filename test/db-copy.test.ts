// `hls db copy`: an SQLite database filled by the real pipeline, copied into a PostgreSQL one, and read back
// on both sides. Starts its own cluster, so it runs once, in the sqlite project.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, runHls, startHls, finished } from './helpers/hls.js';
import { writeBody } from './helpers/payloads.js';
import { queueIssueEvent, REPO, stage, type Stage } from './helpers/pipeline.js';
import { startCluster, type Cluster } from './helpers/postgres-cluster.js';

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
  s.github.repo(REPO).issues.set(number, { number, title: 'raw', body: 'raw', labels: [], user: 'alice', comments: [] });
  const file = writeBody(s.dir, `raw-${number}.json`, rawIssueBody(number));
  const result = await runHls(['queue', '--event', 'issues', '--delivery', `raw-${number}`, '--body-file', file], {
    env: s.env,
  });
  expect(result.code, result.stderr).toBe(0);
}

function copy(to: string, ...extra: string[]) {
  return runHls(['db', 'copy', '--from', s.db, '--to', to, ...extra], { env: s.env });
}

function tables(): string[] {
  return query<{ name: string }>(
    s.db,
    `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
  ).map((row) => row.name);
}

/** Rows as comparable values, in a stable order; SQLite's NUL in text is PostgreSQL's U+FFFD. */
function rows(target: string, table: string): unknown[] {
  return query<Record<string, unknown>>(target, `SELECT * FROM ${table}`)
    .map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([column, value]) => [
          column,
          typeof value === 'string' ? value.replaceAll('\0', '\uFFFD') : Buffer.isBuffer(value) ? value.toString('hex') : value,
        ]),
      ),
    )
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const count = (target: string, table: string) =>
  query<{ n: number }>(target, `SELECT count(*) AS n FROM ${table}`)[0]!.n;

beforeAll(async () => {
  cluster = await startCluster();
  s = await stage({ config: { claude: { daily_budget_usd: 5 } } });
  await queueIssueEvent(s, 1);
  await queueIssueEvent(s, 2);
  await queueRaw(3);
  await queueIssueEvent(s, 1, { action: 'edited' });
  const worker = await runHls(['worker', '--once'], { env: s.env });
  expect(worker.code, worker.stderr).toBe(0);
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
    expect(result.stdout).toMatch(/^ok: 15 tables/m);

    for (const table of tables()) expect(rows(url, table), table).toEqual(rows(s.db, table));
    // The pipeline filled what a copy has to carry: not only events.
    for (const table of ['webhook_events', 'event_history', 'claude_analyses', 'budget_reservations', 'workers']) {
      expect(count(s.db, table), table).toBeGreaterThan(0);
    }
    const raw = query<{ payload: Buffer }>(url, `SELECT payload FROM webhook_events WHERE delivery_id = 'raw-3'`)[0]!;
    expect(raw.payload.equals(rawIssueBody(3))).toBe(true);
    // The NUL of the title reached the ledger's prompt: PostgreSQL holds it as U+FFFD (compared above).
    expect(query(s.db, `SELECT 1 FROM claude_analyses WHERE instr(claude_prompt, char(0)) > 0`)).toHaveLength(1);
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
});
