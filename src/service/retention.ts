/**
 * Retention and erasure: personal data leaves the store when its term has run out (the retention
 * job) or when the person asks (a data-subject erasure request), while the refusal it carried
 * stays in force as a hashed suppression entry (src/service/suppression.ts).
 *
 * Both redact event rows in place rather than deleting them: phone, e-mail and payload are
 * replaced, `erased_at` is set, and the row keeps its position, link hash and stored content
 * digest, so the hash chain (src/store/chain.ts) still verifies. Each run or request is itself an
 * event in the entity's chain (`retention` / `erasure`) naming the erased event ids and counts
 * only – never the erased data; `verifyChains` refuses a redacted row that no such event names.
 *
 * Terms. A record is due when `term` months have passed since its last use:
 * - a consent: since it was given, or since the last call whose evidence names it (DE-4: proof is
 *   kept 5 years from the consent and again from each use);
 * - a contact request or a presumed-consent justification: likewise, from the last call using it;
 * - a customer relationship: from its end or the last call using it, and never while it still
 *   counts (end + the entity's relationship term); an ongoing relationship is never due;
 * - a call: from the call, and not while a record it rested on is kept (it is that record's use);
 * - an objection or a withdrawal: from when it was made; it is then replaced by a suppression
 *   entry, so the number stays refused without the number being kept;
 * - a decision (the audit line of a look-up): from when it was asked.
 * The term is the entity's setting for the called number's country, else the default below.
 */
import { v7 as uuidv7 } from 'uuid';
import { sql, type Kysely } from 'kysely';
import { JURISDICTIONS, type Entity, type Jurisdiction, type PhoneInfo, type RelationshipKind } from '../law/types.js';
import { addMonths } from '../law/time.js';
import { relationshipTermEnd } from '../law/nl.js';
import { ebrEndOf } from '../law/us.js';
import { tryParsePhone, parsePhone, InvalidPhoneNumberError, maskPhone } from '../phone/index.js';
import { ERASED_PAYLOAD, linkRows, lockChain, suppressionDigest } from '../store/chain.js';
import { emailMatches, erasedKeyTombstone, withRetry } from '../store/repository.js';
import type { Database, EventsTable, SuppressionsTable } from '../store/schema.js';
import { InputError } from './errors.js';
import type { Optline } from './optline.js';
import { Suppressions, type SuppressionReason } from './suppression.js';

export interface RetentionDefault {
  months: number;
  /** The law row that sets it, or null for a product default. */
  rule: string | null;
  note: string;
}

/** Months after last use, per called country, where the entity sets nothing. */
export const RETENTION_DEFAULTS: Record<Jurisdiction, RetentionDefault> = {
  DE: { months: 60, rule: 'DE-4', note: '§7a UWG: proof of consent is kept 5 years from the consent and from each use' },
  NL: { months: 60, rule: null, note: 'product default: law/nl.md sets no term; kept as long as the German proof term' },
  GB: { months: 60, rule: null, note: 'product default: law/gb.md sets no term' },
  US: { months: 60, rule: null, note: 'product default: law/us.md sets no term' },
};

/** Terms the law sets: an erasure request with keepRequiredProof holds records still inside them. */
const STATUTORY: Partial<Record<Jurisdiction, true>> = { DE: true };

/** Event types that hold personal data and fall under retention. */
export const RETAINED_TYPES = ['consent', 'call', 'relationship', 'contact_request', 'presumed_consent', 'objection'] as const;

export { ERASED_PAYLOAD };

export function termMonths(entity: Pick<Entity, 'retention'>, country: Jurisdiction): number {
  return entity.retention?.[country]?.months ?? RETENTION_DEFAULTS[country].months;
}

export function effectiveTerms(entity: Pick<Entity, 'retention'>): Record<Jurisdiction, number> {
  return Object.fromEntries(JURISDICTIONS.map((c) => [c, termMonths(entity, c)])) as Record<Jurisdiction, number>;
}

const isJurisdiction = (c: string | null | undefined): c is Jurisdiction => c != null && (JURISDICTIONS as readonly string[]).includes(c);

/** A row's number as read, once per number; null for none or one that cannot be read. */
function phoneOf(phone: string | null, cache: Map<string, PhoneInfo | null>): PhoneInfo | null {
  if (!phone) return null;
  let info = cache.get(phone);
  if (info === undefined) {
    info = tryParsePhone(phone);
    cache.set(phone, info);
  }
  return info;
}

