/**
 * The suppression list: what is left of a person after an erasure or the retention job removed
 * their data. Each entry holds a one-way hash of the E.164 number (HMAC-SHA256 with a server-side
 * pepper), the legal entity, why the number is refused (the person objected, withdrew consent, or
 * asked to be erased) and from when. The number itself cannot be read back from it; a decision
 * about the same number computes the same hash and finds the entry.
 *
 * The engine stays pure: an entry becomes an ordinary fact for that entity (an objection, or a
 * withdrawal of phone consent) dated when the person said it, so the rule packs refuse the call
 * exactly as they would have before the erasure, cite the same law rows, and a newer consent the
 * person gives afterwards still beats it.
 *
 * Each entry also keeps a 16-bit tag of the number keyed by the pepper (suppressionTag), so a bulk
 * scrub can pass over most rows without an HMAC each; it tells less than the hash beside it.
 *
 * The pepper comes from OPTLINE_SUPPRESSION_PEPPER (keep it outside the database: with the pepper
 * in the same dump, the small space of phone numbers can be searched). Without it, a random pepper
 * is generated once and kept in the store's `trust_settings` table, which still keeps numbers out
 * of the table but not from someone holding the whole database. Rotation: put the old value in
 * OPTLINE_SUPPRESSION_PEPPER_PREVIOUS (comma-separated); entries made under it keep matching.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { ConsentFact, EntityFact, ObjectionFact } from '../law/types.js';
import type { Store } from '../store/repository.js';
import type { Database, SuppressionsTable } from '../store/schema.js';
import { CannotDecideSafelyError } from './errors.js';

export const SUPPRESSION_REASONS = ['objection', 'withdrawal', 'erasure'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface Pepper {
  id: string;
  secret: string;
}

export interface SuppressionEntry {
  id: string;
  entityId: string;
  reason: SuppressionReason;
  /** A withdrawal of some products only: those; absent or empty: every call. */
  products?: string[];
  at: number;
  createdAt: number;
  eventId: string | null;
}

const PEPPER_SETTING = 'suppression_pepper';

export const pepperId = (secret: string): string => createHash('sha256').update(`optline-pepper|${secret}`).digest('hex').slice(0, 16);
export const phoneHash = (secret: string, e164: string): string => createHmac('sha256', secret).update(e164).digest('hex');

/** The two 32-bit keys of a pepper's tags (suppressionTag), derived from the pepper. */
export function tagSeed(secret: string): [number, number] {
  const d = createHmac('sha256', secret).update('optline suppression tag').digest();
  return [d.readInt32BE(0), d.readInt32BE(4)];
}

/**
 * A 16-bit tag of a number (its E.164 digits as a float64), keyed by the pepper (tagSeed). Kept
 * beside an entry's hash so that a bulk scrub can pass over the rows whose tag no entry has with a
 * few multiplications, instead of an HMAC per row (2.9 µs with node:crypto). It reveals less than
 * the hash beside it: 16 bits, shared by about one number in 65,536 of the same plan. -1 for a
 * number beyond 2^53, which a float does not hold exactly (the scrub checks those in full).
 */
