/**
 * Tamper-evident history: the events of each legal entity form a hash chain. Each row carries
 * the digest of its own content and a link hash over the previous link, its position and that
 * digest; the chain's head (last position and link) is kept in `chain_heads`. Anyone who edits,
 * deletes, inserts or reorders rows directly in the database breaks a link, and `verifyChains`
 * names the first event where that shows.
 *
 * One chain per entity (events without an entity – reassignments – share the chain '-'), so
 * writers for different entities do not wait for each other and the tables can be distributed
 * by entity. Erasure (a data-subject request) redacts a row's payload but keeps its stored
 * digests, so the chain still verifies while the erased content can no longer be read.
 *
 * A row's digest is in two parts (from migration 0014): the personal digest over its number,
 * e-mail, payload and salt, and the content digest over the rest – id, type, entity, times, key –
 * and the personal digest. An erased row is then still checked for everything it keeps: its type,
 * entity and times cannot be edited unseen either. Rows written before keep one digest over all.
 */
import { createHash, hash as hashOnce, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, EventsTable, SuppressionsTable } from './schema.js';
import { isPostgres } from './connect.js';

export const NO_ENTITY_CHAIN = '-';

/** How far servers' clocks may disagree: a chain's recording times may step back this much. */
const RECORDING_CLOCK_SLACK_MS = 5 * 60_000;
const GENESIS = '0'.repeat(64);

// One call, no Hash object to make and update: an import takes three digests a row while it holds the store.
const sha256 = (s: string): string => hashOnce('sha256', s, 'hex');

type EventContent = Pick<EventsTable, 'id' | 'type' | 'entity_id' | 'phone' | 'email' | 'at' | 'recorded_at' | 'payload' | 'key_id' | 'salt' | 'personal_hash'>;

/** What an erasure leaves of a row's payload (src/service/retention.ts). */
export const ERASED_PAYLOAD = '{"erased":true}';

/**
 * An erased row is no longer checked against its digest (its content is gone), so it must hold
 * nothing: no number, no e-mail, no payload but the erasure's, no salt. Used by verify and proofs.
 */
export function erasedRowIsEmpty(r: Pick<EventsTable, 'phone' | 'email' | 'payload' | 'salt'>): boolean {
  return r.phone == null && r.email == null && r.payload === ERASED_PAYLOAD && r.salt == null;
}

/**
 * The digest of what an event says; a fixed field order so every engine computes the same. The
 * row's random salt is part of it: an erasure deletes the salt with the number, so the digests that
 * stay behind cannot be matched against guessed numbers (a country's mobile numbers take minutes
 * to try). Rows from before migration 0010 have no salt, and rows from before 0014 no personal
 * digest: they keep the one digest they were linked with.
 */
export function contentDigest(e: EventContent): string {
  if (e.personal_hash != null) return frameDigest(e, personalDigest(e));
  const fields = [e.id, e.type, e.entity_id, e.phone, e.email, e.at, e.recorded_at, e.payload, e.key_id];
  return sha256(JSON.stringify(e.salt ? [...fields, e.salt] : fields));
}

/** The digest of what an erasure takes away: number, e-mail, payload and the salt that hides them. */
export function personalDigest(e: Pick<EventsTable, 'phone' | 'email' | 'payload' | 'salt'>): string {
  return sha256(JSON.stringify(['personal', e.phone, e.email, e.payload, e.salt]));
}

/** The digest of what an erasure leaves – and of the personal digest, which it leaves too. */
function frameDigest(e: Pick<EventsTable, 'id' | 'type' | 'entity_id' | 'at' | 'recorded_at' | 'key_id'>, personal: string): string {
  return sha256(JSON.stringify(['event', e.id, e.type, e.entity_id, e.at, e.recorded_at, e.key_id, personal]));
}

/**
 * Whether a stored row still says what it was linked with. An erased row must hold nothing
 * personal; with a personal digest (migration 0014) the rest of it – type, entity, times, key – is
 * still checked, before that only its link is.
 */
