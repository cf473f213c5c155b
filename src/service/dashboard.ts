import { DateTime } from 'luxon';
import { sql } from 'kysely';
import type { Basis, Denial, Entity, Jurisdiction, Reason, RelationshipKind } from '../law/types.js';
import { NL_RULES, relationshipBasisEnd } from '../law/nl.js';
import { ebrEndOf } from '../law/us.js';
import { COUNTRY_ZONES } from '../law/calling-hours.js';
import { isoDay, startOfDay } from '../law/time.js';
import { tryParsePhone } from '../phone/index.js';
import type { Optline } from './optline.js';

/**
 * The supervisor dashboard's figures, computed from the store: consents per week, decisions by
 * basis and denial, customer relationships about to expire, and what a dated change of law does
 * to the numbers an entity may call (by running the real engine, without recording decisions).
 */

/**
 * The zone an entity's weeks and days are counted in: its country's zone, and for the US (many
 * zones) Eastern time, where its federal rules are dated.
 */
export const zoneOf = (country: Jurisdiction): string => COUNTRY_ZONES[country][0] ?? 'America/New_York';

const CHANNELS = ['phone', 'email', 'sms'] as const;
type ChannelCounts = Record<(typeof CHANNELS)[number], number>;
const zeroChannels = (): ChannelCounts => ({ phone: 0, email: 0, sms: 0 });

export interface DashboardStats {
  entityId: string;
  generatedAt: string;
  timeZone: string;
  consentsByWeek: Array<{ week: string; weekStart: string; given: ChannelCounts; withdrawn: ChannelCounts }>;
  decisions: {
    since: string;
    total: number;
    allowed: number;
    denied: number;
    byBasis: Array<{ basis: string; count: number }>;
    byDenial: Array<{ denial: string; count: number }>;
  };
  expiringRelationships: {
    days: number;
    total: number;
    items: Array<{ id: string; phone: string; kind: string; productCategory: string; endedAt: string; expiresAt: string; daysLeft: number }>;
  };
  calls: CallActivity;
}

/** Calls recorded in the last `days` days: who made them, and those made although refused. */
export interface CallActivity {
  since: string;
  total: number;
  /** Calls made although the decision for their moment refused them. */
  refused: number;
  /** Per agent (null: calls recorded without an agent ID), with the phone opt-ins each recorded. */
  byAgent: Array<{ agentId: string | null; calls: number; refused: number; optIns: number }>;
  /** The refused calls, newest first (at most 200). */
  refusedItems: Array<{ id: string; phone: string | null; at: string; agentId: string | null; decisionId: string | null; denials: string[]; allowedAtCheck: boolean }>;
}

const isoWeek = (d: DateTime): string => `${d.weekYear}-W${String(d.weekNumber).padStart(2, '0')}`;

