#!/usr/bin/env node
// Related-issue search (`store.similar`): quality and speed on both backends.
// 1. The labelled corpus (bench/similar-corpus/*.json, each project its own repository) indexed in a fresh
//    SQLite file and a fresh database of a throwaway PostgreSQL cluster; for each known duplicate pair, a
//    search with one side's title and body must rank the other in the top 5 (both directions): prints
//    recall@5 and MRR (the mean of 1/rank, 0 when not among the candidates) per backend.
// 2. One repository filled with generated issues (bench/similar-filler.mjs) up to each --sizes count:
//    prints p50/p95/max of one search's wall time (--queries searches, corpus and filler texts).
// Usage: node bench/similar.mjs [--sizes 10000,100000] [--queries 200] [--backend both|sqlite|postgres]
//   (needs `npm run build`; the 100k fill takes a few minutes on PostgreSQL)
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../dist/percentile.js';
import { ROOT, benchArgs, startPostgres, withStore } from './lib.mjs';
import { fillerIssueStream, fillerIssues } from './similar-filler.mjs';

const usage = 'usage: node bench/similar.mjs [--sizes 10000,100000] [--queries 200] [--backend both|sqlite|postgres]\n';
const values = benchArgs('similar', usage, {
  sizes: { type: 'string', default: '10000,100000' },
  queries: { type: 'string', default: '200' },
  backend: { type: 'string', default: 'both' },
});
const sizes = values.sizes.split(',').map(Number);
const queries = Number(values.queries);
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(queries) || queries < 1) {
  process.stderr.write(`similar: --sizes takes counts like 10000,100000 and --queries a count\n${usage}`);
  process.exit(64);
}
if (!['both', 'sqlite', 'postgres'].includes(values.backend)) {
  process.stderr.write(`similar: --backend is both, sqlite or postgres\n${usage}`);
  process.exit(64);
}

const TOP = 5;
const FILLER_REPOSITORY = 'bench/filler';
const BATCH = 100;
const corpusDir = join(ROOT, 'bench', 'similar-corpus');
const projects = readdirSync(corpusDir)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => JSON.parse(readFileSync(join(corpusDir, name), 'utf8')));

/** An issue of the corpus or the filler as the index takes it. */
function asThread(repository, issue) {
  return {
    repository,
    number: issue.number,
    kind: 'issue',
    title: issue.title,
    body: issue.body ?? '',
    state: issue.state === 'closed' ? 'closed' : 'open',
    url: null,
    updated_at: 1,
  };
}

const queryText = (issue) => `${issue.title}\n\n${issue.body ?? ''}`;

async function indexAll(store, threads) {
  for (let i = 0; i < threads.length; i += BATCH) await store.similar.indexThreads(threads.slice(i, i + BATCH));
}

/** recall@5 and MRR over both directions of every duplicate pair of every project. */
async function quality(store) {
  let pairs = 0;
  let found = 0;
  let reciprocal = 0;
  const misses = [];
  for (const project of projects) {
    await indexAll(
      store,
      project.issues.map((issue) => asThread(project.project, issue)),
    );
    const byNumber = new Map(project.issues.map((issue) => [issue.number, issue]));
    for (const [a, b] of project.duplicates) {
      pairs++;
      for (const [from, to] of [
        [a, b],
        [b, a],
      ]) {
        const matches = await store.similar.search({
          repository: project.project,
          text: queryText(byNumber.get(from)),
          limit: 50,
          exclude: from,
        });
        const rank = matches.findIndex((match) => match.number === to) + 1;
        if (rank > 0 && rank <= TOP) found++;
        else misses.push(`${project.project}#${from}->#${to} rank ${rank || '-'}`);
        if (rank > 0) reciprocal += 1 / rank;
      }
    }
  }
  return { pairs, queries: pairs * 2, recall: found / (pairs * 2), mrr: reciprocal / (pairs * 2), misses };
}

/**
 * Fills the filler repository up to `size` threads; search times of `queries` searches, in ms.
 * `settle` runs after the fill (PostgreSQL: VACUUM ANALYZE and a checkpoint, so that the timing does not
 * share the disk with the fill's writes).
 */
async function speed(store, size, indexed, texts, settle) {
  const batch = [];
  for (const issue of fillerIssueStream({ seed: 12, count: size - indexed, startNumber: indexed + 1 })) {
    batch.push(asThread(FILLER_REPOSITORY, issue));
    if (batch.length === 1000) await indexAll(store, batch.splice(0));
  }
  await indexAll(store, batch);
  settle();
  const times = [];
  for (const text of texts) {
    const started = performance.now();
    await store.similar.search({ repository: FILLER_REPOSITORY, text, limit: TOP });
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

/** Query texts for the speed runs: corpus issues and filler issues, alternating. */
function speedTexts() {
  const corpusIssues = projects.flatMap((project) => project.issues);
  const filler = fillerIssues({ seed: 99, count: queries, startNumber: 1 });
  return Array.from({ length: queries }, (_, i) =>
    queryText(i % 2 ? filler[i] : corpusIssues[Math.floor(i / 2) % corpusIssues.length]),
  );
}

const ms = (value) => `${value < 10 ? value.toFixed(1) : Math.round(value)}ms`;

async function run(backend, target, settle = () => {}) {
  await withStore(
    target,
    async (store) => {
      const q = await quality(store);
      console.log(
        `similar[${backend}]: pairs=${q.pairs} queries=${q.queries} recall@${TOP}=${q.recall.toFixed(2)} mrr=${q.mrr.toFixed(2)}`,
      );
      if (process.env.SIMILAR_BENCH_MISSES) for (const miss of q.misses) console.log(`  miss ${miss}`);
      const texts = speedTexts();
      let indexed = 0;
      for (const size of sizes) {
        const started = performance.now();
        const times = await speed(store, size, indexed, texts, settle);
        const fillSeconds = (performance.now() - started) / 1000;
        indexed = size;
        console.log(
          `similar[${backend}] n=${size}: p50=${ms(percentile(times, 0.5))} p95=${ms(percentile(times, 0.95))} ` +
            `max=${ms(times.at(-1))} (filled in ${fillSeconds.toFixed(0)} s)`,
        );
      }
    },
    { create: true },
  );
}

const dir = mkdtempSync(join(tmpdir(), 'hls-bench-similar-'));
try {
  if (values.backend !== 'postgres') await run('sqlite', join(dir, 'similar.db'));
  if (values.backend !== 'sqlite') {
    const cluster = await startPostgres(dir);
    try {
      const database = 'similar_bench';
      // The fill's dirty pages written and the tables vacuumed before the timing, as a server at rest has them.
      await run('postgres', cluster.createDatabase(database), () => {
        cluster.psql('VACUUM ANALYZE', database);
        cluster.psql('CHECKPOINT', database);
      });
    } finally {
      cluster.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