export function suppressionTag(seed: readonly [number, number], num: number): number {
  if (!(num <= Number.MAX_SAFE_INTEGER) || num < 0) return -1;
  const hi = Math.floor(num / 4294967296);
  const lo = (num - hi * 4294967296) | 0;
  // murmur3's finaliser over both halves, each mixed with a key.
  let h = Math.imul(lo ^ seed[0], 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ hi ^ seed[1], 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 15;
  return h & 0xffff;
}

/** A stored entry as the engine's paths read it (single decisions, scrubs). */
export function entryOf(r: SuppressionsTable): SuppressionEntry {
  return {
    id: r.id,
    entityId: r.entity_id,
    reason: r.reason as SuppressionReason,
    products: productsOf(r),
    at: Date.parse(r.at),
    createdAt: Date.parse(r.created_at),
    eventId: r.event_id,
  };
}

/** The products a stored entry names (a partial withdrawal), or none. */
function productsOf(r: Pick<SuppressionsTable, 'products'>): string[] {
  if (!r.products) return [];
  try {
    const p = JSON.parse(r.products) as unknown;
    return Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** The fact the engine sees for an entry: an objection, or a withdrawal of phone consent. */
export function suppressionFact(e: SuppressionEntry): EntityFact {
  const id = `suppression:${e.id}`;
  if (e.reason === 'withdrawal') {
    const fact: ConsentFact = {
      type: 'consent',
      id,
      entityId: e.entityId,
      at: e.at,
      channel: 'phone',
      status: 'withdrawn',
      // As the withdrawal it replaces: some products, or none – every call.
      products: e.products ?? [],
      expiresAt: null,
      source: { method: 'import', bundled: false },
    };
    return fact;
  }
  const fact: ObjectionFact = { type: 'objection', id, entityId: e.entityId, at: e.at };
  return fact;
}

export class Suppressions {
  private readonly store: Store;
  private readonly env: NodeJS.ProcessEnv;
  private loaded: Promise<Pepper[]> | null = null;
  private peppersCheckedUntil = 0;
  private unknownPeppers: string[] = [];
  private checkingPeppers: Promise<void> | null = null;

  constructor(store: Store, env: NodeJS.ProcessEnv = process.env) {
    this.store = store;
    this.env = env;
  }

  /** The current pepper first, then earlier ones whose entries must still match. */
  peppers(): Promise<Pepper[]> {
    this.loaded ??= this.loadPeppers().catch((err: unknown) => {
      this.loaded = null;
      throw err;
    });
    return this.loaded;
  }

  private async loadPeppers(): Promise<Pepper[]> {
    const secrets: string[] = [];
    // The current pepper – the one set, else the one kept in the store – first; the previous ones
    // match entries and make none (a previous one must never become current: servers not yet
    // given it would miss the entries made under it).
    const configured = this.env.OPTLINE_SUPPRESSION_PEPPER?.trim();
    if (configured) secrets.push(configured);
    let stored = (await this.store.db.selectFrom('trust_settings').select('value').where('name', '=', PEPPER_SETTING).executeTakeFirst())?.value;
    if (!stored && !configured) {
      await sql`insert into trust_settings (name, value) values (${PEPPER_SETTING}, ${randomBytes(32).toString('base64url')}) on conflict (name) do nothing`.execute(this.store.db);
      stored = (await this.store.db.selectFrom('trust_settings').select('value').where('name', '=', PEPPER_SETTING).executeTakeFirstOrThrow()).value;
    }
    if (stored && !configured) secrets.push(stored);
    for (const s of (this.env.OPTLINE_SUPPRESSION_PEPPER_PREVIOUS ?? '').split(',')) if (s.trim()) secrets.push(s.trim());
    if (stored && configured) secrets.push(stored);
    return [...new Set(secrets)].map((secret) => ({ id: pepperId(secret), secret }));
  }

  /**
   * Refuses to go on when the list holds entries made under a pepper this process does not know –
   * another server given a new OPTLINE_SUPPRESSION_PEPPER first: they match no number here, so a
   * person erased there would be callable here. Looked up at most every 5 s (the list is small).
   */
  async requireKnownPeppers(): Promise<void> {
    if (Date.now() >= this.peppersCheckedUntil) {
      // One look at a time: the decisions arriving meanwhile wait for it rather than look too.
      this.checkingPeppers ??= this.findUnknownPeppers()
        .then((unknown) => {
          this.unknownPeppers = unknown;
          this.peppersCheckedUntil = Date.now() + 5_000;
        })
        .finally(() => (this.checkingPeppers = null));
      await this.checkingPeppers;
    }
    this.throwIfUnknown(this.unknownPeppers);
  }

  /** The same check on entries already read (the scrub reads them all): exact, at no cost. */
  async requireKnownPeppersOf(rows: ReadonlyArray<{ pepper_id: string }>): Promise<void> {
    const known = new Set((await this.peppers()).map((p) => p.id));
    this.throwIfUnknown([...new Set(rows.map((r) => r.pepper_id).filter((id) => !known.has(id)))]);
  }

  /**
   * Pepper ids on the list that are not this server's: the distinct ids walked through the index,
   * each the least one after the last (migration 0018) – one look-up a pepper in use, however long
   * the list. The database orders the walk itself, so its collation cannot skip an id.
   */
  private async findUnknownPeppers(): Promise<string[]> {
    const known = new Set((await this.peppers()).map((p) => p.id));
    const found: string[] = [];
    let last: string | null = null;
    // Pepper ids in use are a handful (the current one and those rotated out): the bound only guards.
    for (let i = 0; i < 1000; i++) {
      let q = this.store.db.selectFrom('suppressions').select((eb) => eb.fn.min('pepper_id').as('next'));
      if (last !== null) q = q.where('pepper_id', '>', last);
      const next: string | null = (await q.executeTakeFirst())?.next ?? null;
      if (next === null) break;
      if (!known.has(next)) found.push(next);
      last = next;
    }
    return found;
  }

  private throwIfUnknown(unknown: string[]): void {
    if (unknown.length > 0) {
      throw new CannotDecideSafelyError(
        `The suppression list holds entries made under a pepper this server does not know (${unknown.join(', ')}): a person erased through another server would be callable here. Give this server that pepper (OPTLINE_SUPPRESSION_PEPPER, or OPTLINE_SUPPRESSION_PEPPER_PREVIOUS) and restart it; see docs/trust.md on rotating the pepper.`,
      );
    }
  }

  /** Entries for a number (all entities, or those named), oldest first. */
  async entries(e164: string, entityIds?: string[]): Promise<SuppressionEntry[]> {
    await this.requireKnownPeppers();
    const hashes = (await this.peppers()).map((p) => phoneHash(p.secret, e164));
    let q = this.store.db.selectFrom('suppressions').selectAll().where('phone_hash', 'in', hashes);
    if (entityIds) {
      if (entityIds.length === 0) return [];
      q = q.where('entity_id', 'in', entityIds);
    }
    const rows = await q.orderBy('at').orderBy('id').execute();
    return rows.map(entryOf);
  }

  /**
   * When each number was erased for this entity at its holder's request (entries of reason
   * 'erasure'), for imports: a record dated before its number's erasure is the erased person's
   * data, which an old export must not bring back (GDPR art. 17). A function from a number to its
   * latest erasure, or null when the entity has none (nothing to check). Entries under a pepper
   * this process does not know stop it (requireKnownPeppers): their numbers could not be matched.
   */
  async erasures(entityId: string): Promise<((e164: string) => number | null) | null> {
    await this.requireKnownPeppers();
    const rows = await this.store.db.selectFrom('suppressions').select(['phone_hash', 'at']).where('entity_id', '=', entityId).where('reason', '=', 'erasure').execute();
    if (rows.length === 0) return null;
    const latest = new Map<string, number>();
    for (const r of rows) latest.set(r.phone_hash, Math.max(latest.get(r.phone_hash) ?? -Infinity, Date.parse(r.at)));
    const peppers = await this.peppers();
    return (e164) => {
      let at: number | null = null;
      for (const p of peppers) {
        const erased = latest.get(phoneHash(p.secret, e164));
        if (erased !== undefined && (at === null || erased > at)) at = erased;
      }
      return at;
    };
  }

  /**
   * When this number was last erased for this entity at its holder's request, or null: erasures
   * for one write (Optline.refuseErasedPast), where `erasures` serves a whole import. Most entities
   * have erased no one: that is one look in the index of migration 0022, with no hashing.
   */
  async erasedAt(entityId: string, e164: string): Promise<number | null> {
    const any = await this.store.db.selectFrom('suppressions').select('id').where('entity_id', '=', entityId).where('reason', '=', 'erasure').limit(1).executeTakeFirst();
    if (!any) return null;
    const erasures = (await this.entries(e164, [entityId])).filter((e) => e.reason === 'erasure');
    return erasures.length > 0 ? Math.max(...erasures.map((e) => e.at)) : null;
  }

  /** The facts the decision path adds for a number. */
  async factsFor(e164: string): Promise<EntityFact[]> {
    return (await this.entries(e164)).map(suppressionFact);
  }

  /**
   * The facts for many numbers at once, for bulk paths (scrubs) that read histories in batches
   * instead of through Optline.facts: merge each number's facts into its history before deciding.
   */
  async factsForMany(e164s: string[]): Promise<Map<string, EntityFact[]>> {
    const peppers = await this.peppers();
    const numberOf = new Map<string, string>();
    for (const e164 of e164s) for (const p of peppers) numberOf.set(phoneHash(p.secret, e164), e164);
    const hashes = [...numberOf.keys()];
    const out = new Map<string, EntityFact[]>();
    for (let i = 0; i < hashes.length; i += 500) {
      const rows = await this.store.db.selectFrom('suppressions').selectAll().where('phone_hash', 'in', hashes.slice(i, i + 500)).orderBy('at').orderBy('id').execute();
      for (const r of rows) {
        const e164 = numberOf.get(r.phone_hash)!;
        const list = out.get(e164) ?? [];
        list.push(suppressionFact(entryOf(r)));
        out.set(e164, list);
      }
    }
    return out;
  }

  /** A row to insert (inside the caller's transaction) under the current pepper. */
  async row(e164: string, entityId: string, reason: SuppressionReason, at: number, now: number, eventId: string | null, products: string[] = []): Promise<SuppressionsTable> {
    const [current] = await this.peppers();
    return {
      products: products.length > 0 ? JSON.stringify(products) : null,
      id: uuidv7(),
      phone_hash: phoneHash(current!.secret, e164),
      pepper_id: current!.id,
      tag: suppressionTag(tagSeed(current!.secret), Number(e164.slice(1))),
      entity_id: entityId,
      reason,
      at: new Date(at).toISOString(),
      created_at: new Date(now).toISOString(),
      event_id: eventId,
    };
  }

  /** Inserts rows, skipping any the number already has for that entity, reason and time. */
  static async insert(trx: Kysely<Database>, rows: SuppressionsTable[]): Promise<SuppressionsTable[]> {
    const added: SuppressionsTable[] = [];
    for (const r of rows) {
      const same = await trx
        .selectFrom('suppressions')
        .select('id')
        .where('phone_hash', '=', r.phone_hash)
        .where('entity_id', '=', r.entity_id)
        .where('reason', '=', r.reason)
        .where('at', '=', r.at)
        .executeTakeFirst();
      if (same) continue;
      await trx.insertInto('suppressions').values(r).execute();
      added.push(r);
    }
    return added;
  }
}