export function storedContentOk(r: EventContent & Pick<EventsTable, 'content_hash' | 'erased_at'>): boolean {
  if (r.erased_at != null) return erasedRowIsEmpty(r) && (r.personal_hash == null || frameDigest(r, r.personal_hash) === r.content_hash);
  if (r.personal_hash != null && personalDigest(r) !== r.personal_hash) return false;
  return contentDigest(r) === r.content_hash;
}

const SALT_BYTES = 16;
/** Random bytes drawn 256 salts at a time: a draw costs about 10 µs, and an import takes a salt a row while it holds the store. */
let saltPool = Buffer.alloc(0);
let saltOffset = 0;

export function newSalt(): string {
  if (saltOffset + SALT_BYTES > saltPool.length) {
    saltPool = randomBytes(SALT_BYTES * 256);
    saltOffset = 0;
  }
  const salt = saltPool.toString('base64url', saltOffset, saltOffset + SALT_BYTES);
  saltOffset += SALT_BYTES;
  return salt;
}

/**
 * A row's link. From migration 0014 it covers the personal digest as well: a row cannot be made to
 * look older (its personal digest deleted, so that an erased row's remains went unchecked).
 */
export function linkHash(prev: string, seq: number, digest: string, personal: string | null = null): string {
  return sha256(personal == null ? `${prev}|${seq}|${digest}` : `${prev}|${seq}|${digest}|${personal}`);
}

/** Whether a row's link is the one its predecessor, position and digests give. */
export function linkOk(r: Pick<EventsTable, 'prev_hash' | 'content_hash' | 'personal_hash' | 'hash'>, prev: string, seq: number): boolean {
  return r.content_hash != null && linkHash(prev, seq, r.content_hash, r.personal_hash ?? null) === r.hash;
}

export const chainOf = (entityId: string | null): string => entityId ?? NO_ENTITY_CHAIN;

export interface ChainFields {
  salt: string | null;
  chain: string;
  chain_seq: number;
  content_hash: string;
  personal_hash?: string;
  prev_hash: string;
  hash: string;
}

/**
 * PostgreSQL: how long a writer waits for a chain's head, locked by another writer of the same
 * entity. Writers hold it for milliseconds, but a long erasure or retention run (or a stuck
 * transaction) may hold it for seconds, and every writer waiting on it holds a pool connection
 * meanwhile: fifteen dialer writes for one entity would take all ten (src/store/connect.ts), and
 * decisions, reads and /healthz of every other entity would wait for one in vain. So a writer
 * gives up soon (SQLSTATE 55P03, lock_not_available), frees its connection, and withRetry tries
 * again after a pause – as on SQLite, where the write lock is waited for in short tries – until
 * it answers 503 with Retry-After after about 5 s. Only CHAIN_LOCK_WAITERS writers of a process
 * wait the longer time at once; the others merely try, so however many writers queue up for one
 * chain, most of the pool stays free for everything else.
 */
const CHAIN_LOCK_WAIT_MS = 200;
const CHAIN_LOCK_TRY_MS = 20;
const CHAIN_LOCK_WAITERS = 3;
let chainLockWaiters = 0;

/**
 * Locks a chain's head (made first if the chain is new) for the rest of the transaction and
 * reads it. PostgreSQL: FOR UPDATE, the wait bounded as above – lock_timeout is set for the rest
 * of the transaction (its later waits, rare, are as short) by the first statement that may wait:
 * the insert waits when another transaction has just written the same head. SQLite: the insert
 * takes the write lock, and what the transaction reads afterwards includes every event committed
 * before it.
 */
