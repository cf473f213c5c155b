import { sql, type Kysely } from 'kysely';
import { linkRows } from './chain.js';
import type { Database } from './schema.js';
import { isPostgres } from './connect.js';

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
  {
    // Browser sign-in (src/api/session.ts): only a hash of the session id is kept, like API keys.
    name: '0003_sessions',
    async up(db) {
      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
    },
  },
  {
    // Idempotency-Key: a retried POST answers what the first one did. Keyed by API key + header value.
    name: '0004_idempotency',
    async up(db) {
      await db.schema
        .createTable('idempotency')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_pk', ['scope', 'key'])
        .execute();
    },
  },
  {
    // Tamper-evident history (src/store/chain.ts): a hash chain per entity over the event log.
    name: '0005_hash_chain',
    async up(db) {
      for (const col of ['chain', 'content_hash', 'prev_hash', 'hash', 'erased_at']) {
        await db.schema.alterTable('events').addColumn(col, 'text').execute();
      }
      await db.schema.alterTable('events').addColumn('chain_seq', 'integer').execute();
      await db.schema
        .createTable('chain_heads')
        .addColumn('chain', 'text', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      // Link the events recorded before this migration, in the order they were recorded.
      const typed = db as unknown as Kysely<Database>;
      const rows = await typed.selectFrom('events').selectAll().orderBy('recorded_at').orderBy('id').execute();
      // Runs inside the migration's transaction (see migrate()).
      // Without a salt: the salt column comes with 0010, and these rows keep the digest linked here.
      const linked = await linkRows(typed, rows, { salt: false });
      for (const r of linked) {
        await typed.updateTable('events').set({ chain: r.chain, chain_seq: r.chain_seq, content_hash: r.content_hash, prev_hash: r.prev_hash, hash: r.hash }).where('id', '=', r.id).execute();
      }
      await db.schema.createIndex('events_chain_seq').on('events').columns(['chain', 'chain_seq']).unique().execute();
    },
  },
  {
    // Bulk scrubs (src/scrub/): one row per scrub with its summary, for GET /v1/scrubs.
    name: '0002_scrubs',
    async up(db) {
      await db.schema
        .createTable('scrubs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('entity_id', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('product_category', 'text')
        .addColumn('input_name', 'text')
        .addColumn('phone_column', 'text')
        .addColumn('rows', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('allowed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('denied', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('invalid', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('by_basis', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('by_denial', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('rules_version', 'text')
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('duration_ms', 'integer')
        .addColumn('error', 'text')
        .addColumn('output_path', 'text')
        .addColumn('rejects_path', 'text')
        .execute();
      await db.schema.createIndex('scrubs_entity_started').on('scrubs').columns(['entity_id', 'started_at']).execute();
    },
  },
  {
    // Proof, retention and erasure (docs/trust.md): entity settings, the hashed suppression list
    // that outlives an erasure, the pepper when none is configured, and audit look-ups by number.
    name: '0006_trust',
    async up(db) {
      await db.schema.alterTable('entities').addColumn('retention', 'text').execute();
      await db.schema.alterTable('entities').addColumn('controller', 'text').execute();
      await db.schema
        .createTable('suppressions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('phone_hash', 'text', (c) => c.notNull())
        .addColumn('pepper_id', 'text', (c) => c.notNull())
        .addColumn('entity_id', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text')
        .execute();
      await db.schema.createIndex('suppressions_phone_hash').on('suppressions').column('phone_hash').execute();
      await db.schema
        .createTable('trust_settings')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('decisions_phone_recorded').on('decisions').columns(['phone', 'recorded_at']).execute();
      await db.schema.createIndex('decisions_recorded').on('decisions').column('recorded_at').execute();
    },
  },
  {
    // The numbers an entity has events for, read from the index alone: a scrub looks up the full
    // history only of those (and of reassigned numbers, entity_id null) – src/scrub/history.ts.
    name: '0007_events_entity_phone',
    async up(db) {
      await db.schema.createIndex('events_entity_phone').on('events').columns(['entity_id', 'phone']).execute();
    },
  },
  {
    // A 16-bit keyed tag of the number beside its hash (suppressionTag): a bulk scrub compares each
    // row's tag instead of computing an HMAC per row. Entries from before have none (null).
    name: '0008_suppressions_tag',
    async up(db) {
      await db.schema.alterTable('suppressions').addColumn('tag', 'integer').execute();
    },
  },
  {
    // NL-3, NL-6: political and other ideological organisations (the entity setting ideologicalOrganisation).
    name: '0009_entities_ideological',
    async up(db) {
      await db.schema.alterTable('entities').addColumn('ideological_organisation', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
  {
    // A random salt in each event's content digest, deleted by an erasure with the number: the
    // digest left behind can then not be matched against guessed numbers (src/store/chain.ts).
    name: '0010_events_salt',
    async up(db) {
      await db.schema.alterTable('events').addColumn('salt', 'text').execute();
    },
  },
  {
    // The dialling a scrub's rows were decided for (autodialed, prerecorded: US-6, GB-1) – scrubs
    // from before asked about live, hand-dialled calls – and, for a failed one, what in the input
    // was wrong (path and message, as in problem+json), so a page can say it in its own language.
    name: '0011_scrubs_dialling',
    async up(db) {
      await db.schema.alterTable('scrubs').addColumn('autodialed', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('scrubs').addColumn('prerecorded', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('scrubs').addColumn('error_details', 'text').execute();
    },
  },
  {
    // The line type a scrub's caller gave for every number of its list (null: from each number).
    name: '0012_scrubs_line_type',
    async up(db) {
      await db.schema.alterTable('scrubs').addColumn('line_type', 'text').execute();
    },
  },
  {
    // A suppression entry kept for a withdrawal of some products only names them: it refuses the
    // calls about those, as the withdrawal it replaces did, not every call.
    name: '0013_suppressions_products',
    async up(db) {
      await db.schema.alterTable('suppressions').addColumn('products', 'text').execute();
    },
  },
  {
    // Each new event's digest in two parts, the personal part kept by an erasure, so the rest of
    // an erased row (type, entity, times) is still checked (src/store/chain.ts).
    name: '0014_events_personal_hash',
    async up(db) {
      await db.schema.alterTable('events').addColumn('personal_hash', 'text').execute();
    },
  },
  {
    // Who a scrub's numbers belong to (NL-1, DE-2: a list of businesses is called under other
    // rules); scrubs from before asked about consumers.
    name: '0015_scrubs_subscriber_type',
    async up(db) {
      await db.schema.alterTable('scrubs').addColumn('subscriber_type', 'text', (c) => c.notNull().defaultTo('consumer')).execute();
    },
  },
  {
    // The column a list gave each row's line type in, and how its values were read.
    name: '0016_scrubs_line_type_column',
    async up(db) {
      await db.schema.alterTable('scrubs').addColumn('line_type_column', 'text').execute();
      await db.schema.alterTable('scrubs').addColumn('line_types', 'text').execute();
    },
  },
  {
    // A running scrub says every half minute that it still runs: one whose process was killed
    // (kill -9, a power cut) is then told from one still running, and counted as failed.
    name: '0017_scrubs_heartbeat',
    async up(db) {
      await db.schema.alterTable('scrubs').addColumn('heartbeat_at', 'text').execute();
    },
  },
  {
    // Every decision asks whether the suppression list holds entries under a pepper the server
    // does not know (Suppressions.requireKnownPeppers): answered by walking the distinct ids in
    // this index, one look-up a pepper in use, not by a scan of the list.
    name: '0018_suppressions_pepper_index',
    async up(db) {
      await db.schema.createIndex('suppressions_pepper').ifNotExists().on('suppressions').column('pepper_id').execute();
    },
  },
  {
    // What a scrub over HTTP must tell its supervisor about the list's columns, as the command
    // warns: other columns that look like phone numbers (only one is checked), a list scrubbed before.
    name: '0019_scrubs_column_notes',
    async up(db) {
      await db.schema.alterTable('scrubs').addColumn('column_notes', 'text').execute();
    },
  },
  {
    // Imports of a caller's records (src/imports/): which file (by its digest) was imported for
    // whom, by which key, and what came of its rows.
    name: '0020_imports',
    async up(db) {
      await db.schema
        .createTable('imports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('entity_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('input_name', 'text')
        .addColumn('rows', 'integer', (c) => c.notNull())
        .addColumn('imported', 'integer', (c) => c.notNull())
        .addColumn('on_record', 'integer', (c) => c.notNull())
        .addColumn('rejected', 'integer', (c) => c.notNull())
        .addColumn('key_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('imports_entity_sha256').on('imports').columns(['entity_id', 'sha256']).execute();
      await db.schema.createIndex('imports_created').on('imports').columns(['created_at']).execute();
      // Which import wrote an event, for its proof (outside the hash: where it came from, not what it says).
      await db.schema.alterTable('events').addColumn('import_id', 'text').execute();
    },
  },
  {
    // An import leaves out rows about numbers erased since their moment (src/imports/run.ts): how many.
    name: '0021_imports_erased',
    async up(db) {
      await db.schema.alterTable('imports').addColumn('erased', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
  {
    // Every record written asks whether its caller has erased anyone (Suppressions.erasedAt):
    // answered from this index, not by a scan of a list that also holds every objection.
    name: '0022_suppressions_entity_reason',
    async up(db) {
      await db.schema.createIndex('suppressions_entity_reason').ifNotExists().on('suppressions').columns(['entity_id', 'reason']).execute();
    },
  },
];

/** Applies the migrations not yet applied, one server at a time. */
export async function migrate(db: Kysely<Database>): Promise<string[]> {
  // Up to date already (every start after the first): nothing is created, locked or written – a
  // PostgreSQL role that may only read (an auditor running `optline verify`) can open the store.
  const current = await sql<{ name: string }>`select name from optline_migrations`.execute(db).then(
    (r) => new Set(r.rows.map((row) => row.name)),
    () => null, // no table yet: a new store
  );
  if (current && MIGRATIONS.every((m) => current.has(m.name))) {
    refuseNewer(current);
    return [];
  }
  // A lock row, not an advisory lock: distributed PostgreSQL engines (CockroachDB, YugabyteDB)
  // support SELECT … FOR UPDATE but not pg_advisory_lock. Creating the lock table may race
  // between servers starting together, so that step is retried.
  for (let attempt = 0; ; attempt++) {
    try {
      await db.schema
        .createTable('optline_migrations')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        .execute();
      await sql`insert into optline_migrations (name, applied_at) values ('!lock', '') on conflict (name) do nothing`.execute(db);
      break;
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
  return db.transaction().execute(async (trx) => {
    const lock = trx.selectFrom('optline_migrations').select('name').where('name', '=', '!lock');
    // SQLite has no FOR UPDATE: its write transaction is already exclusive.
    await (isPostgres(db) ? lock.forUpdate() : lock).execute();
    const done = new Set((await trx.selectFrom('optline_migrations').select('name').execute()).map((r) => r.name));
    refuseNewer(done);
    const applied: string[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.name)) continue;
      await m.up(trx as unknown as Kysely<unknown>);
      await trx.insertInto('optline_migrations').values({ name: m.name, applied_at: new Date().toISOString() }).execute();
      applied.push(m.name);
    }
    return applied;
  });
}

/**
 * A store a newer Optline migrated may hold columns and rules this one does not know of (a NOT
 * NULL column it would not fill): refused rather than written rows that break it.
 */
function refuseNewer(done: ReadonlySet<string>): void {
  const known = new Set(['!lock', ...MIGRATIONS.map((m) => m.name)]);
  const unknown = [...done].filter((name) => !known.has(name)).sort();
  if (unknown.length > 0) {
    throw new Error(`This store was migrated by a newer version of Optline (${unknown.join(', ')}); run that version or a later one.`);
  }
}

/** The store can be read: a real table, since `select 1` answers even when the database file is unreadable or gone. */
export async function ping(db: Kysely<Database>): Promise<void> {
  await sql`select name from optline_migrations limit 1`.execute(db);
}
