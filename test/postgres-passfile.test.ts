import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectOptions } from '../src/store/postgres/connect.js';
import { findPassword, passwordFromPassfile } from '../src/store/postgres/passfile.js';

const target = { host: 'db.example', port: '5432', database: 'hls', user: 'hls' };

describe('passfile', () => {
  it('takes the first matching line, with * wildcards, escapes and comments', () => {
    const text = [
      '# host:port:database:user:password',
      'other.example:5432:hls:hls:wrong-host',
      'db.example:5433:*:*:wrong-port',
      'db.example:*:hls:hls:p\\:ss\\\\word:with:colons',
      '*:*:*:*:too-late',
    ].join('\n');
    expect(findPassword(text, target)).toBe('p:ss\\word:with:colons');
    expect(findPassword('*:*:*:*:any\n', target)).toBe('any');
    expect(findPassword('db.example:5432:hls:hls\n', target)).toBeUndefined();
    expect(findPassword('', target)).toBeUndefined();
  });

  const dir = mkdtempSync(join(tmpdir(), 'hls-pgpass-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads PGPASSFILE only when no one but its owner may read it, as libpq does', () => {
    const path = join(dir, 'pgpass');
    writeFileSync(path, '*:*:*:*:from-file\n');
    chmodSync(path, 0o600);
    expect(passwordFromPassfile(target, { PGPASSFILE: path })).toBe('from-file');
    chmodSync(path, 0o644);
    expect(passwordFromPassfile(target, { PGPASSFILE: path })).toBeUndefined();
    expect(passwordFromPassfile(target, { PGPASSFILE: join(dir, 'missing') })).toBeUndefined();
  });
});

describe('the password of a connection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hls-pgpass-'));
  const saved = { PGPASSWORD: process.env.PGPASSWORD, PGPASSFILE: process.env.PGPASSFILE };
  afterAll(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('comes from the URL, else PGPASSWORD, else the passfile line of that host, port, database and user', () => {
    const path = join(dir, 'pgpass');
    writeFileSync(path, 'db.example:6543:queue:hls:from-file\n*:*:*:*:fallback\n');
    chmodSync(path, 0o600);
    process.env.PGPASSFILE = path;
    process.env.PGPASSWORD = 'from-env';
    const pass = (url: string) => connectOptions(url, {}).options.pass;
    expect(pass('postgres://hls:from%3Aurl@db.example:6543/queue')).toBe('from:url');
    expect(pass('postgres://hls@db.example:6543/queue')).toBe('from-env');
    delete process.env.PGPASSWORD;
    expect(pass('postgres://hls@db.example:6543/queue')).toBe('from-file');
    expect(pass('postgres://other@db.example:6543/queue')).toBe('fallback');
  });

  it('leaves sslmode out of the URL postgres.js reads, and keeps the rest', () => {
    const { url, options } = connectOptions('postgres://hls@db.example/queue?sslmode=verify-full&search_path=hls', {});
    expect(url).toBe('postgres://hls@db.example/queue?search_path=hls');
    expect(options.ssl).toEqual({ rejectUnauthorized: true });
    expect(connectOptions('postgres://hls@db.example/queue', {}).options.ssl).toBe('prefer');
  });
});
