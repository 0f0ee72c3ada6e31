// setupFiles of the `postgres` vitest project: when the run has no cluster (PostgreSQL not installed, and
// CI or HLS_REQUIRE_POSTGRES set, else vitest.config.ts leaves the project out), every file fails saying so.
import { beforeAll } from 'vitest';
import { postgresAdminUrl } from './backend.js';

beforeAll(() => {
  postgresAdminUrl();
});
