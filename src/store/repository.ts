import { createHash, createHmac, hash as hashOnce, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Kysely, SqliteDialect, sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import SQLite from 'better-sqlite3';
import type { Database, EventsTable } from './schema.js';
import type {
  CallingWindow,
  Entity,
  EntityFact,
  EntityKind,
  Jurisdiction,
  ReassignmentFact,
} from '../law/types.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { connect, isSqliteFile, type ConnectOptions, type Connection, type StoreKind } from './connect.js';
import { migrate, ping } from './migrations.js';
import { DecisionWriter } from './decision-writer.js';
import { chainOf, linkRows, lockChain, verifyChains, type ChainFields, type ChainHead, type VerifyResult } from './chain.js';
import { auditKeyChange } from './key-audit.js';

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. The uuid package's v7
 * asks the OS for fresh random bytes on every call, a syscall that costs ~10 µs a decision on
 * this kind of machine; crypto.randomUUID draws from a buffered pool, so its random bits (and
 * its variant field) are reused and only the time and version are written over them.
 */
/** The last id's millisecond and its sequence number within it (newId). */
let lastIdMs = 0;
let idSequence = 0;

export function newId(): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx
  // Increasing within this process (RFC 9562's counter in rand_a): events of one moment are read
  // back in (at, id) order, so an import's "withdrawn, granted, withdrawn" on one day must keep its
  // order – with random bits in the same millisecond its last word was chance.
  const now = Date.now();
  if (now > lastIdMs) {
    lastIdMs = now;
    idSequence = 0;
  } else if (++idSequence > 0xfff) {
    lastIdMs++;
    idSequence = 0;
  }
  const time = lastIdMs.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${idSequence.toString(16).padStart(3, '0')}-${random.slice(19)}`;
}
const iso = (ms: number): string => new Date(ms).toISOString();
const ms = (isoText: string): number => Date.parse(isoText);
const msOrNull = (isoText: string | null | undefined): number | null => (isoText ? Date.parse(isoText) : null);

export const ROLES = ['admin', 'compliance', 'supervisor', 'agent', 'integration'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  id: string;
  role: Role;
  /** Legal entities the key may act for; '*' for every entity. */
  entityIds: string[];
  label: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

/**
 * Does a key's scope (its entity ids, '*' for every entity) cover every entity of another key?
 * Only then may the first key see or revoke the second, or its history (a key for every entity
 * is covered only by another such key).
 */
export function scopeCoversKey(scope: readonly string[], entityIds: readonly string[]): boolean {
  return scope.includes('*') || entityIds.every((id) => scope.includes(id));
}

/**
 * Events of an e-mail address as people write it: "Anna.B@Example.org" and "anna.b@example.org"
 * are one person to an erasure or a proof (no mail system in use tells them apart; RFC 5321 only
 * leaves the local part's case to the domain). Stored as given – the hash chain covers it – and
 * matched exactly or with ASCII letters folded: SQLite's lower() folds ASCII only (PostgreSQL's
 * every letter, so a capital Ä matches ä there alone).
 */
export function emailMatches<DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>, email: string): Expression<SqlBool> {
  const folded = email.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return eb.or([eb(sql.ref('email'), '=', email), eb(sql<string>`lower(email)`, '=', folded)]);
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Constant-time comparison of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The row an erasure leaves for a dropped Idempotency-Key answer: a late retry of the erased write
 * is then answered 410 instead of recording the person again. The key is kept only as an HMAC under
 * the suppression pepper (a dialer's key may hold the number).
 */
export function erasedKeyTombstone(pepper: string, key: string): string {
  return `erased:${createHmac('sha256', pepper).update(key).digest('hex')}`;
}

/** An Idempotency-Key claim: the answer is stored with the write it answers, in one transaction. */
export interface IdempotencyClaim {
  scope: string;
  key: string;
  requestHash: string;
}

export interface StoredAnswer {
  requestHash: string;
  status: number;
  body: unknown;
}

export class IdempotencyConflict extends Error {
  constructor() {
    super('This Idempotency-Key was used before with a different request.');
    this.name = 'IdempotencyConflict';
  }
}

// SQLITE_BUSY_SNAPSHOT: a deferred transaction that read before writing, while another connection wrote.
// 55P03: a PostgreSQL lock not had within lock_timeout (a chain's head, see lockHead in chain.ts).
const SERIALIZATION_FAILURES = new Set(['40001', '40P01', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', '55P03']);

/**
 * Runs a transaction again when the database gave up on it for a serialization failure or a
 * deadlock (common on distributed PostgreSQL engines), with jittered exponential backoff.
 */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (!code || !SERIALIZATION_FAILURES.has(code)) throw err;
      // Another SQLite connection holds the write lock (a CLI import, another server), or another
      // PostgreSQL transaction the chain's head: waited for here, without blocking the thread or
      // holding a pool connection, for up to about 5 s before the request is answered 503.
      const busy = code.startsWith('SQLITE_BUSY') || code === '55P03';
      if (i >= (busy ? 14 : attempts)) throw err;
      await new Promise((r) => setTimeout(r, Math.min(busy ? 500 : Infinity, Math.random() * 10 * 2 ** i)));
    }
  }
}

const isUniqueViolation = (err: unknown): boolean => {
  const code = (err as { code?: string }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
};

/** A fact as the store keeps it: an event row plus who it concerns. */
export interface NewEvent {
  /** A reassignment belongs to no entity (entityId null, chain '-'). */
  fact: EntityFact | (ReassignmentFact & { entityId: null });
  phone: string | null;
  email?: string | null;
  keyId?: string | null;
}

type RecordFields = { type: string; phone: string | null; email: string | null; at: string; payload: string };
const shortDigest = (text: string): string => hashOnce('sha256', text, 'base64').slice(0, 22);

/**
 * Records of one type for one number (or e-mail address) at one moment, by their content. A row
 * repeats a record on file only when it has the same content and no other content stands beside it
 * there: "withdrawn, granted, withdrawn" on one day are three records (the last word is the
 * withdrawal), "granted, granted" one. Kept as digests where they are many (a dry run holds one a
 * row of the file); the write holds one batch's, kept as they are: digesting them took the write
 * 0.6 s of 100,000 rows, the strings themselves 0.3 s.
 */
class RecordsOnFile {
  private readonly moments = new Map<string, Set<string>>();
  private readonly digested: boolean;
  constructor(opts: { digested: boolean }) {
    this.digested = opts.digested;
  }
  add(r: RecordFields): void {
    this.addKeys(this.momentKey(r), this.contentKey(r));
  }
  /** Whether the row repeats a record on file; a row that does not is on file from then on. */
  repeatsElseAdd(r: RecordFields): boolean {
    const moment = this.momentKey(r);
    const content = this.contentKey(r);
    const contents = this.moments.get(moment);
    if (contents !== undefined && contents.size === 1 && contents.has(content)) return true;
    this.addKeys(moment, content);
    return false;
  }
  private momentKey(r: RecordFields): string {
    const key = JSON.stringify([r.type, r.phone, r.email, r.at]);
    return this.digested ? shortDigest(key) : key;
  }
  private contentKey(r: RecordFields): string {
    return this.digested ? shortDigest(r.payload) : r.payload;
  }
  private addKeys(moment: string, content: string): void {
    let contents = this.moments.get(moment);
    if (!contents) this.moments.set(moment, (contents = new Set()));
    contents.add(content);
  }
}

/** An event as its row, before it is linked into its chain. `recordedAt`: iso(now), made once for a batch. */
function eventRow(ev: NewEvent, recordedAt: string, importId: string | null = null) {
  const { id: _id, type, entityId, at, ...payload } = ev.fact;
  return {
    import_id: importId,
    id: ev.fact.id || newId(),
    type,
    entity_id: entityId,
    phone: ev.phone,
    email: ev.email ?? null,
    at: iso(at),
    recorded_at: recordedAt,
    payload: JSON.stringify(payload),
    key_id: ev.keyId ?? null,
  };
}

type LinkedEventRow = ReturnType<typeof eventRow> & ChainFields;

/** The columns an appended event's insert gives, in the order of its parameters (eventParameters). */
const EVENT_COLUMNS = [
  'id',
  'type',
  'entity_id',
  'phone',
  'email',
  'at',
  'recorded_at',
  'payload',
  'key_id',
  'import_id',
  'chain',
  'chain_seq',
  'content_hash',
  'personal_hash',
  'prev_hash',
  'hash',
  'salt',
] as const satisfies ReadonlyArray<keyof LinkedEventRow>;

/** A row of EVENT_COLUMNS for Kysely to compile: any value but undefined (a column left out) becomes a placeholder. */
const eventPlaceholder = (): EventsTable => Object.fromEntries(EVENT_COLUMNS.map((column) => [column, ''])) as unknown as EventsTable;

/** A row's values in the order of EVENT_COLUMNS, named one by one: read faster than by a loop over the names. */
function eventParameters(r: LinkedEventRow): unknown[] {
  return [r.id, r.type, r.entity_id, r.phone, r.email, r.at, r.recorded_at, r.payload, r.key_id, r.import_id, r.chain, r.chain_seq, r.content_hash, r.personal_hash ?? null, r.prev_hash, r.hash, r.salt];
}

/** Rows a PostgreSQL insert statement takes: one array of each column's values. */
const EVENT_INSERT_ROWS = 1_000;

export interface RegisterMeta {
  id: string;
  country: Jurisdiction;
  asOf: number;
  count: number;
  loadedAt: number;
}

export interface RegisterEntry {
  e164: string;
  listedAt: number | null;
}

export interface StoredDecision {
  id: string;
  entityId: string;
  phone: string | null;
  at: number;
  allowed: boolean;
  basis: string | null;
  denials: string[];
  rulesVersion: string;
  request: unknown;
  response: unknown;
  keyId: string | null;
}

/** An event row as the engine's fact: the payload with id, type, entityId and at from the row (also the scrub's history reader). */
export function rowToFact(row: Pick<EventsTable, 'id' | 'type' | 'entity_id' | 'at' | 'payload'>): EntityFact | ReassignmentFact {
  // The parsed payload itself becomes the fact (the same keys in the same order as spreading it
  // into a new object): no copy, which the bulk scrub makes a million times.
  const fact = JSON.parse(row.payload) as Record<string, unknown>;
  fact.id = row.id;
  fact.type = row.type;
  fact.entityId = row.entity_id;
  fact.at = ms(row.at);
  return fact as unknown as EntityFact;
}

/** What the engine needs to know about one number, straight from the event log. */
export interface NumberHistory {
  events: EntityFact[];
  reassignments: ReassignmentFact[];
  /** Every event row for the number, newest first, for timelines. */
  rows: Array<{ id: string; type: string; entityId: string | null; at: number; recordedAt: number; fact: EntityFact | ReassignmentFact }>;
}

export class Store {
  readonly db: Kysely<Database>;
  readonly kind: StoreKind;
  readonly location: string;
  private readonly pgPool: pg.Pool | undefined;
  private readonly sqlite: SQLite.Database | undefined;
  private readonly checkFile: () => void;
  private decisionWriter: DecisionWriter | null = null;
  /** SQLite: the text of an insert of one event, made once (insertEvents). */
  private eventInsertText: string | null = null;

  private constructor(c: Connection) {
    this.db = c.db;
    this.kind = c.kind;
    this.location = c.location;
    this.pgPool = c.pgPool;
    this.sqlite = c.sqlite;
    this.checkFile = c.checkFile ?? (() => {});
  }

  static async open(target: string, opts: ConnectOptions = {}): Promise<Store> {
    const store = new Store(connect(target, opts));
    await migrate(store.db);
    return store;
  }

  async close(): Promise<void> {
    await this.decisionWriter?.close();
    this.decisionWriter = null;
    await this.db.destroy();
  }

  async ping(): Promise<void> {
    this.checkFile();
    await ping(this.db);
  }

  // ---- entities -------------------------------------------------------------------------------

  /** Creates or replaces an entity's settings. Returns whether it was new. */
  async putEntity(e: Entity, now: number): Promise<boolean> {
    const row = {
      id: e.id,
      name: e.name,
      kind: e.kind,
      country: e.country,
      parent_id: e.parentId ?? null,
      relationship_term_months: e.relationshipTermMonths,
      require_verified_consent: e.requireVerifiedConsent ? 1 : 0,
      ideological_organisation: e.ideologicalOrganisation ? 1 : 0,
      calling_windows: e.callingWindows ? JSON.stringify(e.callingWindows) : null,
      retention: e.retention ? JSON.stringify(e.retention) : null,
      controller: e.controller ? JSON.stringify(e.controller) : null,
      updated_at: iso(now),
    };
    const put = () =>
      withRetry(() =>
        this.db.transaction().execute(async (trx) => {
          const existing = await trx.selectFrom('entities').select('id').where('id', '=', e.id).executeTakeFirst();
          if (existing) {
            await trx.updateTable('entities').set(row).where('id', '=', e.id).execute();
            return false;
          }
          await trx.insertInto('entities').values({ ...row, created_at: iso(now) }).execute();
          return true;
        }),
      );
    try {
      return await put();
    } catch (err) {
      // Two requests creating the same entity at once (PostgreSQL's read committed lets both see
      // none): the second one updates what the first created.
      if (!isUniqueViolation(err)) throw err;
      return put();
    }
  }

  async getEntity(id: string): Promise<Entity | null> {
    const r = await this.db.selectFrom('entities').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toEntity(r) : null;
  }

  /**
   * A text column for ORDER BY, sorted the same on both stores: by code point, as SQLite compares
   * (bytes of UTF-8); PostgreSQL would otherwise follow the database's locale (a before B, say).
   */
  private byCodePoint(column: 'name' | 'id' | 'created_at') {
    return this.kind === 'postgres' ? sql`${sql.ref(column)} collate "C"` : sql.ref(column);
  }

  async listEntities(): Promise<Entity[]> {
    const rows = await this.db.selectFrom('entities').selectAll().orderBy(this.byCodePoint('name')).orderBy(this.byCodePoint('id')).execute();
    return rows.map(toEntity);
  }

  async countEntities(): Promise<number> {
    const r = await this.db.selectFrom('entities').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // ---- events ---------------------------------------------------------------------------------

  /**
   * Appends one event. With an idempotency claim, the answer `{id}` is stored in the same
   * transaction, and a repeat of the claim returns the first event's id without writing again.
   */
  async appendEvent(ev: NewEvent, now: number, claim?: IdempotencyClaim): Promise<{ id: string; replayed: boolean }> {
    if (!claim) return { id: (await this.appendEvents([ev], now))[0]!, replayed: false };
    for (let attempt = 0; ; attempt++) {
      const earlier = await this.answerFor(claim);
      if (earlier) return { id: (earlier.body as { id: string }).id, replayed: true };
      try {
        const [id] = await this.appendEvents([ev], now, claim);
        return { id: id!, replayed: false };
      } catch (err) {
        // Another request with the same key won the race: answer what it answered.
        if (attempt === 0 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  /** Appends in one transaction: all rows are stored or none. */
  async appendEvents(evs: NewEvent[], now: number, claim?: IdempotencyClaim): Promise<string[]> {
    const recordedAt = iso(now);
    const rows = evs.map((ev) => eventRow(ev, recordedAt));
    if (rows.length === 0) return [];
    await withRetry(() =>
      this.db.transaction().execute(async (trx) => {
        await this.insertEvents(trx, await linkRows(trx, rows));
        if (claim) {
          await trx
            .insertInto('idempotency')
            .values({ scope: claim.scope, key: claim.key, request_hash: claim.requestHash, status: 201, body: JSON.stringify({ id: rows[0]!.id }), created_at: iso(now) })
            .execute();
        }
      }),
    );
    return rows.map((r) => r.id);
  }

  /**
   * Appends the events of `batches` – one entity's, as they come: import `importId`'s, from its
   * spool – and then `finish`, all in one transaction: stored all or none. An event that is on record already – the same type, number,
   * e-mail address, moment and content, the same file imported twice or an export that overlaps
   * the last – is not recorded again (`onRecord` counts them). The entity's chain is taken first, so
   * no other event of the entity comes between them; on SQLite every other write waits meanwhile.
   * A retry (a busy store) reads the batches anew.
   */
  async appendEventStream(
    entityId: string,
    importId: string,
    batches: () => AsyncIterable<NewEvent[]>,
    clock: () => number,
    finish: (trx: Kysely<never>, counts: { appended: number; onRecord: number; recordedAt: number }) => Promise<void>,
  ): Promise<{ appended: number; onRecord: number; recordedAt: number }> {
    return withRetry(() =>
      this.db.transaction().execute(async (trx) => {
        await lockChain(trx, chainOf(entityId));
        // Recorded when the chain is theirs, not when the import began: an event another write
        // linked meanwhile must not be followed by events recorded before it (verify: back-dated).
        const now = clock();
        const recordedAt = iso(now);
        const counts = { appended: 0, onRecord: 0, recordedAt: now };
        for await (const evs of batches()) {
          const rows = evs.map((ev) => {
            if (ev.fact.entityId !== entityId) throw new Error(`an event of ${String(ev.fact.entityId)} among ${entityId}'s`);
            return eventRow(ev, recordedAt, importId);
          });
          // The rows this transaction appended before are on record too.
          const onFile = await this.recordsAmong(trx, entityId, rows);
          const fresh = rows.filter((r) => !onFile.repeatsElseAdd(r));
          counts.onRecord += rows.length - fresh.length;
          await this.insertEvents(trx, await linkRows(trx, fresh));
          counts.appended += fresh.length;
        }
        await finish(trx as unknown as Kysely<never>, counts);
        return counts;
      }),
    );
  }

  /** How many of the events of `batches` appendEventStream would find on record already (a dry run). */
  async countOnRecord(entityId: string, batches: AsyncIterable<NewEvent[]>, now: number): Promise<number> {
    let count = 0;
    // The file's own rows stay in it from batch to batch, as the write's stay in the store.
    const onFile = new RecordsOnFile({ digested: true });
    const recordedAt = iso(now);
    for await (const evs of batches) {
      const rows = evs.map((ev) => eventRow(ev, recordedAt));
      await this.recordsAmong(this.db, entityId, rows, onFile);
      for (const r of rows) if (onFile.repeatsElseAdd(r)) count++;
    }
    return count;
  }

  /**
   * Inserts linked event rows. Kysely building and compiling a query of every value anew took an
   * import longer than the database took to store them, so the statements are made here: SQLite
   * runs one statement of one row for each, on the transaction's connection itself (a statement of
   * 500 rows took SQLite half as long again, a trip through Kysely for each row more than that);
   * PostgreSQL takes EVENT_INSERT_ROWS rows a statement as one array a column (parsing and binding
   * 500 rows' 8,500 parameters took it longer than inserting them).
   */
  private async insertEvents(trx: Kysely<Database>, rows: LinkedEventRow[]): Promise<void> {
    if (this.sqlite) {
      // Kysely's SQLite transactions run on this one connection, which the transaction holds now.
      // Every value is a parameter: the same text for every row, prepared once (connect.ts caches it).
      this.eventInsertText ??= this.db.insertInto('events').values(eventPlaceholder()).compile().sql;
      const insert = this.sqlite.prepare(this.eventInsertText);
      for (const row of rows) insert.run(eventParameters(row));
      return;
    }
    const columns = sql.join(EVENT_COLUMNS.map((column) => sql.ref(column)));
    for (let i = 0; i < rows.length; i += EVENT_INSERT_ROWS) {
      const values: unknown[][] = EVENT_COLUMNS.map(() => []);
      for (const row of rows.slice(i, i + EVENT_INSERT_ROWS)) eventParameters(row).forEach((value, c) => values[c]!.push(value));
      const arrays = sql.join(values.map((column, c) => sql`${column}::${sql.raw(EVENT_COLUMNS[c] === 'chain_seq' ? 'integer' : 'text')}[]`));
      await sql`insert into events (${columns}) select * from unnest(${arrays})`.execute(trx);
    }
  }

  /**
   * The entity's records on file of these rows' types and moments, for their numbers (or, without
   * one, e-mail addresses) – added to `into`.
   *
   * Numbers are looked up by (number, moment) pairs, which events_phone_at finds one by one, and
   * the entity is checked here, not in the query: given the entity, PostgreSQL's planner went by
   * events_entity_type_at on statistics from before the import (an entity with no consents yet)
   * and read every consent the import had written so far, for each batch – about 14 of the 31 s
   * that 100,000 rows took to write, growing with the square of the rows.
   */
  private async recordsAmong(db: Kysely<Database>, entityId: string, rows: ReturnType<typeof eventRow>[], into = new RecordsOnFile({ digested: false })): Promise<RecordsOnFile> {
    const types = [...new Set(rows.map((r) => r.type))];
    if (types.length === 0) return into;
    const numberMoments = new Map<string, [string, string]>();
    for (const r of rows) if (r.phone) numberMoments.set(JSON.stringify([r.phone, r.at]), [r.phone, r.at]);
    const pairs = [...numberMoments.values()];
    for (let i = 0; i < pairs.length; i += 500) {
      const chunk = pairs.slice(i, i + 500);
      for (const r of await this.recordsAt(db, types, chunk)) if (r.entity_id === entityId) into.add(r);
    }
    const emails = [...new Set(rows.flatMap((r) => (!r.phone && r.email ? [r.email] : [])))];
    if (emails.length === 0) return into;
    // E-mail addresses have no index of their own: the entity's events of these types and moments.
    const recorded = db
      .selectFrom('events')
      .select(['type', 'phone', 'email', 'at', 'payload'])
      .where('entity_id', '=', entityId)
      .where('erased_at', 'is', null)
      .where('type', 'in', types)
      .where('at', 'in', [...new Set(rows.map((r) => r.at))]);
    for (let i = 0; i < emails.length; i += 500) for (const r of await recorded.where('phone', 'is', null).where('email', 'in', emails.slice(i, i + 500)).execute()) into.add(r);
    return into;
  }

  /** The events of these types at these (number, moment) pairs, erased ones left out: each pair looked up in events_phone_at. */
  private async recordsAt(db: Kysely<Database>, types: string[], pairs: Array<[string, string]>): Promise<Array<RecordFields & { entity_id: string | null }>> {
    if (this.kind === 'postgres') {
      // A look-up a pair, in that order: OFFSET 0 keeps PostgreSQL from joining the pairs with
      // the events some other way, chosen by statistics that know nothing of the import's rows.
      const r = await sql<RecordFields & { entity_id: string | null }>`
        select e.entity_id, e.type, e.phone, e.email, e.at, e.payload
        from unnest(${pairs.map((p) => p[0])}::text[], ${pairs.map((p) => p[1])}::text[]) as wanted (phone, at)
        cross join lateral (
          select entity_id, type, phone, email, at, payload from events
          where events.phone = wanted.phone and events.at = wanted.at and erased_at is null and type in (${sql.join(types)})
          offset 0
        ) e`.execute(db);
      return r.rows;
    }
    // SQLite takes the pairs' list as a subquery and looks each up in the index.
    return db
      .selectFrom('events')
      .select(['entity_id', 'type', 'phone', 'email', 'at', 'payload'])
      .where('erased_at', 'is', null)
      .where('type', 'in', types)
      .where(sql<SqlBool>`(${sql.ref('phone')}, ${sql.ref('at')}) in (values ${sql.join(pairs.map(([phone, at]) => sql`(${phone}, ${at})`))})`)
      .execute();
  }

  /**
   * Whether a key's answer was dropped by an erasure (its tombstone: the key keyed by the pepper,
   * so a key that holds the number is not kept in the clear). See erasedKeyTombstone.
   */
  async keyWasErased(scope: string, tombstones: string[]): Promise<boolean> {
    if (tombstones.length === 0) return false;
    return (await this.db.selectFrom('idempotency').select('key').where('scope', '=', scope).where('key', 'in', tombstones).executeTakeFirst()) !== undefined;
  }

  async answerFor(claim: IdempotencyClaim): Promise<StoredAnswer | null> {
    const r = await this.db
      .selectFrom('idempotency')
      .select(['request_hash', 'status', 'body'])
      .where('scope', '=', claim.scope)
      .where('key', '=', claim.key)
      .executeTakeFirst();
    if (!r) return null;
    if (r.request_hash !== claim.requestHash) throw new IdempotencyConflict();
    return { requestHash: r.request_hash, status: r.status, body: JSON.parse(r.body) };
  }

  /** Keeps the answer to a request that wrote no event (a decision): first answer wins. */
  async storeAnswer(claim: IdempotencyClaim, status: number, body: unknown, now: number): Promise<void> {
    try {
      await this.db
        .insertInto('idempotency')
        .values({ scope: claim.scope, key: claim.key, request_hash: claim.requestHash, status, body: JSON.stringify(body), created_at: iso(now) })
        .execute();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }

  async history(phone: string): Promise<NumberHistory> {
    this.checkFile(); // a decision from a store file that is gone would be one nobody can audit
    // An erased row holds no number; the filter keeps one edited back in out of decisions too.
    const rows = await this.db.selectFrom('events').selectAll().where('phone', '=', phone).where('erased_at', 'is', null).orderBy('at').orderBy('id').execute();
    const events: EntityFact[] = [];
    const reassignments: ReassignmentFact[] = [];
    const timeline: NumberHistory['rows'] = [];
    for (const row of rows) {
      const fact = rowToFact(row);
      if (fact.type === 'reassignment') reassignments.push({ type: 'reassignment', id: fact.id, at: fact.at });
      else events.push(fact);
      timeline.push({ id: row.id, type: row.type, entityId: row.entity_id, at: ms(row.at), recordedAt: ms(row.recorded_at), fact });
    }
    timeline.reverse();
    return { events, reassignments, rows: timeline };
  }

  /**
   * Recomputes the hash chains (all, or one entity's) and names the first broken event; compares a
   * checkpoint's heads if given. Read as of one moment: heads, events and suppression entries read
   * in separate statements while others write would disagree (a head naming 8 events beside 10)
   * and be reported as tampering. PostgreSQL: one REPEATABLE READ, READ ONLY transaction. A SQLite
   * file: a read transaction on a connection of its own, so the server's connection – which every
   * request shares – is not held for the whole walk.
   */
  async verifyHistory(entityId?: string, checkpoint?: readonly ChainHead[]): Promise<VerifyResult> {
    this.checkFile();
    if (this.kind === 'postgres') {
      return this.db
        .transaction()
        .setIsolationLevel('repeatable read')
        .setAccessMode('read only')
        .execute((trx) => verifyChains(trx, entityId, checkpoint));
    }
    if (!isSqliteFile(this)) return verifyChains(this.db, entityId, checkpoint);
    // Short waits, as the server's own connection: a wait blocks the thread (reads in WAL rarely do).
    const reader = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(this.location, { readonly: true, fileMustExist: true, timeout: 50 }) }) });
    try {
      return await reader.transaction().execute((trx) => verifyChains(trx, entityId, checkpoint));
    } finally {
      await reader.destroy();
    }
  }

  // ---- keys -----------------------------------------------------------------------------------

  /** Creates a key; `by` is the key that created it (null: the CLI or bootstrap). Audited (see key-audit.ts). */
  async createKey(opts: { role: Role; entityIds: string[]; label?: string | null; token?: string; expiresAt?: number | null; by?: string | null }, now: number): Promise<{ key: ApiKey; token: string }> {
    const token = opts.token ?? 'opt_' + randomBytes(24).toString('base64url');
    const id = newId();
    const row = {
      id,
      token_hash: hashToken(token),
      role: opts.role,
      entity_ids: JSON.stringify(opts.entityIds),
      label: opts.label ?? null,
      created_at: iso(now),
      expires_at: opts.expiresAt != null ? iso(opts.expiresAt) : null,
      revoked_at: null,
    };
    await withRetry(() =>
      this.db.transaction().execute(async (trx) => {
        await trx.insertInto('api_keys').values(row).execute();
        await auditKeyChange(trx, 'key_created', row, opts.by ?? null, now);
      }),
    );
    return {
      key: { id, role: opts.role, entityIds: opts.entityIds, label: opts.label ?? null, expiresAt: opts.expiresAt != null ? iso(opts.expiresAt) : null, revokedAt: null },
      token,
    };
  }

  /** The key a token belongs to, if it is known, unexpired and not revoked. */
  async keyForToken(token: string, now: number): Promise<ApiKey | null> {
    const digest = hashToken(token);
    const r = await this.db.selectFrom('api_keys').selectAll().where('token_hash', '=', digest).executeTakeFirst();
    // The lookup is by digest, so timing reveals nothing of the token; compare again in constant time anyway.
    if (!r || !sameDigest(r.token_hash, digest)) return null;
    if (r.revoked_at || (r.expires_at && ms(r.expires_at) <= now)) return null;
    return { id: r.id, role: r.role as Role, entityIds: JSON.parse(r.entity_ids) as string[], label: r.label, expiresAt: r.expires_at, revokedAt: r.revoked_at };
  }

  async hasToken(token: string): Promise<boolean> {
    const r = await this.db.selectFrom('api_keys').select('id').where('token_hash', '=', hashToken(token)).executeTakeFirst();
    return !!r;
  }

  async revokeKey(id: string, now: number, by: string | null = null): Promise<boolean> {
    return withRetry(() =>
      this.db.transaction().execute(async (trx) => {
        const r = await trx.updateTable('api_keys').set({ revoked_at: iso(now) }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) return false;
        const key = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        await auditKeyChange(trx, 'key_revoked', key, by, now);
        return true;
      }),
    );
  }

  async listKeys(): Promise<ApiKey[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().orderBy(this.byCodePoint('created_at')).orderBy(this.byCodePoint('id')).execute();
    return rows.map((r) => ({ id: r.id, role: r.role as Role, entityIds: JSON.parse(r.entity_ids) as string[], label: r.label, expiresAt: r.expires_at, revokedAt: r.revoked_at }));
  }

  // ---- decisions ------------------------------------------------------------------------------

  async recordDecisions(ds: StoredDecision[], now: number): Promise<void> {
    if (ds.length === 0) return;
    // The writer thread keeps its own handle on the file: written to after the file was deleted or
    // replaced, an answered decision would be in no store anyone can audit (503 instead).
    this.checkFile();
    const rows = ds.map((d) => ({
      id: d.id,
      entity_id: d.entityId,
      phone: d.phone,
      at: iso(d.at),
      recorded_at: iso(now),
      allowed: d.allowed ? 1 : 0,
      basis: d.basis,
      denials: JSON.stringify(d.denials),
      rules_version: d.rulesVersion,
      request: JSON.stringify(d.request),
      response: JSON.stringify(d.response),
      key_id: d.keyId,
    }));
    if (isSqliteFile(this)) {
      // On SQLite the inserts run on a writer thread of their own (see decision-writer.ts).
      // A new writer thread when the last one is gone (it could not open the file, e.g. while the
      // store was unreadable): its batches failed and are retried by the decision log.
      if (!this.decisionWriter || this.decisionWriter.dead) this.decisionWriter = new DecisionWriter(this.location);
      await this.decisionWriter.write(rows);
      return;
    }
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 200) await trx.insertInto('decisions').values(rows.slice(i, i + 200)).execute();
    });
  }

  async getDecision(id: string): Promise<StoredDecision | null> {
    const r = await this.db.selectFrom('decisions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return null;
    return {
      id: r.id,
      entityId: r.entity_id,
      phone: r.phone,
      at: ms(r.at),
      allowed: r.allowed === 1,
      basis: r.basis,
      denials: JSON.parse(r.denials) as string[],
      rulesVersion: r.rules_version,
      request: JSON.parse(r.request),
      response: JSON.parse(r.response),
      keyId: r.key_id,
    };
  }

  // ---- registers ------------------------------------------------------------------------------

  /**
   * Replaces a register's copy in one transaction: its metadata row and, unless the copy of
   * record is a snapshot file (`entries` null), one row per number. A failure leaves the old
   * copy. `check` runs first, inside the transaction, with the `loaded_at` of the copy in force.
   * On PostgreSQL the rows are loaded with COPY (about ten times faster than INSERT).
   */
  async replaceRegisterRows(
    meta: { id: string; country: Jurisdiction; asOf: number; count: number; loadedAt: number },
    entries: Iterable<RegisterEntry> | null,
    check: (loadedAtInForce: number | null) => void = () => {},
  ): Promise<void> {
    const metaRow = { id: meta.id, country: meta.country, as_of: iso(meta.asOf), count: meta.count, loaded_at: iso(meta.loadedAt) };
    if (this.pgPool) {
      const client = await this.pgPool.connect();
      try {
        await client.query('BEGIN');
        const values = [metaRow.id, metaRow.country, metaRow.as_of, metaRow.count, metaRow.loaded_at];
        const lockRow = () => client.query<{ loaded_at: string }>('SELECT loaded_at FROM registers WHERE id = $1 FOR UPDATE', [meta.id]);
        // The metadata row is the lock of two imports of the same register. A first copy has no
        // row to lock yet: it inserts one (another import's insert waits for this to commit and
        // then finds it), and a row is only ever updated in place, never deleted and re-inserted
        // (a waiting FOR UPDATE would then find nothing and skip the check below).
        let cur = await lockRow();
        let first = false;
        if (!cur.rows[0]) {
          const made = await client.query('INSERT INTO registers (id, country, as_of, count, loaded_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING', values);
          first = made.rowCount === 1;
          if (!first) cur = await lockRow();
        }
        check(first ? null : ms(cur.rows[0]!.loaded_at));
        await client.query('DELETE FROM register_entries WHERE register_id = $1', [meta.id]);
        if (entries) {
          const { from: copyFrom } = await import('pg-copy-streams');
          const copy = client.query(copyFrom('COPY register_entries (register_id, e164, listed_at) FROM STDIN'));
          await pipeline(Readable.from(copyLines(meta.id, entries)), copy);
        }
        await client.query('UPDATE registers SET country = $2, as_of = $3, count = $4, loaded_at = $5 WHERE id = $1', values);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
      return;
    }
    await this.db.transaction().execute(async (trx) => {
      // A write first, so the transaction takes SQLite's write lock – waiting for it (busy_timeout)
      // while the server writes – before it reads: read first, the later write would fail at
      // once (SQLITE_BUSY_SNAPSHOT) whenever the server had written in between.
      await sql`update registers set id = id where id = ${meta.id}`.execute(trx);
      const cur = await trx.selectFrom('registers').select('loaded_at').where('id', '=', meta.id).executeTakeFirst();
      check(cur ? ms(cur.loaded_at) : null);
      await trx.deleteFrom('register_entries').where('register_id', '=', meta.id).execute();
      await trx.deleteFrom('registers').where('id', '=', meta.id).execute();
      if (entries) {
        let rows: Array<{ register_id: string; e164: string; listed_at: string | null }> = [];
        for (const e of entries) {
          rows.push({ register_id: meta.id, e164: e.e164, listed_at: e.listedAt != null ? iso(e.listedAt) : null });
          if (rows.length === 5000) {
            await trx.insertInto('register_entries').values(rows).execute();
            rows = [];
          }
        }
        if (rows.length > 0) await trx.insertInto('register_entries').values(rows).execute();
      }
      await trx.insertInto('registers').values(metaRow).execute();
    });
  }

  async listRegisters(): Promise<RegisterMeta[]> {
    const rows = await this.db.selectFrom('registers').selectAll().execute();
    return rows.map((r) => ({ id: r.id, country: r.country as Jurisdiction, asOf: ms(r.as_of), count: r.count, loadedAt: ms(r.loaded_at) }));
  }

  async registerEntries(id: string): Promise<RegisterEntry[]> {
    const rows = await this.db.selectFrom('register_entries').select(['e164', 'listed_at']).where('register_id', '=', id).execute();
    return rows.map((r) => ({ e164: r.e164, listedAt: msOrNull(r.listed_at) }));
  }
}

function toEntity(r: Database['entities']): Entity {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as EntityKind,
    country: r.country as Jurisdiction,
    parentId: r.parent_id,
    relationshipTermMonths: r.relationship_term_months,
    requireVerifiedConsent: r.require_verified_consent === 1,
    ideologicalOrganisation: r.ideological_organisation === 1,
    callingWindows: r.calling_windows ? (JSON.parse(r.calling_windows) as Partial<Record<Jurisdiction, CallingWindow[]>>) : undefined,
    ...(r.retention ? { retention: JSON.parse(r.retention) as Entity['retention'] } : {}),
    ...(r.controller ? { controller: JSON.parse(r.controller) as Entity['controller'] } : {}),
  };
}

/** COPY's text format: tab-separated, \N for null. E.164 numbers and ISO times need no escaping. */
function* copyLines(registerId: string, entries: Iterable<RegisterEntry>): Generator<string> {
  let chunk = '';
  let n = 0;
  for (const e of entries) {
    chunk += `${registerId}\t${e.e164}\t${e.listedAt != null ? iso(e.listedAt) : '\\N'}\n`;
    if (++n === 10_000) {
      yield chunk;
      chunk = '';
      n = 0;
    }
  }
  if (chunk) yield chunk;
}