export async function dashboardStats(app: Optline, entity: Entity, opts: { weeks: number; days: number }): Promise<DashboardStats> {
  const now = app.clock();
  const zone = zoneOf(entity.country);
  const db = app.store.db;

  // Consents given and withdrawn per ISO week (Monday to Sunday in the entity's zone) and channel.
  const firstWeek = DateTime.fromMillis(now, { zone }).startOf('week').minus({ weeks: opts.weeks - 1 });
  const weeks = new Map<string, DashboardStats['consentsByWeek'][number]>();
  for (let i = 0; i < opts.weeks; i++) {
    const d = firstWeek.plus({ weeks: i });
    weeks.set(isoWeek(d), { week: isoWeek(d), weekStart: d.toISODate()!, given: zeroChannels(), withdrawn: zeroChannels() });
  }
  const consentRows = await db
    .selectFrom('events')
    .select(['at', 'payload'])
    .where('entity_id', '=', entity.id)
    .where('type', '=', 'consent')
    .where('at', '>=', firstWeek.toUTC().toISO()!)
    .where('at', '<=', new Date(now).toISOString())
    .execute();
  for (const r of consentRows) {
    const p = JSON.parse(r.payload) as { channel?: string; status?: string };
    const bucket = weeks.get(isoWeek(DateTime.fromISO(r.at, { zone })));
    const channel = p.channel as keyof ChannelCounts;
    if (!bucket || !(CHANNELS as readonly string[]).includes(channel)) continue;
    bucket[p.status === 'withdrawn' ? 'withdrawn' : 'given'][channel] += 1;
  }

  // Decisions asked in the last `days` days, by basis and by denial (a refusal may have several).
  await app.decisions.flush();
  const since = now - opts.days * 86_400_000;
  const decisionRows = await db
    .selectFrom('decisions')
    .select(['allowed', 'basis', 'denials', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
    .where('entity_id', '=', entity.id)
    .where('recorded_at', '>=', new Date(since).toISOString())
    .groupBy(['allowed', 'basis', 'denials'])
    .execute();
  const byBasis = new Map<string, number>();
  const byDenial = new Map<string, number>();
  let allowed = 0;
  let denied = 0;
  for (const r of decisionRows) {
    const n = Number(r.n);
    if (Number(r.allowed) === 1) {
      allowed += n;
      const basis = r.basis ?? 'out_of_scope';
      byBasis.set(basis, (byBasis.get(basis) ?? 0) + n);
    } else {
      denied += n;
      for (const d of JSON.parse(r.denials) as string[]) byDenial.set(d, (byDenial.get(d) ?? 0) + n);
    }
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

  // Customer relationships that stop counting as a basis within `days` days, by the law of the
  // called number: NL-5's term after their end; US-3's 18 months after the last transaction (3
  // after an inquiry). Elsewhere a relationship is no basis for calls (DE-1; GB-4 only while it lasts).
  const horizon = now + opts.days * 86_400_000;
  const relRows = await db
    .selectFrom('events')
    .select(['id', 'phone', 'payload'])
    .where('entity_id', '=', entity.id)
    .where('type', '=', 'relationship')
    .execute();
  const expiring: DashboardStats['expiringRelationships']['items'] = [];
  for (const r of relRows) {
    const p = JSON.parse(r.payload) as { kind: RelationshipKind; productCategory: string; startedAt: number; endedAt?: number | null };
    const info = r.phone ? tryParsePhone(r.phone) : null;
    if (!info) continue;
    const expiresAt = info.country === 'NL' ? relationshipBasisEnd(entity, p, now) : info.country === 'US' ? ebrEndOf(p, { phone: info, at: now }) : null;
    if (expiresAt === null || expiresAt < now || expiresAt >= horizon) continue;
    expiring.push({
      id: r.id,
      phone: info.e164,
      kind: p.kind,
      productCategory: p.productCategory,
      // The last transaction, where one purchase is the whole relationship (US-3).
      endedAt: new Date(p.endedAt ?? p.startedAt).toISOString(),
      expiresAt: new Date(expiresAt).toISOString(),
      daysLeft: Math.floor((expiresAt - now) / 86_400_000),
    });
  }
  expiring.sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));

  return {
    entityId: entity.id,
    generatedAt: new Date(now).toISOString(),
    calls: await callActivity(app, entity, since, now),
    timeZone: zone,
    consentsByWeek: [...weeks.values()],
    decisions: {
      since: new Date(since).toISOString(),
      total: allowed + denied,
      allowed,
      denied,
      byBasis: sorted(byBasis).map(([basis, count]) => ({ basis, count })),
      byDenial: sorted(byDenial).map(([denial, count]) => ({ denial, count })),
    },
    expiringRelationships: { days: opts.days, total: expiring.length, items: expiring.slice(0, 200) },
  };
}

/**
 * Calls and phone opt-ins since `since`, per agent. A call counts as refused when the answer it was
 * recorded on did not allow it – the check it names, or the engine's answer for the call's own
 * moment where that came later and refuses. Counted by the database (a call centre logs millions
 * of calls in 90 days): only the refused calls shown are read whole.
 */
async function callActivity(app: Optline, entity: Entity, since: number, now: number): Promise<CallActivity> {
  const pg = app.store.kind === 'postgres';
  // The payload as jsonb, which refuses two escapes JSON.stringify writes and text keeps: \u0000
  // (22P05; rows stored before requests with U+0000 were refused, see nulCharacters in
  // src/api/schemas.ts) and a lone surrogate such as \ud800 (22P02). One such row would fail the
  // whole dashboard, so they are read as U+FFFD: an escape of the same length behind the same
  // backslash keeps the JSON valid (were that backslash the second of an escaped one, the letters
  // after it merely change). Only payloads holding "\u" at all pay for the regular expression.
  const payloadJsonb = sql`(case when strpos(payload, '\\u') > 0 then regexp_replace(payload, '\\\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})', '\\\\ufffd', 'g') else payload end)::jsonb`;
  // A field of the JSON payload as text (PostgreSQL) or as its JSON value (SQLite: false is 0).
  // Paths as literals (they are this code's own): PostgreSQL matches a GROUP BY expression to
  // the selected one only when both are written alike, parameters included.
  const field = (...path: string[]) => (pg ? sql`(${payloadJsonb} #>> ${sql.lit(`{${path.join(',')}}`)}::text[])` : sql`json_extract(payload, ${sql.lit(`$.${path.join('.')}`)})`);
  // Calls recorded before they kept their answer (no `allowed`): the decision they name says.
  const named = (column: 'allowed' | 'denials') => sql`(select d.${sql.raw(column)} from decisions d where d.id = ${field('decisionId')})`;
  const refused = sql<boolean>`(${pg ? sql`${field('allowed')} = 'false'` : sql`${field('allowed')} = 0`} or (${field('allowed')} is null and ${named('allowed')} = 0))`;
  const agentOf = (...path: string[]) => sql<string | null>`nullif(trim(${field(...path)}), '')`;
  const inPeriod = (type: string) =>
    app.store.db
      .selectFrom('events')
      .where('entity_id', '=', entity.id)
      .where('type', '=', type)
      .where('erased_at', 'is', null)
      .where('at', '>=', new Date(since).toISOString())
      .where('at', '<=', new Date(now).toISOString());
  const [callRows, optInRows, refusedRows] = await Promise.all([
    inPeriod('call')
      .select([agentOf('agentId').as('agent'), sql<number | string>`count(*)`.as('calls'), sql<number | string>`sum(case when ${refused} then 1 else 0 end)`.as('refused')])
      .groupBy(sql`1`)
      .execute(),
    inPeriod('consent')
      .select([agentOf('source', 'agentId').as('agent'), sql<number | string>`count(*)`.as('n')])
      .where(sql<boolean>`${field('channel')} = 'phone' and ${field('status')} = 'granted' and ${field('source', 'method')} = 'agent_call'`)
      .groupBy(sql`1`)
      .execute(),
    inPeriod('call')
      .select(['id', 'phone', 'at', 'payload', named('denials').as('namedDenials')])
      .where(refused)
      .orderBy('at', 'desc')
      .orderBy('id')
      .limit(200)
      .execute(),
  ]);
  const agents = new Map<string | null, CallActivity['byAgent'][number]>();
  const agent = (id: string | null) => {
    let a = agents.get(id);
    if (!a) agents.set(id, (a = { agentId: id, calls: 0, refused: 0, optIns: 0 }));
    return a;
  };
  for (const r of callRows) Object.assign(agent(r.agent), { calls: Number(r.calls), refused: Number(r.refused ?? 0) });
  for (const r of optInRows) agent(r.agent).optIns = Number(r.n);
  const refusedItems = refusedRows.map((r) => {
    const p = JSON.parse(r.payload) as { decisionId?: string | null; denials?: string[]; refusedAtCall?: boolean; agentId?: string | null };
    const denials = p.denials ?? (typeof r.namedDenials === 'string' ? (JSON.parse(r.namedDenials) as string[]) : []);
    return { id: r.id, phone: r.phone, at: r.at, agentId: p.agentId?.trim() || null, decisionId: p.decisionId ?? null, denials, allowedAtCheck: p.refusedAtCall === true };
  });
  const byAgent = [...agents.values()].sort((x, y) => y.refused - x.refused || y.calls - x.calls || (x.agentId ?? '\uffff').localeCompare(y.agentId ?? '\uffff'));
  return {
    since: new Date(since).toISOString(),
    total: byAgent.reduce((n, a) => n + a.calls, 0),
    refused: byAgent.reduce((n, a) => n + a.refused, 0),
    byAgent,
    refusedItems,
  };
}

// ---- changes of law ---------------------------------------------------------------------------

export interface LawChange {
  id: string;
  jurisdiction: Jurisdiction;
  /** The first day the new rule applies, in the country's own calendar. */
  date: string;
  rule: string;
  title: string;
}

/** Dated changes of law the rule packs encode, oldest first. */
export const LAW_CHANGES: LawChange[] = [
  {
    id: 'nl-opt-in',
    jurisdiction: 'NL',
    date: isoDay(NL_RULES.optInFrom, zoneOf('NL')),
    rule: 'NL-1',
    title: 'Calls to natural persons need consent, a customer relationship or a request; the Bel-me-niet Register ends',
  },
  {
    id: 'nl-relationship-narrowed',
    jurisdiction: 'NL',
    date: isoDay(NL_RULES.relationshipNarrowedFrom, zoneOf('NL')),
    rule: 'NL-3',
    title: 'The customer-relationship exception remains only for charities, charity lotteries and publishers',
  },
];

export interface LawChangeImpact {
  entityId: string;
  date: string;
  change: LawChange | null;
  changes: Array<LawChange & { upcoming: boolean }>;
  /** The two moments compared: noon the day before and noon on the day, in the zone below. */
  before: string;
  after: string;
  timeZone: string;
  numbersChecked: number;
  truncated: boolean;
  callableBefore: number;
  callableAfter: number;
  lost: number;
  gained: number;
  lostByBasis: Array<{ basis: string; count: number }>;
  lostByReason: Array<{ code: string; rule: string; count: number; example: string }>;
  examples: Array<{ phone: string; basisBefore: string; denialsAfter: string[]; reasons: Array<{ code: string; rule: string; detail: string }> }>;
}

/** At most this many of an entity's numbers are evaluated for one view. */
export const IMPACT_NUMBER_LIMIT = 20_000;

/** The next change in the entity's country after `now`, else the latest one before it (an audit view). */
export function defaultLawChange(entity: Entity, now: number): LawChange | null {
  const own = LAW_CHANGES.filter((c) => c.jurisdiction === entity.country);
  const zone = zoneOf(entity.country);
  const upcoming = own.find((c) => startOfDay(c.date, zone) > now);
  return upcoming ?? own[own.length - 1] ?? null;
}

const isTemporary = (d: Denial | string): boolean => d === 'outside_calling_hours' || d === 'frequency_cap';

/**
 * How many of the entity's numbers that may be called the day before `date` lose their basis on
 * `date`, and which conditions fail then. Each number is evaluated for a call about nothing in
 * particular and for each product category recorded for it, so a relationship's own product
 * counts; a number is callable when any of those calls is allowed.
 */
export async function lawChangeImpact(app: Optline, entity: Entity, date: string | null): Promise<LawChangeImpact> {
  const now = app.clock();
  const change = date ? (LAW_CHANGES.find((c) => c.date === date && c.jurisdiction === entity.country) ?? null) : defaultLawChange(entity, now);
  const day = date ?? change?.date ?? isoDay(now, zoneOf(entity.country));
  const zone = zoneOf(change?.jurisdiction ?? entity.country);
  const dayStart = startOfDay(day, zone);
  const before = DateTime.fromMillis(dayStart, { zone }).minus({ days: 1 }).plus({ hours: 12 }).toMillis();
  const after = DateTime.fromMillis(dayStart, { zone }).plus({ hours: 12 }).toMillis();

  const cutoff = new Date(after).toISOString();
  const phones = await app.store.db
    .selectFrom('events')
    .select('phone')
    .distinct()
    .where('entity_id', '=', entity.id)
    .where('phone', 'is not', null)
    .where('at', '<=', cutoff)
    .orderBy('phone')
    .limit(IMPACT_NUMBER_LIMIT + 1)
    .execute();
  const truncated = phones.length > IMPACT_NUMBER_LIMIT;
  const products = new Map<string, Set<string | null>>(phones.slice(0, IMPACT_NUMBER_LIMIT).map((r) => [r.phone!, new Set<string | null>([null])]));
  const productRows = await app.store.db
    .selectFrom('events')
    .select(['phone', 'payload', 'type'])
    .where('entity_id', '=', entity.id)
    .where('type', 'in', ['relationship', 'consent'])
    .where('at', '<=', cutoff)
    .execute();
  for (const r of productRows) {
    const set = r.phone ? products.get(r.phone) : undefined;
    if (!set) continue;
    const p = JSON.parse(r.payload) as { productCategory?: string | null; products?: string[] };
    if (r.type === 'relationship' && p.productCategory) set.add(p.productCategory);
    if (r.type === 'consent') for (const x of p.products ?? []) set.add(x);
  }

  let callableBefore = 0;
  let callableAfter = 0;
  let gained = 0;
  const lostByBasis = new Map<string, number>();
  const lostByReason = new Map<string, { code: string; rule: string; count: number; example: string }>();
  const examples: LawChangeImpact['examples'] = [];

  for (const [phone, categories] of products) {
    const info = tryParsePhone(phone);
    if (!info) continue;
    const facts = await app.facts(info.e164, info.country);
    let okBefore: { basis: Basis | null; product: string | null } | null = null;
    let okAfter = false;
    const afterByProduct = new Map<string | null, { denials: Denial[]; reasons: Reason[] }>();
    const failedBefore = new Map<string | null, Set<string>>();
    for (const productCategory of categories) {
      const b = (await app.evaluate({ phone: info.e164, entityId: entity.id, at: before, productCategory }, facts)).decision;
      const a = (await app.evaluate({ phone: info.e164, entityId: entity.id, at: after, productCategory }, facts)).decision;
      const callable = (d: typeof a) => d.allowed || (d.denials.length > 0 && d.denials.every(isTemporary));
      if (callable(b) && !okBefore) okBefore = { basis: b.basis, product: productCategory };
      if (callable(a)) okAfter = true;
      afterByProduct.set(productCategory, { denials: a.denials, reasons: a.reasons });
      failedBefore.set(productCategory, new Set(b.reasons.filter((r) => !r.passed).map((r) => r.code)));
    }
    if (okBefore) callableBefore++;
    if (okAfter) callableAfter++;
    if (!okBefore && okAfter) gained++;
    if (!okBefore || okAfter) continue;
    // Lost: explain with the call that was allowed the day before, as it is decided on the day.
    const basis = okBefore.basis ?? 'out_of_scope';
    lostByBasis.set(basis, (lostByBasis.get(basis) ?? 0) + 1);
    const a = afterByProduct.get(okBefore.product)!;
    const wasFailing = failedBefore.get(okBefore.product)!;
    const newlyFailing = a.reasons.filter((r) => !r.passed && !wasFailing.has(r.code));
    const why = newlyFailing.length > 0 ? newlyFailing : a.reasons.filter((r) => !r.passed);
    for (const r of why) {
      const k = `${r.rule} ${r.code}`;
      const agg = lostByReason.get(k) ?? { code: r.code, rule: r.rule, count: 0, example: r.detail };
      agg.count++;
      lostByReason.set(k, agg);
    }
    if (examples.length < 25) {
      examples.push({ phone: info.e164, basisBefore: basis, denialsAfter: a.denials, reasons: why.map((r) => ({ code: r.code, rule: r.rule, detail: r.detail })) });
    }
  }

  return {
    entityId: entity.id,
    date: day,
    change,
    changes: LAW_CHANGES.filter((c) => c.jurisdiction === entity.country).map((c) => ({ ...c, upcoming: startOfDay(c.date, zoneOf(c.jurisdiction)) > now })),
    before: new Date(before).toISOString(),
    after: new Date(after).toISOString(),
    timeZone: zone,
    numbersChecked: products.size,
    truncated,
    callableBefore,
    callableAfter,
    lost: [...lostByBasis.values()].reduce((s, n) => s + n, 0),
    gained,
    lostByBasis: [...lostByBasis.entries()].sort((x, y) => y[1] - x[1]).map(([basis, count]) => ({ basis, count })),
    lostByReason: [...lostByReason.values()].sort((x, y) => y.count - x.count || x.rule.localeCompare(y.rule)),
    examples,
  };
}