async function lockHead(trx: Kysely<Database>, chain: string, boundedWait: boolean): Promise<{ seq: number; hash: string }> {
  if (!isPostgres(trx)) {
    await sql`insert into chain_heads (chain, seq, hash) values (${chain}, 0, ${GENESIS}) on conflict (chain) do nothing`.execute(trx);
    return trx.selectFrom('chain_heads').select(['seq', 'hash']).where('chain', '=', chain).executeTakeFirstOrThrow();
  }
  const waits = boundedWait && chainLockWaiters < CHAIN_LOCK_WAITERS;
  if (waits) chainLockWaiters++;
  try {
    const timeout = boundedWait ? `${waits ? CHAIN_LOCK_WAIT_MS : CHAIN_LOCK_TRY_MS}ms` : null;
    await (timeout
      ? sql`insert into chain_heads (chain, seq, hash) select ${chain}, 0, ${GENESIS} from (select set_config('lock_timeout', ${timeout}, true)) s on conflict (chain) do nothing`
      : sql`insert into chain_heads (chain, seq, hash) values (${chain}, 0, ${GENESIS}) on conflict (chain) do nothing`
    ).execute(trx);
    const r = await trx.selectFrom('chain_heads').select(['seq', 'hash']).where('chain', '=', chain).forUpdate().executeTakeFirstOrThrow();
    return { seq: Number(r.seq), hash: r.hash };
  } finally {
    if (waits) chainLockWaiters--;
  }
}

/**
 * Takes a chain's head for the rest of the caller's transaction: no event can be linked onto the
 * chain meanwhile (see lockHead).
 */
export async function lockChain(trx: Kysely<Database>, chain: string): Promise<void> {
  await lockHead(trx, chain, true);
}

/**
 * Links new rows onto their chains inside the caller's transaction. The head row is locked
 * (SELECT … FOR UPDATE on PostgreSQL, see lockHead; SQLite's write transaction is exclusive already).
 */
export async function linkRows<T extends Omit<EventContent, 'salt' | 'personal_hash'>>(trx: Kysely<Database>, rows: T[], opts: { salt?: boolean } = {}): Promise<Array<T & ChainFields>> {
  const out: Array<T & ChainFields> = [];
  const heads = new Map<string, { seq: number; hash: string }>();
  for (const row of rows) {
    const chain = chainOf(row.entity_id);
    let head = heads.get(chain);
    if (!head) {
      // Migration 0005 (the only caller without a salt) links inside the migration transaction,
      // whose later steps must wait for their locks as long as it takes: no bound there.
      const r = await lockHead(trx, chain, opts.salt !== false);
      head = { seq: Number(r.seq), hash: r.hash };
    }
    const seq = head.seq + 1;
    let fields: T & ChainFields;
    if (opts.salt === false) {
      // Only migration 0005, which links the rows of a store without the salt and personal digest columns.
      fields = { ...row, salt: null, chain, chain_seq: seq, content_hash: '', prev_hash: head.hash, hash: '' };
      fields.content_hash = contentDigest(fields);
      fields.hash = linkHash(head.hash, seq, fields.content_hash);
    } else {
      const salt = newSalt();
      const personal = personalDigest({ phone: row.phone, email: row.email, payload: row.payload, salt });
      const content = frameDigest(row, personal);
      // Object.assign, not an object spread: V8 copied a row by `{ ...row, … }` in about 15 µs, a
      // tenth of an import's time holding the store; the same copy by Object.assign takes 1–2 µs.
      fields = Object.assign({}, row, { salt, chain, chain_seq: seq, content_hash: content, personal_hash: personal, prev_hash: head.hash, hash: linkHash(head.hash, seq, content, personal) });
    }
    out.push(fields);
    head = { seq, hash: fields.hash };
    heads.set(chain, head);
  }
  for (const [chain, head] of heads) {
    await trx.updateTable('chain_heads').set({ seq: head.seq, hash: head.hash }).where('chain', '=', chain).execute();
  }
  return out;
}

export const CHAIN_PROBLEMS = ['changed', 'removed', 'inserted', 'reordered', 'truncated', 'head_missing', 'rewritten'] as const;

export interface ChainProblem {
  chain: string;
  /** The first event at which the chain no longer holds (null: events missing at the end). */
  eventId: string | null;
  seq: number;
  problem: (typeof CHAIN_PROBLEMS)[number];
  detail: string;
}

/** A chain's length and last link: kept outside the database, it is a checkpoint (see verifyChains). */
export interface ChainHead {
  chain: string;
  seq: number;
  hash: string;
}