/** The law of the called number's country, or the entity's country for rows without a number. */
function countryOf(phone: string | null, entity: Entity, cache: Map<string, PhoneInfo | null>): Jurisdiction {
  const info = phoneOf(phone, cache);
  return isJurisdiction(info?.country) ? info.country : entity.country;
}

type Row = Pick<EventsTable, 'id' | 'type' | 'phone' | 'email' | 'at' | 'payload'>;

export interface Assessment {
  eventId: string;
  type: string;
  country: Jurisdiction;
  months: number;
  /** When the term started: the last use, the end of a relationship, the objection … (null: ongoing). */
  lastUse: number | null;
  /** When it is due (null: not while the relationship goes on). */
  dueAt: number | null;
  due: boolean;
  /** Objections and phone withdrawals leave a suppression entry. */
  suppress: SuppressionReason | null;
  /** A withdrawal of some products only: those (its suppression entry names them). */
  products: string[];
  /** A call: the events it lawfully used (its evidence; none for a call made although refused). */
  uses: string[];
  phone: string | null;
}

/**
 * Decides for each row of one entity whether it is due at `now`. Pure: the rows and the entity in,
 * an assessment per row out.
 */
export function assess(entity: Entity, rows: Row[], now: number): Assessment[] {
  const phones = new Map<string, PhoneInfo | null>();
  const payloads = new Map<string, Record<string, unknown>>();
  const payload = (r: Row) => {
    let p = payloads.get(r.id);
    if (!p) {
      try {
        p = JSON.parse(r.payload) as Record<string, unknown>;
      } catch {
        p = {};
      }
      payloads.set(r.id, p);
    }
    return p;
  };
  // The events each call lawfully used: its evidence names the events its basis rested on; a call
  // made although refused used none (DE-4 counts lawful uses).
  const usesOf = (r: Row): string[] => {
    const evidence = payload(r).evidence;
    return payload(r).allowed === false || !Array.isArray(evidence) ? [] : evidence.filter((x): x is string => typeof x === 'string');
  };
  // The last call that used each record.
  const lastCall = new Map<string, number>();
  for (const r of rows) {
    if (r.type !== 'call') continue;
    const at = Date.parse(r.at);
    for (const id of usesOf(r)) lastCall.set(id, Math.max(lastCall.get(id) ?? -Infinity, at));
  }
  const out = new Map<string, Assessment>();
  const calls: Row[] = [];
  for (const r of rows) {
    if (r.type === 'call') {
      calls.push(r);
      continue;
    }
    const country = countryOf(r.phone, entity, phones);
    const months = termMonths(entity, country);
    const at = Date.parse(r.at);
    const p = payload(r);
    let lastUse: number | null = Math.max(at, lastCall.get(r.id) ?? -Infinity);
    let dueAt: number | null = null;
    let suppress: SuppressionReason | null = null;
    let products: string[] = [];
    if (r.type === 'objection') {
      lastUse = at;
      suppress = r.phone ? 'objection' : null;
    } else if (r.type === 'consent' && p.status === 'withdrawn') {
      lastUse = at;
      suppress = r.phone && p.channel === 'phone' ? 'withdrawal' : null;
      products = Array.isArray(p.products) ? p.products.filter((x): x is string => typeof x === 'string') : [];
    } else if (r.type === 'relationship') {
      const ended = typeof p.endedAt === 'number' ? p.endedAt : null;
      if (ended === null) lastUse = null;
      else {
        lastUse = Math.max(ended, lastCall.get(r.id) ?? -Infinity);
        // The term as NL-5 counts it (months on Amsterdam's calendar) and in UTC, whichever ends
        // later: months added in UTC end a day early for an end at Amsterdam midnight.
        // For a US number, not before its EBR ends (US-3: 18 months, whatever the entity's settings).
        const ebr = country === 'US' ? (ebrEndOf({ kind: p.kind as RelationshipKind, startedAt: at, endedAt: ended }, { phone: { timeZones: phoneOf(r.phone, phones)?.timeZones ?? [] }, at: now }) ?? 0) : 0;
        const term = Math.max(addMonths(ended, entity.relationshipTermMonths), relationshipTermEnd(ended, entity.relationshipTermMonths), ebr);
        dueAt = Math.max(addMonths(lastUse, months), term);
      }
    }
    if (lastUse !== null && dueAt === null) dueAt = addMonths(lastUse, months);
    out.set(r.id, { eventId: r.id, type: r.type, country, months, lastUse, dueAt, due: dueAt !== null && dueAt <= now, suppress, products, uses: [], phone: r.phone });
  }
  for (const r of calls) {
    const country = countryOf(r.phone, entity, phones);
    const months = termMonths(entity, country);
    const at = Date.parse(r.at);
    let dueAt = addMonths(at, months);
    // A call is the proof of a use: it stays while a record it rested on stays.
    for (const id of (payload(r).evidence as string[] | undefined) ?? []) {
      const used = out.get(id);
      if (used && !used.due) dueAt = Math.max(dueAt, used.dueAt ?? Infinity);
    }
    out.set(r.id, { eventId: r.id, type: 'call', country, months, lastUse: at, dueAt: Number.isFinite(dueAt) ? dueAt : null, due: Number.isFinite(dueAt) && dueAt <= now, suppress: null, products: [], uses: usesOf(r), phone: r.phone });
  }
  return rows.map((r) => out.get(r.id)!);
}

