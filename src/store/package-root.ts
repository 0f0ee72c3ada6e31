import { existsSync } from 'node:fs';

/**
 * The directory hls is installed in (where schema.sql and migrations/ are), found upwards from this
 * module: the same from dist/store/… and from the bundled queue command in dist/bundle/.
 */
export function packageRoot(): URL {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    if (existsSync(new URL('schema.sql', dir))) return dir;
    if (dir.pathname === '/') throw new Error(`schema.sql not found above ${import.meta.url}: reinstall hls`);
  }
}