export interface VerifyResult {
  ok: boolean;
  chains: number;
  events: number;
  problems: ChainProblem[];
  /** The last link of every chain found intact: save them (with the time) as a checkpoint. */
  heads: ChainHead[];
  /** How many chains were compared with a checkpoint given to the check. */
  checkpointChains: number;
}

/**
 * A do-not-call entry as its erasure or retention event records it: the entry outlives the
 * person's data, and deleting or editing it would let the person be called again, so the chained
 * event carries a digest of what a decision reads from it.
 */
export function suppressionDigest(s: Pick<SuppressionsTable, 'id' | 'phone_hash' | 'pepper_id' | 'entity_id' | 'reason' | 'at' | 'products' | 'tag'>): string {
  const at = typeof s.at === 'string' ? Date.parse(s.at) : (s.at as unknown as Date).getTime();
  return createHash('sha256')
    .update(JSON.stringify([s.id, s.phone_hash, s.pepper_id, s.entity_id, s.reason, at, s.products ?? null, s.tag ?? null]))
    .digest('hex');
}

interface NamedSuppression {
  eventId: string;
  seq: number;
  id: string;
  digest: string | null;
}

/**
 * What the chain's intact erasure and retention runs (src/service/retention.ts) say they did: the
 * rows they redacted, and the do-not-call entries they made. A redacted row's content is no longer
 * checked against its digest, so a row only counts as erased when such an event of the same chain
 * names it; marking a row erased by hand shows as a change.
 */
function erasuresRecorded(rows: EventsTable[]): { erased: Set<string>; suppressions: NamedSuppression[] } {
  const erased = new Set<string>();
  const suppressions: NamedSuppression[] = [];
  for (const r of rows) {
    if ((r.type !== 'erasure' && r.type !== 'retention') || r.erased_at != null) continue;
    try {
      const p = JSON.parse(r.payload) as { erased?: unknown; suppressions?: unknown };
      if (Array.isArray(p.erased)) for (const id of p.erased) if (typeof id === 'string') erased.add(id);
      if (Array.isArray(p.suppressions)) {
        for (const s of p.suppressions as Array<{ id?: unknown; digest?: unknown }>) {
          if (typeof s?.id === 'string') suppressions.push({ eventId: r.id, seq: Number(r.chain_seq), id: s.id, digest: typeof s.digest === 'string' ? s.digest : null });
        }
      }
    } catch {
      // An unreadable payload names nothing; its own digest check reports the edit.
    }
  }
  return { erased, suppressions };
}

/**
 * The chain's suppression entries against what its events recorded: an entry gone or changed
 * (a person erased or objecting could be called again), or one no event made (added by hand).
 */
async function checkSuppressions(db: Kysely<Database>, chain: string, named: NamedSuppression[]): Promise<ChainProblem | null> {
  if (chain === NO_ENTITY_CHAIN) return null;
  const stored = await db.selectFrom('suppressions').selectAll().where('entity_id', '=', chain).execute();
  const byId = new Map(stored.map((s) => [s.id, s]));
  for (const n of named) {
    const s = byId.get(n.id);
    if (!s) {
      return { chain, eventId: n.eventId, seq: n.seq, problem: 'removed', detail: `the do-not-call entry ${n.id} that this erasure or retention run made is gone from the suppression list: the person it protects could be called again` };
    }
    if (s.event_id !== n.eventId || (n.digest !== null && n.digest !== suppressionDigest(s))) {
      return { chain, eventId: n.eventId, seq: n.seq, problem: 'changed', detail: `the do-not-call entry ${n.id} that this erasure or retention run made was edited since` };
    }
    byId.delete(n.id);
  }
  const [extra] = byId.values();
  if (extra) {
    return { chain, eventId: extra.event_id, seq: 0, problem: 'inserted', detail: `the do-not-call entry ${extra.id} was made by no erasure or retention run in the history: it was added to the database by hand` };
  }
  return null;
}