// ---- redaction ---------------------------------------------------------------------------------

interface RedactionPlan {
  entityId: string;
  /**
   * For an erasure: the person's rows the plan was made from (erased or held). Checked again with
   * the entity's chain locked: a row written meanwhile means planning again (see Replan).
   */
  covers?: { phone: string | null; email: string | null; rows: Set<string> };
  eventIds: string[];
  suppressions: Array<{ phone: string; reason: SuppressionReason; at: number; products?: string[] }>;
  /** Decisions to redact: by id. */
  decisionIds: string[];
  /** Idempotency answers that quote the number. */
  idempotencyPhone?: string;
  eventType: 'retention' | 'erasure';
  /** Non-personal facts about the run or request for the history. */
  details: Record<string, unknown>;
}

interface RedactionResult {
  eventIds: string[];
  /** The decisions redacted. */
  decisions: number;
  suppressions: SuppressionsTable[];
}

const chunks = <T>(xs: T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

/** Every string value in a stored answer's JSON (none if it is not JSON). */
function stringsIn(json: string): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') found.add(v);
    else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  try {
    walk(JSON.parse(json));
  } catch {
    // not JSON: it quotes nothing
  }
  return found;
}

/** A stored decision stripped of everything that could point to the person. */
export function redactedDecision(responseJson: string): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(responseJson) as Record<string, unknown>;
  } catch {
    r = {};
  }
  const reasons = Array.isArray(r.reasons) ? (r.reasons as Array<Record<string, unknown>>) : [];
  return JSON.stringify({
    ...r,
    phone: null,
    reasons: reasons.map((x) => ({ code: x.code, rule: x.rule, passed: x.passed, detail: 'erased' })),
    erased: true,
  });
}

/**
 * The kept Idempotency-Key answers that quote the number and the entity, compared exactly: LIKE
 * narrows by the number (E.164: digits, nothing LIKE reads as a pattern), but it would match an
 * entity id ignoring case on SQLite only, and read its % and _ as patterns.
 */
async function answersQuoting(db: Kysely<Database>, phone: string, entityId: string): Promise<Array<{ scope: string; key: string }>> {
  const quoting = await db.selectFrom('idempotency').select(['scope', 'key', 'body']).where('body', 'like', `%"${phone}"%`).execute();
  return quoting.filter((a) => {
    const quoted = stringsIn(a.body);
    return quoted.has(phone) && quoted.has(entityId);
  });
}

/** Drops kept answers, each leaving a tombstone for a day: a retry after the erasure is answered 410, not recorded again with the number. */
async function dropAnswers(db: Kysely<Database>, answers: Array<{ scope: string; key: string }>, pepper: string, nowIso: string): Promise<void> {
  for (const a of answers) {
    await db.deleteFrom('idempotency').where('scope', '=', a.scope).where('key', '=', a.key).execute();
    const tombstone = { scope: a.scope, key: erasedKeyTombstone(pepper, a.key), request_hash: '', status: 410, body: ERASED_PAYLOAD, created_at: nowIso };
    await db.insertInto('idempotency').values(tombstone).onConflict((oc) => oc.columns(['scope', 'key']).doNothing()).execute();
  }
}

/**
 * What requests answered while an erasure ran wrote after it – decisions logged once answered (on
 * this server or another), answers kept for an Idempotency-Key replay – swept up for the number
 * and the erased entities.
 */
