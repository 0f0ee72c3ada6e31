// globalSetup of the `postgres` vitest project: one throwaway cluster for the whole run, its admin URL
// handed to the test files (`inject('postgresAdminUrl')`), stopped when the run ends. Without PostgreSQL
// installed it hands over '' and test/helpers/postgres-required.ts fails every file of the project.
import type { TestProject } from 'vitest/node';
import { postgresBinDir, startCluster } from './postgres-cluster.js';

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  if (!postgresBinDir()) {
    project.provide('postgresAdminUrl', '');
    return undefined;
  }
  const cluster = await startCluster();
  project.provide('postgresAdminUrl', cluster.adminUrl);
  return () => cluster.stop();
}
