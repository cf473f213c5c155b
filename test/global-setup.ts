import type { TestProject } from 'vitest/node';
import { startCluster, type Cluster } from './helpers/postgres.js';

let cluster: Cluster | null = null;

declare module 'vitest' {
  export interface ProvidedContext {
    postgresBase: string | null;
  }
}

/** One PostgreSQL cluster for the whole run; each test file makes its own database in it. */
export async function setup(project: TestProject) {
  if (process.env.OPTLINE_SKIP_POSTGRES === '1') {
    project.provide('postgresBase', null);
    return;
  }
  cluster = await startCluster();
  if (!cluster) {
    console.warn('\n*** PostgreSQL server binaries not found: store tests run on SQLite only. Install Debian\'s postgresql to run them on both. ***\n');
  }
  project.provide('postgresBase', cluster ? cluster.url('') : null);
}

export async function teardown() {
  cluster?.stop();
}