async function sweepLateWrites(app: Optline, e164: string, entityIds: string[]): Promise<void> {
  await app.decisions.flush();
  const late = await app.store.db.selectFrom('decisions').select('id').where('phone', '=', e164).where('entity_id', 'in', entityIds).execute();
  if (late.length > 0) await withRetry(() => app.store.db.transaction().execute((trx) => redactDecisions(trx, late.map((d) => d.id))));
  const pepper = (await app.suppressions.peppers())[0]!.secret;
  const nowIso = new Date(app.clock()).toISOString();
  for (const entityId of entityIds) {
    const answers = await answersQuoting(app.store.db, e164, entityId);
    if (answers.length > 0) await withRetry(() => app.store.db.transaction().execute((trx) => dropAnswers(trx, answers, pepper, nowIso)));
  }
}

/** How long after an erasure its late writes are swept up once more: requests then in flight on other servers. */
const LATE_SWEEP_MS = 5_000;

/** Redacts decisions (the audit lines of look-ups) by id. */
async function redactDecisions(trx: Kysely<Database>, ids: string[]): Promise<void> {
  for (const part of chunks(ids, 200)) {
    const rows = await trx.selectFrom('decisions').select(['id', 'response']).where('id', 'in', part).execute();
    for (const d of rows) {
      await trx.updateTable('decisions').set({ phone: null, request: ERASED_PAYLOAD, response: redactedDecision(d.response) }).where('id', '=', d.id).execute();
    }
  }
}

/** An event of the person was written while an erasure was being planned: plan again. */
class Replan extends Error {}

/** Redacts one entity's rows, adds the suppression entries and the history event, in one transaction. */
async function redact(app: Optline, plan: RedactionPlan, keyId: string | null): Promise<RedactionResult> {
  const now = app.clock();
  const nowIso = new Date(now).toISOString();
  const firstEventId = uuidv7();
  const suppressionRows = await Promise.all(plan.suppressions.map((s) => app.suppressions.row(s.phone, plan.entityId, s.reason, s.at, now, firstEventId, s.products)));
  const pepper = (await app.suppressions.peppers())[0]!.secret;
  return withRetry(() =>
    app.store.db.transaction().execute(async (trx) => {
      // From here on no event of the entity can be written until this commits.
      await lockChain(trx as Kysely<Database>, plan.entityId);
      // Recorded now, with the chain locked: after every event already in it (verify reports an
      // event recorded well before the one ahead of it as back-dated; the lock may have been waited for).
      const recordedIso = new Date(Math.max(app.clock(), now)).toISOString();
      if (plan.covers) {
        const { phone, email, rows } = plan.covers;
        const current = await trx
          .selectFrom('events')
          .select('id')
          .where('entity_id', '=', plan.entityId)
          .where('erased_at', 'is', null)
          .where((eb) => eb.or([...(phone ? [eb('phone', '=', phone)] : []), ...(email ? [emailMatches(eb, email)] : [])]))
          .execute();
        if (current.some((r) => !rows.has(r.id))) throw new Replan();
        // Decisions about the number logged since the plan was made go too.
        if (phone) {
          const logged = await trx.selectFrom('decisions').select('id').where('phone', '=', phone).where('entity_id', '=', plan.entityId).execute();
          plan = { ...plan, decisionIds: [...new Set([...plan.decisionIds, ...logged.map((d) => d.id)])] };
        }
      }
      const added = await Suppressions.insert(trx, suppressionRows);
      for (const ids of chunks(plan.eventIds, 500)) {
        await trx.updateTable('events').set({ phone: null, email: null, payload: ERASED_PAYLOAD, salt: null, erased_at: nowIso }).where('id', 'in', ids).where('erased_at', 'is', null).execute();
      }
      await redactDecisions(trx as Kysely<Database>, plan.decisionIds);
      // The answers kept for a replay of the requests that wrote these events: their request
      // hashes digest the request body, number included (guessable like an unsalted digest).
      // One scan of the short answers ({"id":…}) – the table has no index on the answer – then
      // deletes by key.
      // Each dropped answer leaves a tombstone for a day (as long as answers are kept): a retry
      // sent after the erasure is answered 410, not recorded again with the number.
      const dropped: Array<{ scope: string; key: string }> = [];
      if (plan.eventIds.length > 0) {
        const erased = new Set(plan.eventIds.map((id) => JSON.stringify({ id })));
        const answers = await trx.selectFrom('idempotency').select(['scope', 'key', 'body']).where('body', 'like', '{"id":%').execute();
        for (const a of answers) if (erased.has(a.body)) dropped.push(a);
      }
      if (plan.idempotencyPhone) dropped.push(...(await answersQuoting(trx as Kysely<Database>, plan.idempotencyPhone, plan.entityId)));
      await dropAnswers(trx as Kysely<Database>, dropped, pepper, nowIso);
      // The history names what was erased (ids and counts), never the erased content.
      const parts = plan.eventIds.length > 0 ? chunks(plan.eventIds, 1000) : [[]];
      const events = parts.map((erased, i) => ({
        id: i === 0 ? firstEventId : uuidv7(),
        type: plan.eventType,
        entity_id: plan.entityId,
        phone: null,
        email: null,
        at: nowIso,
        recorded_at: recordedIso,
        payload: JSON.stringify({
          ...plan.details,
          part: parts.length > 1 ? `${i + 1}/${parts.length}` : undefined,
          erased,
          decisions: i === 0 ? plan.decisionIds.length : 0,
          suppressions: i === 0 ? added.map((s) => ({ id: s.id, reason: s.reason, at: s.at, digest: suppressionDigest(s) })) : [],
        }),
        key_id: keyId,
      }));
      await trx.insertInto('events').values(await linkRows(trx as Kysely<Database>, events)).execute();
      return { eventIds: events.map((e) => e.id), suppressions: added, decisions: plan.decisionIds.length };
    }),
  );
}