/**
 * Recomputes every chain from its first event; reports the first broken place of each.
 *
 * The chain shows edits made by hand, but someone with write access to the database could
 * recompute a whole chain after an edit. Against that, the heads of an earlier check kept
 * elsewhere (a checkpoint: in a ticket, an e-mail, a timestamping service) are compared: the link
 * at each recorded position must still be the one recorded, since history is only ever appended
 * (an erasure redacts a row but keeps its link).
 */
export async function verifyChains(db: Kysely<Database>, onlyChain?: string, checkpoint: readonly ChainHead[] = []): Promise<VerifyResult> {
  let headsQ = db.selectFrom('chain_heads').select(['chain', 'seq', 'hash']).orderBy('chain');
  if (onlyChain) headsQ = headsQ.where('chain', '=', onlyChain);
  const heads: Array<{ chain: string; seq: number | string | null; hash: string | null }> = await headsQ.execute();
  // The chains are those the events name, not only those with a head: deleting a chain's head
  // row must not take its events out of the check.
  let chainsQ = db.selectFrom('events').select('chain').distinct().where('chain', 'is not', null);
  if (onlyChain) chainsQ = chainsQ.where('chain', '=', onlyChain);
  const headless = new Set((await chainsQ.execute()).map((r) => r.chain!));
  for (const h of heads) headless.delete(h.chain);
  for (const chain of [...headless].sort()) heads.push({ chain, seq: null, hash: null });
  // Rows outside every chain are checked by nothing else, yet a decision
  // reads every row of a number: each is reported.
  let looseQ = db
    .selectFrom('events')
    .select(['id', 'entity_id', 'chain'])
    // (A row with a chain but no position or link is reported by the walk of its chain.)
    .where('chain', 'is', null)
    .orderBy('id');
  if (onlyChain) looseQ = looseQ.where((eb) => (onlyChain === NO_ENTITY_CHAIN ? eb('entity_id', 'is', null) : eb('entity_id', '=', onlyChain)));
  const loose = await looseQ.limit(1000).execute();
  const problems: ChainProblem[] = loose.map((r) => ({
    chain: r.chain ?? chainOf(r.entity_id),
    eventId: r.id,
    seq: 0,
    problem: 'inserted',
    detail: 'the event has no place in a hash chain (no position or link): it was added to the database by hand',
  }));
  const checkpoints = new Map(checkpoint.filter((c) => onlyChain === undefined || c.chain === onlyChain).map((c) => [c.chain, c]));
  const intactHeads: ChainHead[] = [];
  let events = 0;
  for (const head of heads) {
    const saved = checkpoints.get(head.chain);
    let savedLink: string | null = null;
    const rows = await db.selectFrom('events').selectAll().where('chain', '=', head.chain).orderBy('chain_seq').orderBy('id').execute();
    events += rows.length;
    let prev = GENESIS;
    let expectedSeq = 1;
    let problem: ChainProblem | null = null;
    const runs = erasuresRecorded(rows);
    // Events are appended in the order they are recorded: one recorded long before the event ahead
    // of it was put in later with a back-dated recording time (a consent forged after the call it
    // should cover). Servers' clocks may differ a little, so a small step back is let through.
    let latestRecorded = -Infinity;
    let latestRecordedAt = '';
    for (const r of rows) {
      const seq = Number(r.chain_seq);
      const erased = r.erased_at != null;
      if (chainOf(r.entity_id) !== head.chain) {
        problem = { chain: head.chain, eventId: r.id, seq, problem: 'changed', detail: `the event names ${r.entity_id ? `entity ${r.entity_id}` : 'no entity'} but sits in this chain: it was edited` };
        break;
      }
      if (erased && !runs.erased.has(r.id)) {
        problem = { chain: head.chain, eventId: r.id, seq, problem: 'changed', detail: 'the event is marked erased but no erasure or retention run in the history names it: it was edited' };
        break;
      }
      // An erased row's personal data is no longer checked against its digest, so it must hold none.
      if (erased && !erasedRowIsEmpty(r)) {
        problem = { chain: head.chain, eventId: r.id, seq, problem: 'changed', detail: 'the event was erased but holds personal data or a payload again: it was edited' };
        break;
      }
      if (seq < expectedSeq) {
        problem = { chain: head.chain, eventId: r.id, seq, problem: 'inserted', detail: `a second event claims position ${seq}` };
        break;
      }
      if (seq > expectedSeq) {
        problem = { chain: head.chain, eventId: r.id, seq, problem: 'removed', detail: `position ${expectedSeq}${seq - expectedSeq > 1 ? `–${seq - 1}` : ''} is missing before this event` };
        break;
      }
      if (!storedContentOk(r)) {
        problem = {
          chain: head.chain,
          eventId: r.id,
          seq,
          problem: 'changed',
          detail: erased ? 'what the erased event keeps (type, entity, times) does not match its digest: it was edited' : 'the event\'s content does not match its digest: it was edited',
        };
        break;
      }
      if (r.prev_hash !== prev || !linkOk(r, prev, seq)) {
        problem = {
          chain: head.chain,
          eventId: r.id,
          seq,
          problem: r.prev_hash !== prev ? 'reordered' : 'changed',
          detail: r.prev_hash !== prev ? 'the event does not follow the one before it: events were reordered or replaced' : 'the event\'s link hash is wrong: it was edited',
        };
        break;
      }
      const recorded = Date.parse(r.recorded_at);
      if (recorded < latestRecorded - RECORDING_CLOCK_SLACK_MS) {
        problem = {
          chain: head.chain,
          eventId: r.id,
          seq,
          problem: 'inserted',
          detail: `the event says it was recorded at ${r.recorded_at}, before the event ahead of it in the chain (recorded at ${latestRecordedAt}): it was added later with a back-dated recording time`,
        };
        break;
      }
      if (recorded > latestRecorded) {
        latestRecorded = recorded;
        latestRecordedAt = r.recorded_at;
      }
      prev = r.hash!;
      if (saved && seq === saved.seq) savedLink = r.hash!;
      expectedSeq = seq + 1;
    }
    if (!problem && saved && savedLink !== saved.hash) {
      const at = rows.find((r) => Number(r.chain_seq) === saved.seq);
      problem = {
        chain: head.chain,
        eventId: at?.id ?? null,
        seq: saved.seq,
        problem: 'rewritten',
        detail: at
          ? `the checkpoint recorded a different link at position ${saved.seq}: the history up to it was rewritten (every link recomputed, so only the checkpoint shows it)`
          : `the checkpoint recorded ${saved.seq} events, ${expectedSeq - 1} are there: the history was rewritten or cut short`,
      };
    }
    if (!problem) problem = await checkSuppressions(db, head.chain, runs.suppressions);
    if (!problem && head.hash === null) {
      problem = { chain: head.chain, eventId: null, seq: expectedSeq, problem: 'head_missing', detail: `${expectedSeq - 1} events are in the chain but its head is gone: it was removed, and with it what the chain's length and last link should be` };
    }
    if (!problem && (Number(head.seq) !== expectedSeq - 1 || head.hash !== prev)) {
      problem = {
        chain: head.chain,
        eventId: null,
        seq: expectedSeq,
        problem: 'truncated',
        detail: `the chain's head says ${head.seq} events, ${expectedSeq - 1} are there: events were removed from the end`,
      };
    }
    if (problem) problems.push(problem);
    else if (expectedSeq > 1) intactHeads.push({ chain: head.chain, seq: expectedSeq - 1, hash: prev });
  }
  // A chain of the checkpoint with no event left at all: deleted whole, head and events.
  const present = new Set(heads.map((h) => h.chain));
  for (const c of checkpoints.values()) {
    if (present.has(c.chain)) continue;
    problems.push({ chain: c.chain, eventId: null, seq: c.seq, problem: 'rewritten', detail: `the checkpoint recorded ${c.seq} events in this chain, none are there: the chain was deleted` });
  }
  return { ok: problems.length === 0, chains: heads.length, events, problems, heads: intactHeads, checkpointChains: checkpoints.size };
}
