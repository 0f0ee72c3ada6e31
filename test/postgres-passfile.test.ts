import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