// ---- the retention job -------------------------------------------------------------------------

export interface RetentionItem {
  eventId: string;
  type: string;
  country: Jurisdiction;
  months: number;
  lastUse: string | null;
  dueAt: string | null;
}

export interface EntityRetention {
  entityId: string;
  months: Record<Jurisdiction, number>;
  /** Due event rows by type. */
  events: Record<string, number>;
  suppressions: number;
  decisions: number;
  /** The due rows (at most 500 listed). */
  items: RetentionItem[];
  /** The history events that record the run (empty on a dry run). */
  recordedAs: string[];
}

export interface RetentionReport {
  dryRun: boolean;
  at: string;
  entities: EntityRetention[];
  totals: { events: number; suppressions: number; decisions: number };
}

const MAX_ITEMS = 500;

/**
 * Finds and (unless dryRun) redacts everything past its term for the given entities (all when
 * entityIds is '*'). Each entity is done in its own transaction.
 */
export async function runRetention(app: Optline, opts: { entityIds: string[] | '*'; dryRun: boolean; keyId?: string | null }): Promise<RetentionReport> {
  const now = app.clock();
  await app.decisions.flush();
  const all = await app.store.listEntities();
  const entities = opts.entityIds === '*' ? all : all.filter((e) => (opts.entityIds as string[]).includes(e.id));
  const report: RetentionReport = { dryRun: opts.dryRun, at: new Date(now).toISOString(), entities: [], totals: { events: 0, suppressions: 0, decisions: 0 } };
  for (const entity of entities) {
    const rows = await app.store.db
      .selectFrom('events')
      .select(['id', 'type', 'phone', 'email', 'at', 'payload'])
      .where('entity_id', '=', entity.id)
      .where('erased_at', 'is', null)
      .where('type', 'in', [...RETAINED_TYPES])
      .orderBy('at')
      .orderBy('id')
      .execute();
    const due = assess(entity, rows, now).filter((a) => a.due);
    const decisionIds = await dueDecisions(app, entity, now);
    const suppressions = due.filter((a) => a.suppress && a.phone).map((a) => ({ phone: a.phone!, reason: a.suppress!, at: a.lastUse!, products: a.products }));
    const byType: Record<string, number> = {};
    for (const a of due) byType[a.type] = (byType[a.type] ?? 0) + 1;
    const months = effectiveTerms(entity);
    const entry: EntityRetention = {
      entityId: entity.id,
      months,
      events: byType,
      suppressions: suppressions.length,
      decisions: decisionIds.length,
      items: due.slice(0, MAX_ITEMS).map((a) => ({
        eventId: a.eventId,
        type: a.type,
        country: a.country,
        months: a.months,
        lastUse: a.lastUse != null ? new Date(a.lastUse).toISOString() : null,
        dueAt: a.dueAt != null ? new Date(a.dueAt).toISOString() : null,
      })),
      recordedAs: [],
    };
    if (!opts.dryRun && (due.length > 0 || decisionIds.length > 0)) {
      const r = await redact(
        app,
        {
          entityId: entity.id,
          eventIds: due.map((a) => a.eventId),
          suppressions,
          decisionIds,
          eventType: 'retention',
          details: { run: uuidv7(), months, rules: Object.fromEntries(JURISDICTIONS.map((c) => [c, entity.retention?.[c] ? 'entity setting' : (RETENTION_DEFAULTS[c].rule ?? 'default')])) },
        },
        opts.keyId ?? null,
      );
      entry.recordedAs = r.eventIds;
      entry.suppressions = r.suppressions.length;
    }
    report.entities.push(entry);
    report.totals.events += due.length;
    report.totals.suppressions += entry.suppressions;
    report.totals.decisions += decisionIds.length;
  }
  // Answers kept for Idempotency-Key replays serve retries of a few minutes; after a day they are
  // personal data (a digest of the request) kept for nothing.
  if (!opts.dryRun) await app.store.db.deleteFrom('idempotency').where('created_at', '<', new Date(now - IDEMPOTENCY_KEEP_MS).toISOString()).execute();
  return report;
}

