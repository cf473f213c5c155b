import { inject } from 'vitest';
import pg from 'pg';

export type StoreName = 'sqlite' | 'postgres';

/** The stores the suite runs against: SQLite always, PostgreSQL when the run started a cluster. */
export function storeNames(): StoreName[] {
  return inject('postgresBase') ? ['sqlite', 'postgres'] : ['sqlite'];
}

let counter = 0;

/** A fresh, empty database on the named store: ':memory:' or a new PostgreSQL database. */
export async function freshDb(name: StoreName): Promise<string> {
  if (name === 'sqlite') return ':memory:';
  const base = inject('postgresBase');
  if (!base) throw new Error('no PostgreSQL cluster in this run');
  const database = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const client = new pg.Client({ connectionString: `${base}postgres` });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${database}`);
  } finally {
    await client.end();
  }
  return `${base}${database}`;
}
