import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Ordered, append-only list of schema changes. Written with Kysely's schema builder only, so the
 * same steps run on SQLite and PostgreSQL.
 */
export const MIGRATIONS: Array<{ name: string; up: (db: Kysely<unknown>) => Promise<void> }> = [
  {
    name: '0001_core',
    async up(db) {
      await db.schema
        .createTable('entities')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'text')
        .addColumn('relationship_term_months', 'integer', (c) => c.notNull())
        .addColumn('require_verified_consent', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('calling_windows', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('entity_id', 'text')
        .addColumn('phone', 'text')
        .addColumn('email', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text')
        .execute();
      await db.schema.createIndex('events_phone_at').on('events').columns(['phone', 'at']).execute();
      await db.schema.createIndex('events_entity_type_at').on('events').columns(['entity_id', 'type', 'at']).execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('entity_ids', 'text', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createTable('decisions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('entity_id', 'text', (c) => c.notNull())
        .addColumn('phone', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'text', (c) => c.notNull())
        .addColumn('allowed', 'integer', (c) => c.notNull())
        .addColumn('basis', 'text')
        .addColumn('denials', 'text', (c) => c.notNull())
        .addColumn('rules_version', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('response', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text')
        .execute();
      await db.schema.createIndex('decisions_entity_recorded').on('decisions').columns(['entity_id', 'recorded_at']).execute();
      await db.schema
        .createTable('registers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('as_of', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('loaded_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('register_entries')
        .addColumn('register_id', 'text', (c) => c.notNull())
        .addColumn('e164', 'text', (c) => c.notNull())
        .addColumn('listed_at', 'text')
        .addPrimaryKeyConstraint('register_entries_pk', ['register_id', 'e164'])
        .execute();
    },
  },
];

export async function migrate(db: Kysely<Database>): Promise<string[]> {
  await db.schema
    .createTable('optline_migrations')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();
  const done = new Set((await db.selectFrom('optline_migrations').select('name').execute()).map((r) => r.name));
  const applied: string[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.name)) continue;
    await db.transaction().execute(async (trx) => {
      await m.up(trx as unknown as Kysely<unknown>);
      await trx.insertInto('optline_migrations').values({ name: m.name, applied_at: new Date().toISOString() }).execute();
    });
    applied.push(m.name);
  }
  return applied;
}

export async function ping(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