export const IDEMPOTENCY_KEEP_MS = 24 * 3600_000;

/** Decisions of an entity whose audit term has run out (from when they were asked). */
async function dueDecisions(app: Optline, entity: Entity, now: number): Promise<string[]> {
  const shortest = Math.min(...Object.values(effectiveTerms(entity)));
  const rows = await app.store.db
    .selectFrom('decisions')
    .select(['id', 'phone', 'recorded_at'])
    .where('entity_id', '=', entity.id)
    .where('request', '!=', ERASED_PAYLOAD)
    .where('recorded_at', '<=', new Date(addMonths(now, -shortest)).toISOString())
    .execute();
  const phones = new Map<string, PhoneInfo | null>();
  return rows.filter((d) => addMonths(Date.parse(d.recorded_at), termMonths(entity, countryOf(d.phone, entity, phones))) <= now).map((d) => d.id);
}

// ---- data-subject erasure ----------------------------------------------------------------------

export interface ErasureRequest {
  phone?: string | null;
  email?: string | null;
  /** Only this entity's records; absent: every entity the caller may act for. */
  entityId?: string | null;
  /** The entities the caller may act for ('*': all). */
  scope: string[] | '*';
  /** Also refuse calls from now on, as if the person objected (default true). */
  suppress?: boolean;
  /**
   * Keep consents (with their withdrawals and uses) still inside a term the law sets (DE-4), and say
   * until when. Default true: erasing them breaks §7a UWG, and GDPR Art. 17(3)(b) exempts them.
   */
  keepRequiredProof?: boolean;
  /** A case reference of the request (no personal data). */
  reference?: string | null;
  keyId?: string | null;
}

export interface ErasureResult {
  erasureId: string;
  phone: string | null;
  at: string;
  entities: Array<{
    entityId: string;
    events: number;
    decisions: number;
    suppressions: Array<{ id: string; reason: string; at: string }>;
    held: Array<{ eventId: string; type: string; until: string | null; rule: string }>;
    recordedAs: string[];
  }>;
}

export async function eraseSubject(app: Optline, req: ErasureRequest): Promise<ErasureResult> {
  if (!req.phone && !req.email) throw new InputError('Name the phone number (or e-mail address) to erase.', [{ path: 'phone', message: 'required' }]);
  const inScope = (id: string) => req.scope === '*' || req.scope.includes(id);
  const named = req.entityId ? await app.requireEntity(req.entityId) : null;
  let e164: string | null = null;
  if (req.phone) {
    try {
      e164 = parsePhone(req.phone, named?.country).e164;
    } catch (err) {
      if (err instanceof InvalidPhoneNumberError) throw new InputError(err.message, [{ path: 'phone', message: err.message }]);
      throw err;
    }
  }
  const now = app.clock();
  const erasureId = uuidv7();
  // Decisions still queued in memory would otherwise be written after the erasure, number and all.
  await app.decisions.flush();
  let q = app.store.db
    .selectFrom('events')
    .select(['id', 'type', 'entity_id', 'phone', 'email', 'at', 'payload'])
    .where('erased_at', 'is', null)
    .where('entity_id', 'is not', null)
    .where((eb) => {
      const ors = [];
      if (e164) ors.push(eb('phone', '=', e164));
      if (req.email) ors.push(emailMatches(eb, req.email));
      return eb.or(ors);
    });
  if (named) q = q.where('entity_id', '=', named.id);
  const rows = (await q.orderBy('at').orderBy('id').execute()).filter((r) => inScope(r.entity_id!));
  // The entities that hold anything of the person: events, or only decisions about the number
  // (asked before any event was recorded) – those must be redacted too.
  const decidedBy = e164 && !named ? (await app.store.db.selectFrom('decisions').select('entity_id').distinct().where('phone', '=', e164).execute()).map((d) => d.entity_id).filter(inScope) : [];
  const entityIds = [...new Set([...(named ? [named.id] : []), ...rows.map((r) => r.entity_id!), ...decidedBy])];
  const result: ErasureResult = { erasureId, phone: e164 ? maskPhone(e164) : null, at: new Date(now).toISOString(), entities: [] };
  // One entity's part of the request, planned from `own` (its rows of the person) and carried out;
  // planned again from a fresh read when an event of the person was written meanwhile.
  const eraseFor = async (entity: Entity, own: typeof rows): Promise<ErasureResult['entities'][number]> => {
    const entityId = entity.id;
    const held = new Map<string, { until: number | null; rule: string }>();
    if (req.keepRequiredProof !== false) {
      const retained = own.filter((r) => (RETAINED_TYPES as readonly string[]).includes(r.type));
      const assessed = assess(entity, retained, now);
      const keep = (a: Assessment) => held.set(a.eventId, { until: a.dueAt, rule: RETENTION_DEFAULTS[a.country].rule ?? a.country });
      for (const a of assessed) if (a.type === 'consent' && !a.due && STATUTORY[a.country] && !a.suppress) keep(a);
      // A call is kept only as a lawful use of a kept consent (DE-4 asks proof of consent, not of
      // calls; a call made although refused is no use of it).
      for (const a of assessed) if (a.type === 'call' && !a.due && STATUTORY[a.country] && a.uses.some((used) => held.has(used))) keep(a);
      // A held consent's withdrawal is part of its proof (records.md: how and when it was
      // withdrawn): held as long as the consent it ends, else the kept consent reads as never withdrawn.
      const atOf = new Map(retained.map((r) => [r.id, Date.parse(r.at)]));
      for (const w of assessed) {
        if (w.suppress !== 'withdrawal') continue;
        const ended = assessed.filter((c) => c.type === 'consent' && !c.suppress && held.has(c.eventId) && atOf.get(c.eventId)! <= atOf.get(w.eventId)!);
        if (ended.length === 0) continue;
        // As long as the consents it ends, and never less than its own term (retention goes by that).
        const until = ended.some((c) => c.dueAt === null) || w.dueAt === null ? null : Math.max(w.dueAt, ...ended.map((c) => c.dueAt!));
        held.set(w.eventId, { until, rule: held.get(ended[0]!.eventId)!.rule });
      }
    }
    const erase = own.filter((r) => !held.has(r.id));
    const suppressions: RedactionPlan['suppressions'] = [];
    // Every number whose "do not call" goes with the erased events stays suppressed: the number
    // named, or – erasing by e-mail address – the numbers on the erased objections and withdrawals
    // (else erasing the address would make a number callable again that its owner had refused).
    // Which rows are such a "do not call", and of which products, assess says, as for retention.
    const refusals = assess(entity, erase, now).filter((a) => a.suppress !== null && a.phone !== null && (e164 === null || a.phone === e164));
    for (const phone of new Set(refusals.map((a) => a.phone!))) {
      const mine = refusals.filter((a) => a.phone === phone);
      const objectedAt = mine.filter((a) => a.suppress === 'objection').reduce<number | null>((m, a) => Math.max(m ?? -Infinity, a.lastUse!), null);
      if (objectedAt !== null) suppressions.push({ phone, reason: 'objection', at: objectedAt });
      // Each phone withdrawal as it was: of some products only, or of every call (the latest of
      // them alone could be a partial one that leaves an earlier full one out).
      for (const w of mine.filter((a) => a.suppress === 'withdrawal')) suppressions.push({ phone, reason: 'withdrawal', at: w.lastUse!, products: w.products });
    }
    if (e164 && req.suppress !== false) suppressions.push({ phone: e164, reason: 'erasure', at: now });
    const decisionIds = e164
      ? (await app.store.db.selectFrom('decisions').select('id').where('phone', '=', e164).where('entity_id', '=', entityId).execute()).map((d) => d.id)
      : [];
    const r = await redact(
      app,
      {
        entityId,
        covers: { phone: e164, email: req.email ?? null, rows: new Set(own.map((x) => x.id)) },
        eventIds: erase.map((x) => x.id),
        suppressions,
        decisionIds,
        idempotencyPhone: e164 ?? undefined,
        eventType: 'erasure',
        details: { request: erasureId, reference: req.reference ?? null, held: [...held.keys()] },
      },
      req.keyId ?? null,
    );
    return {
      entityId,
      events: erase.length,
      decisions: r.decisions,
      suppressions: r.suppressions.map((s) => ({ id: s.id, reason: s.reason, at: s.at })),
      held: [...held.entries()].map(([eventId, h]) => ({ eventId, type: own.find((x) => x.id === eventId)!.type, until: h.until != null ? new Date(h.until).toISOString() : null, rule: h.rule })),
      recordedAs: r.eventIds,
    };
  };
  // The clean-up below is for what was erased: it runs even when a later entity's part fails.
  let failure: unknown = null;
  for (const entityId of entityIds) {
    const entity = (await app.entity(entityId))!;
    let own = rows.filter((r) => r.entity_id === entityId);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          result.entities.push(await eraseFor(entity, own));
          break;
        } catch (err) {
          if (!(err instanceof Replan)) throw err;
          if (attempt >= 5) {
            const done = result.entities.map((x) => x.entityId);
            throw new InputError(
              `Events of this person keep being recorded for ${entityId} while the erasure runs; nothing was erased for it${done.length ? ` (it is done for ${done.join(', ')})` : ''}. Send the request again.`,
              [],
              409,
            );
          }
          await app.decisions.flush();
          own = await q.where('entity_id', '=', entityId).orderBy('at').orderBy('id').execute();
        }
      }
    } catch (err) {
      failure = err;
      break;
    }
  }
  if (entityIds.length === 0 && !failure) {
    // Nothing on record for an entity the caller may act for: the request is still on file.
    const nowIso = new Date(now).toISOString();
    const row = { id: uuidv7(), type: 'erasure', entity_id: null, phone: null, email: null, at: nowIso, recorded_at: nowIso, payload: JSON.stringify({ request: erasureId, reference: req.reference ?? null, erased: [], decisions: 0, suppressions: [] }), key_id: req.keyId ?? null };
    await withRetry(() => app.store.db.transaction().execute(async (trx) => {
      await trx.insertInto('events').values(await linkRows(trx, [row])).execute();
    }));
  }
  // A decision being answered while the erasure ran is logged once answered – after it, with the
  // number – and an answer kept for its Idempotency-Key likewise: swept up now, and once more a few
  // seconds later for requests then in flight on other servers (best effort: a server that stops
  // meanwhile leaves that second sweep undone).
  if (e164 && result.entities.length > 0) {
    const entityIds = result.entities.map((x) => x.entityId);
    // A failure here is reported, after the kept scrub files below are dealt with all the same.
    await sweepLateWrites(app, e164, entityIds).catch((err: unknown) => (failure ??= err));
    setTimeout(
      () =>
        void sweepLateWrites(app, e164, entityIds)
          .then(() => (app.store.kind === 'sqlite' ? sql`pragma wal_checkpoint(TRUNCATE)`.execute(app.store.db) : undefined))
          .catch(() => undefined),
      LATE_SWEEP_MS,
    ).unref();
  }
  // After a failure, only for the entities whose part was erased (the others' are not).
  const erasedFor = (id: string) => (failure ? result.entities.some((x) => x.entityId === id) : named ? id === named.id : inScope(id));
  if (e164 && (result.entities.length > 0 || !failure)) await app.afterErasure({ e164, inScope: erasedFor }).catch((err: unknown) => (failure ??= err));
  if (app.store.kind === 'sqlite' && result.entities.length > 0) {
    // The erased content's old page images stay in the WAL file until it is reused: write them
    // into the database (where secure_delete zeroed the old content) and empty the WAL. Best
    // effort – a reader holding the WAL open (a scrub) keeps it for now; the next checkpoint
    // overwrites it.
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(app.store.db).catch(() => undefined);
  }
  if (failure) throw failure;
  return result;
}
