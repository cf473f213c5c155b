/**
 * Proof of consent: everything on record that proves or disproves that an entity may call a
 * number – each consent with how it was captured, every use of it (the calls whose evidence names
 * it), its withdrawal, objections, other grounds, suppression entries left by an erasure, the
 * engine's answer now with its reasons, and for every event its place in the hash chain so a
 * regulator can check it against `GET /v1/audit/verify`.
 *
 * The dossier is the one source the export formats are made from: Kantara Consent Receipt
 * (kantara.ts), ISO/IEC TS 27560 record (iso27560.ts) and the PDF for people (pdf.ts).
 */
import { importsById, type ImportRecord } from '../imports/store.js';
import { jurisdictionOf, type Decision, type Entity, type Jurisdiction } from '../law/index.js';
import { RULES_VERSION } from '../law/version.js';
import { isVerifiedConsent, NL_RULES } from '../law/nl.js';
import { hasWording, wasRecorded } from '../law/facts.js';
import { US_RULES } from '../law/us.js';
import { DE_RULES, germanConsentProblem } from '../law/de.js';
import { sameCategory } from '../law/question.js';
import { InvalidPhoneNumberError, parsePhone } from '../phone/index.js';
import { linkOk, storedContentOk } from '../store/chain.js';
import type { EventsTable } from '../store/schema.js';
import { emailMatches } from '../store/repository.js';
import { ForbiddenError, InputError, NotFoundError } from '../service/errors.js';
import type { Optline } from '../service/optline.js';
import { assess, RETAINED_TYPES, RETENTION_DEFAULTS } from '../service/retention.js';
import { timesAsIso } from '../service/json-times.js';

export const DOSSIER_FORMAT = 'optline-proof/1';

/** Where an event sits in the tamper-evident history, and whether it still holds there. */
export interface ChainPosition {
  chain: string;
  seq: number;
  hash: string;
  prevHash: string;
  contentHash: string;
  /** The digest of its number, e-mail and payload, which the link covers too (null before migration 0014). */
  personalHash: string | null;
  /** The event's content still matches its digest. */
  contentOk: boolean;
  /** Its link hash is right for the one before it and its digest. */
  linkOk: boolean;
  /** The next event (or the chain's head) links to it. */
  nextOk: boolean;
}

export interface ProofEvent {
  id: string;
  type: string;
  entityId: string | null;
  at: string;
  recordedAt: string;
  /** The API key that recorded it (null: the CLI). */
  keyId: string | null;
  /** The import that wrote it (its file and when: `imports`), null for an event recorded otherwise. */
  importId: string | null;
  /** Recorded before the number passed to its present holder: it concerns the previous holder. */
  beforeReassignment: boolean;
  chain: ChainPosition | null;
}

export interface ProofUse {
  callEventId: string;
  at: string;
  decisionId: string | null;
  basis: string | null;
}

export interface ProofConsent extends ProofEvent {
  type: 'consent';
  channel: string;
  status: 'granted' | 'withdrawn';
  products: string[];
  expiresAt: string | null;
  source: {
    method: string;
    wording: string | null;
    agentId: string | null;
    callId: string | null;
    recordingRef: string | null;
    ip: string | null;
    url: string | null;
    verifiedAt: string | null;
    verificationMethod: string | null;
    userAgent: string | null;
    bundled: boolean;
  };
  /** Who gave it, beyond the number (null: only the number is on record). */
  person: { name: string | null; reference: string | null } | null;
  /** Calls made on this consent (their evidence names it), oldest first. */
  uses: ProofUse[];
  /** For a consent given: the first later withdrawal that covers it. For a withdrawal: the consents it ends. */
  withdrawnBy: { id: string; at: string } | null;
  /** For a consent given: later withdrawals of some of its products (it stays in force for the rest). */
  partlyWithdrawn: Array<{ id: string; at: string; products: string[] }>;
  withdraws: string[];
  /**
   * What the record says now: active, withdrawn, ended by the person's later objection to this
   * entity's calls (NL-8, US-4: a newer objection beats an older consent), expired, bundled (not
   * valid), a withdrawal, or void after reassignment.
   */
  state: 'active' | 'withdrawn' | 'objected' | 'expired' | 'not_valid' | 'withdrawal' | 'void';
  /** What records.md asks a consent record to hold that this one lacks. */
  gaps: string[];
  /** How long the proof is kept: months after the last use, and until when. */
  retention: { country: Jurisdiction; months: number; rule: string | null; lastUse: string | null; keepUntil: string | null };
}

export interface ProofCall extends ProofEvent {
  type: 'call';
  decisionId: string | null;
  basis: string | null;
  evidence: string[];
  /**
   * Whether the answer the call rested on allowed it, and its denials: an auditor must see a call
   * made although refused. Null for calls recorded before these were kept.
   */
  allowed: boolean | null;
  denials: string[];
  /** The check allowed it, but by the call's own moment the engine no longer did. */
  refusedAtCall: boolean;
  agentId: string | null;
  purpose: 'marketing' | 'service';
}

export interface ProofOther extends ProofEvent {
  data: Record<string, unknown>;
}

export interface ProofSuppression {
  id: string;
  entityId: string;
  reason: string;
  at: string;
  createdAt: string;
  eventId: string | null;
}

export interface ProofDecision {
  entityId: string;
  /** The product asked about: one answer for each product the entity's consents name (null: none named). */
  productCategory: string | null;
  at: string;
  allowed: boolean;
  basis: string | null;
  jurisdiction: string | null;
  denials: string[];
  obligations: string[];
  evidence: string[];
  reasons: Decision['reasons'];
}

export interface ProofEntity {
  id: string;
  name: string;
  kind: string;
  country: Jurisdiction;
  parentId: string | null;
  controller: NonNullable<Entity['controller']> | null;
  language: string;
}

export interface ProofDossier {
  format: typeof DOSSIER_FORMAT;
  generatedAt: string;
  generatedBy: string | null;
  rulesVersion: string;
  query: { phone: string | null; entityId: string | null; consentId: string | null };
  subject: { phone: string | null; email: string | null; jurisdiction: Jurisdiction | null };
  entities: ProofEntity[];
  consents: ProofConsent[];
  objections: ProofEvent[];
  calls: ProofCall[];
  /** Customer relationships, contact requests, presumed-consent justifications. */
  otherGrounds: ProofOther[];
  reassignments: ProofEvent[];
  suppressions: ProofSuppression[];
  /** The imports that wrote events shown here: which file (its name and SHA-256), when, by which key. */
  imports: ImportRecord[];
  /** The engine's answer at generatedAt for each entity (not recorded as a decision). */
  decisions: ProofDecision[];
  integrity: {
    ok: boolean;
    events: number;
    problems: Array<{ eventId: string; detail: string }>;
    howToVerify: string;
  };
}

export interface ProofQuery {
  phone?: string | null;
  entityId?: string | null;
  consentId?: string | null;
  /** Entities the caller may see ('*': all). */
  scope: string[] | '*';
  keyId?: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const DAY_MS = 86_400_000;

function personOf(v: unknown): ProofConsent['person'] {
  if (v === null || typeof v !== 'object') return null;
  const { name, reference } = v as Record<string, unknown>;
  const text = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null);
  return text(name) || text(reference) ? { name: text(name), reference: text(reference) } : null;
}
const isoOrNull = (ms: unknown): string | null => (typeof ms === 'number' ? iso(ms) : null);

export const DEFAULT_LANGUAGE: Record<Jurisdiction, string> = { NL: 'nl', DE: 'de', GB: 'en', US: 'en' };

export const HOW_TO_VERIFY =
  'Every event carries the SHA-256 digest of its content and a link hash over the previous link, its position and that digest ' +
  '(one chain per legal entity). GET /v1/audit/verify (or `optline verify`) recomputes every chain from its first event and names ' +
  'the first event that was changed, removed, inserted or reordered; compare the chain, position and hash printed here with its answer. ' +
  'A row redacted by an erasure or the retention job keeps its digest and is named by the erasure event that follows it.';

function gapsOf(c: Pick<ProofConsent, 'status' | 'channel' | 'products' | 'source' | 'person' | 'at' | 'recordedAt' | 'uses'>, country: Jurisdiction, now: number): string[] {
  if (c.status !== 'granted') return [];
  const s = c.source;
  const gaps: string[] = [];
  if (c.channel !== 'phone') gaps.push(`channel: the consent is for ${c.channel}, not for phone calls`);
  if (!c.person) {
    const rule = country === 'NL' ? '; the proof must be tied to the person called (NL-10)' : country === 'DE' ? '; the proof must be tied to the person (DE-3)' : '';
    gaps.push(`person: only the number is on record, not who gave the consent (a name or a customer reference)${rule}`);
  }
  if (s.bundled) gaps.push('bundled: the declaration covered another channel or was part of another declaration, so it is not valid consent for calls (NL-2, DE-3)');
  if (!s.wording) gaps.push('wording: the exact text shown or read out is not on record');
  if (c.products.length === 0) gaps.push(country === 'DE' ? 'products: none named; DE-3 requires the consent to name the products' : 'products: none named');
  if (s.method === 'agent_call') {
    if (!s.agentId) gaps.push('agent: who took the consent on the call is not on record');
    if (!s.callId && !s.recordingRef) gaps.push('call: neither a call id nor a recording reference is on record');
  }
  if (s.method === 'web_form') {
    if (!s.url) gaps.push('web page: the URL of the form is not on record');
    if (!s.ip) gaps.push('IP address: not on record');
    if (!s.userAgent) gaps.push("user agent: the browser's User-Agent is not on record");
  }
  if (s.method === 'email' && country === 'DE') gaps.push('method: an e-mail confirmation does not tie the phone number to the person (DE-3)');
  // US-1, US-6: telemarketing needs prior express written consent – signed, naming the number,
  // saying that consent is no condition of purchase. The engine asks for the agreement's wording;
  // the proof also says which of its elements the wording on record does not show.
  if (country === 'US') {
    if (US_RULES.unwrittenMethods.includes(s.method)) gaps.push('written: taken by an agent on a call, so spoken, not written – no prior express written consent for telemarketing (US-1, US-6)');
    else if (!hasWording(s)) gaps.push('written agreement: its wording is not on record, so it cannot show prior express written consent (US-6)');
    else if (!/condition of (any )?(purchas(e|ing)|buying)/i.test(s.wording!)) gaps.push('written agreement: the wording on record does not say that consent is no condition of purchase (US-6)');
  }
  const german = country === 'DE' ? germanProblem(c, now) : null;
  if (german) gaps.push(`${german.code === 'consent_number_not_tied' ? 'number' : 'documentation'}: it ${german.why} (${german.rule})`);
  // NL-10's product policy: consents given from 2025-07-01 must be verified before the first call.
  if (country === 'NL' && Date.parse(c.at) >= NL_RULES.verificationExpectedFrom) {
    const firstUse = c.uses.reduce((m, u) => Math.min(m, Date.parse(u.at)), Infinity);
    // A recorded call verifies as the engine reads it (isVerifiedConsent).
    const recorded = wasRecorded(s);
    if (!s.verifiedAt && !recorded) gaps.push('verification: no confirmation of the consent before the first call is on record (NL-10)');
    else if (s.verifiedAt && !recorded) {
      if (Date.parse(s.verifiedAt) < Date.parse(c.at)) gaps.push(`verification: confirmed on ${s.verifiedAt}, before the consent was given (${c.at}), so it does not confirm this consent (NL-10)`);
      else if (Date.parse(s.verifiedAt) > firstUse) gaps.push(`verification: confirmed on ${s.verifiedAt}, after the first call made on it (${new Date(firstUse).toISOString()}); NL-10 expects it before (NL-10)`);
      if (!s.verificationMethod) gaps.push('verification: how it was confirmed (SMS, e-mail, app, recorded call or letter) is not on record (NL-10)');
    }
  }
  // DE-4: documented when given. A copy imported from a lead supplier is documented there.
  const late = Date.parse(c.recordedAt) - Date.parse(c.at);
  if (country === 'DE' && s.method !== 'import' && Date.parse(c.at) >= DE_RULES.documentationFrom && late > DAY_MS) {
    const days = Math.floor(late / DAY_MS);
    gaps.push(`documentation: recorded ${days} day${days === 1 ? '' : 's'} after it was given; §7a UWG requires documenting a consent when it is given (DE-4)`);
  }
  return gaps;
}

/** The engine's DE-3/DE-4 conditions on how a consent was captured and documented, for a call at `at`. */
function germanProblem(c: Pick<ProofConsent, 'source' | 'at'>, at: number): ReturnType<typeof germanConsentProblem> {
  const s = c.source;
  return germanConsentProblem(
    { method: s.method, wording: s.wording, recordingRef: s.recordingRef, verifiedAt: s.verifiedAt ? Date.parse(s.verifiedAt) : null, verificationMethod: s.verificationMethod },
    Date.parse(c.at),
    at,
  );
}

/**
 * The conditions of the law a consent must meet whatever the call (src/law/): DE-3 (products
 * named, not captured by e-mail, the number tied to the person), DE-4 (documented) and an entity's requireVerifiedConsent (NL-10). The engine
 * checks them per call; a proof says whether the consent can carry any call at all.
 */
function countsUnderLaw(c: Pick<ProofConsent, 'products' | 'source' | 'retention' | 'at'>, entity: Entity | undefined, now: number): boolean {
  if (c.retention.country === 'DE' && (c.products.length === 0 || c.source.method === 'email' || germanProblem(c, now))) return false;
  // US-1, US-6: spoken, or without its written agreement, it carries no telemarketing call (a
  // proof of consent is about marketing; an autodialed service call needs only prior express consent).
  if (c.retention.country === 'US' && (US_RULES.unwrittenMethods.includes(c.source.method) || !hasWording(c.source))) return false;
  if (c.retention.country === 'NL' && entity?.requireVerifiedConsent && Date.parse(c.at) >= NL_RULES.verificationExpectedFrom) {
    const verifiedAt = c.source.verifiedAt ? Date.parse(c.source.verifiedAt) : null;
    if (!isVerifiedConsent({ at: Date.parse(c.at), source: { verifiedAt, recordingRef: c.source.recordingRef } }, now)) return false;
  }
  return true;
}

/** How much of a consent a withdrawal ends, as the engine reads it (src/law/facts.ts): all, some products, or nothing. */
function covers(withdrawal: { channel: string; products: string[] }, grant: { channel: string; products: string[] }): 'all' | 'some' | 'none' {
  if (withdrawal.channel !== grant.channel) return 'none';
  if (withdrawal.products.length === 0) return 'all';
  // A consent for everything, withdrawn for some products: it still covers the others (as the engine reads it).
  if (grant.products.length === 0) return 'some';
  const ended = grant.products.filter((p) => withdrawal.products.some((w) => sameCategory(w, p)));
  return ended.length === grant.products.length ? 'all' : ended.length > 0 ? 'some' : 'none';
}

/** Reads a number for a proof query: E.164, or national format in the entity's country. */
function readNumber(input: string, country?: string): string {
  try {
    return parsePhone(input, country).e164;
  } catch (err) {
    if (err instanceof InvalidPhoneNumberError) throw new InputError(err.message, [{ path: 'phone', message: err.message }]);
    throw err;
  }
}

export async function buildDossier(app: Optline, q: ProofQuery): Promise<ProofDossier> {
  const now = app.clock();
  const inScope = (id: string) => q.scope === '*' || q.scope.includes(id);
  let e164: string | null = null;
  let email: string | null = null;
  let entityFilter: string | null = q.entityId ?? null;
  let consentRow: EventsTable | null = null;

  if (q.consentId) {
    consentRow = (await app.store.db.selectFrom('events').selectAll().where('id', '=', q.consentId).executeTakeFirst()) ?? null;
    // Another entity's consent is answered as unknown, like a decision: its id must not confirm it exists.
    if (!consentRow || consentRow.type !== 'consent' || !inScope(consentRow.entity_id!)) throw new NotFoundError(`No consent "${q.consentId}".`);
    if (consentRow.erased_at) throw new NotFoundError(`Consent "${q.consentId}" was erased on ${consentRow.erased_at}; only its place in the history remains.`);
    e164 = consentRow.phone;
    email = consentRow.phone ? null : consentRow.email;
    entityFilter = consentRow.entity_id;
  } else {
    if (!q.phone) throw new InputError('Name the phone number or the consent.', [{ path: 'phone', message: 'required' }]);
    if (entityFilter) {
      if (!inScope(entityFilter)) throw new ForbiddenError(`This key may not act for entity "${entityFilter}".`);
      const entity = await app.requireEntity(entityFilter);
      e164 = readNumber(q.phone, entity.country);
    } else {
      e164 = readNumber(q.phone);
    }
  }

  // Every row about the number (or the e-mail of an e-mail-only consent), as stored.
  let rowsQ = app.store.db.selectFrom('events').selectAll();
  rowsQ = e164 ? rowsQ.where('phone', '=', e164) : rowsQ.where((eb) => emailMatches(eb, email!));
  const all = await rowsQ.orderBy('at').orderBy('id').execute();
  const rows = all.filter((r) => (r.entity_id === null ? r.type === 'reassignment' : inScope(r.entity_id) && (!entityFilter || r.entity_id === entityFilter)));

  const positions = await chainPositions(app, rows);
  const reassignedAt = rows.filter((r) => r.type === 'reassignment').reduce((m, r) => Math.max(m, Date.parse(r.at)), -Infinity);
  const base = (r: EventsTable): ProofEvent => ({
    id: r.id,
    type: r.type,
    entityId: r.entity_id,
    at: r.at,
    recordedAt: r.recorded_at,
    keyId: r.key_id,
    importId: r.import_id ?? null,
    beforeReassignment: r.type !== 'reassignment' && Date.parse(r.at) < reassignedAt,
    chain: positions.get(r.id) ?? null,
  });
  const payloadOf = (r: EventsTable): Record<string, unknown> => {
    try {
      return JSON.parse(r.payload) as Record<string, unknown>;
    } catch {
      return {};
    }
  };

  // An erased person leaves only suppression entries: the entities that hold them belong in the
  // dossier too, also when none was named.
  const suppressionEntries = e164 ? await app.suppressions.entries(e164, entityFilter ? [entityFilter] : (await app.store.listEntities()).map((e) => e.id).filter(inScope)) : [];
  const entityIds = [...new Set([...(entityFilter ? [entityFilter] : []), ...rows.filter((r) => r.entity_id).map((r) => r.entity_id!), ...suppressionEntries.map((x) => x.entityId)])];
  const entities = new Map<string, Entity>();
  for (const id of entityIds) {
    const e = await app.entity(id);
    if (e) entities.set(id, e);
  }
  const subjectJurisdiction = e164 ? jurisdictionOf(parsePhone(e164).country) : null;

  const calls: ProofCall[] = rows
    .filter((r) => r.type === 'call')
    .map((r) => {
      const p = payloadOf(r);
      return {
        ...base(r),
        type: 'call',
        decisionId: (p.decisionId as string | null) ?? null,
        basis: (p.basis as string | null) ?? null,
        evidence: (p.evidence as string[] | undefined) ?? [],
        allowed: typeof p.allowed === 'boolean' ? p.allowed : null,
        denials: Array.isArray(p.denials) ? p.denials.filter((x): x is string => typeof x === 'string') : [],
        refusedAtCall: p.refusedAtCall === true,
        agentId: typeof p.agentId === 'string' && p.agentId.trim() ? p.agentId.trim() : null,
        purpose: p.purpose === 'service' ? 'service' : 'marketing',
      };
    });

  // Retention per row, with the same rules as the retention job.
  const keepUntil = new Map<string, ReturnType<typeof assess>[number]>();
  for (const [id, entity] of entities) {
    const own = rows.filter((r) => r.entity_id === id && (RETAINED_TYPES as readonly string[]).includes(r.type));
    for (const a of assess(entity, own, now)) keepUntil.set(a.eventId, a);
  }

  let consents: ProofConsent[] = rows
    .filter((r) => r.type === 'consent')
    .map((r) => {
      const p = payloadOf(r);
      const s = (p.source ?? {}) as Record<string, unknown>;
      const entity = entities.get(r.entity_id!);
      const country = subjectJurisdiction ?? entity?.country ?? 'NL';
      const a = keepUntil.get(r.id);
      const c: ProofConsent = {
        ...base(r),
        type: 'consent',
        channel: String(p.channel ?? ''),
        status: p.status === 'withdrawn' ? 'withdrawn' : 'granted',
        products: (p.products as string[] | undefined) ?? [],
        expiresAt: isoOrNull(p.expiresAt),
        source: {
          method: String(s.method ?? 'import'),
          wording: (s.wording as string | null) ?? null,
          agentId: (s.agentId as string | null) ?? null,
          callId: (s.callId as string | null) ?? null,
          recordingRef: (s.recordingRef as string | null) ?? null,
          ip: (s.ip as string | null) ?? null,
          url: (s.url as string | null) ?? null,
          verifiedAt: isoOrNull(s.verifiedAt),
          verificationMethod: (s.verificationMethod as string | null) ?? null,
          userAgent: (s.userAgent as string | null) ?? null,
          bundled: s.bundled === true,
        },
        person: personOf(p.person),
        uses: calls.filter((k) => k.evidence.includes(r.id)).map((k) => ({ callEventId: k.id, at: k.at, decisionId: k.decisionId, basis: k.basis })),
        withdrawnBy: null,
        partlyWithdrawn: [],
        withdraws: [],
        state: 'active',
        gaps: [],
        retention: {
          country: a?.country ?? country,
          months: a?.months ?? RETENTION_DEFAULTS[country].months,
          rule: entity?.retention?.[a?.country ?? country] ? 'entity setting' : RETENTION_DEFAULTS[a?.country ?? country].rule,
          lastUse: a?.lastUse != null ? iso(a.lastUse) : null,
          keepUntil: a?.dueAt != null ? iso(a.dueAt) : null,
        },
      };
      c.gaps = gapsOf(c, country, now);
      return c;
    });
  for (const g of consents) {
    if (g.status !== 'granted') continue;
    const later = consents.filter((x) => x.status === 'withdrawn' && x.entityId === g.entityId && Date.parse(x.at) >= Date.parse(g.at));
    const w = later.find((x) => covers(x, g) === 'all');
    if (w) {
      g.withdrawnBy = { id: w.id, at: w.at };
      w.withdraws.push(g.id);
    }
    // A withdrawal of some of its products: calls about the others still rest on it (the engine
    // allows them), so it stays in force – and says what it no longer covers.
    for (const x of later.filter((x) => x !== w && covers(x, g) === 'some')) {
      x.withdraws.push(g.id);
      g.partlyWithdrawn.push({ id: x.id, at: x.at, products: x.products });
      const still = g.products.filter((p) => !x.products.some((q) => sameCategory(q, p)));
      const covered = g.products.length === 0 ? `it covers every product but ${x.products.join(', ')} now` : `it covers only ${still.join(', ')} now`;
      g.gaps.push(`partly withdrawn on ${x.at} (${x.id}) for ${x.products.join(', ')}: ${covered}`);
    }
    g.state = g.beforeReassignment
      ? 'void'
      : g.withdrawnBy
        ? 'withdrawn'
        : g.expiresAt && Date.parse(g.expiresAt) <= now
          ? 'expired'
          : g.source.bundled || g.channel !== 'phone' || !countsUnderLaw(g, entities.get(g.entityId ?? ''), now)
            ? 'not_valid'
            : 'active';
    // A proof must not call a consent in force that the person's later objection overrides – nor one
    // an erasure turned into a suppression entry (its objection or the request itself).
    if (g.state === 'active' && rows.some((r) => r.type === 'objection' && r.entity_id === g.entityId && Date.parse(r.at) >= Date.parse(g.at))) g.state = 'objected';
    if (g.state === 'active' && suppressionEntries.some((x) => x.entityId === g.entityId && x.at >= Date.parse(g.at))) g.state = 'objected';
  }
  for (const c of consents) if (c.status === 'withdrawn') c.state = 'withdrawal';

  let objections = rows.filter((r) => r.type === 'objection').map(base);
  let callList = calls;
  let otherGrounds: ProofOther[] = rows
    .filter((r) => ['relationship', 'contact_request', 'presumed_consent'].includes(r.type))
    .map((r) => ({ ...base(r), data: timesAsIso(payloadOf(r)) }));

  if (consentRow) {
    // A consent's own dossier: that consent, what ended it, its uses, and the entity's objections.
    const own = consents.find((c) => c.id === consentRow!.id)!;
    // A withdrawal's own proof shows the consents it ended, as a consent's shows its withdrawal.
    const related = new Set([own.id, ...(own.withdrawnBy ? [own.withdrawnBy.id] : []), ...own.withdraws]);
    consents = consents.filter((c) => related.has(c.id));
    callList = calls.filter((k) => k.evidence.includes(own.id));
    otherGrounds = [];
    objections = objections.filter((o) => o.entityId === own.entityId);
  }

  const decisions: ProofDecision[] = [];
  if (e164) {
    for (const id of entityIds) {
      if (!entities.has(id)) continue;
      // A consent limited to products carries only calls about them (DE-3): asked without a
      // product, the engine would refuse what the consent allows. So: one answer per product named.
      const products = [...new Set(consents.filter((c) => c.entityId === id && c.status === 'granted' && c.state === 'active').flatMap((c) => c.products))].slice(0, 10);
      for (const productCategory of products.length > 0 ? products : [null]) {
        const { decision } = await app.evaluate({ phone: e164, entityId: id, at: now, productCategory: productCategory ?? undefined });
        decisions.push({
          entityId: id,
          productCategory,
          at: iso(now),
          allowed: decision.allowed,
          basis: decision.basis,
          jurisdiction: decision.jurisdiction,
          denials: decision.denials,
          obligations: decision.obligations,
          evidence: decision.evidence ?? [],
          reasons: decision.reasons,
        });
      }
    }
  }

  const shown = new Set([...consents.map((c) => c.id), ...objections.map((o) => o.id), ...callList.map((k) => k.id), ...otherGrounds.map((o) => o.id), ...rows.filter((r) => r.type === 'reassignment').map((r) => r.id)]);
  const problems: ProofDossier['integrity']['problems'] = [];
  for (const id of shown) {
    const p = positions.get(id);
    if (!p) problems.push({ eventId: id, detail: 'the event has no place in the hash chain' });
    else if (!p.contentOk) problems.push({ eventId: id, detail: 'the event\'s content does not match its digest: it was edited' });
    else if (!p.linkOk) problems.push({ eventId: id, detail: 'the event\'s link hash is wrong' });
    else if (!p.nextOk) problems.push({ eventId: id, detail: 'the event after it does not link to it: events were removed or reordered' });
  }

  return {
    format: DOSSIER_FORMAT,
    generatedAt: iso(now),
    generatedBy: q.keyId ?? null,
    rulesVersion: RULES_VERSION,
    query: { phone: q.phone ?? null, entityId: q.entityId ?? null, consentId: q.consentId ?? null },
    subject: { phone: e164, email, jurisdiction: subjectJurisdiction },
    entities: [...entities.values()].map((e) => ({
      id: e.id,
      name: e.name,
      kind: e.kind,
      country: e.country,
      parentId: e.parentId ?? null,
      controller: e.controller ?? null,
      language: e.controller?.language ?? DEFAULT_LANGUAGE[e.country],
    })),
    consents,
    objections,
    calls: callList,
    otherGrounds,
    reassignments: rows.filter((r) => r.type === 'reassignment').map(base),
    suppressions: suppressionEntries.map((s) => ({ id: s.id, entityId: s.entityId, reason: s.reason, at: iso(s.at), createdAt: iso(s.createdAt), eventId: s.eventId })),
    imports: await importsById(app.store.db as never, [...new Set(rows.flatMap((r) => (r.import_id ? [r.import_id] : [])))]),
    decisions,
    integrity: { ok: problems.length === 0, events: shown.size, problems, howToVerify: HOW_TO_VERIFY },
  };
}

/** Each row's chain position, checked locally: its digest, its link, and the link to it from the next event. */
async function chainPositions(app: Optline, rows: EventsTable[]): Promise<Map<string, ChainPosition>> {
  const out = new Map<string, ChainPosition>();
  const byChain = new Map<string, EventsTable[]>();
  for (const r of rows) {
    if (r.chain == null || r.chain_seq == null) continue;
    const list = byChain.get(r.chain) ?? [];
    list.push(r);
    byChain.set(r.chain, list);
  }
  for (const [chain, list] of byChain) {
    const seqs = list.map((r) => Number(r.chain_seq) + 1);
    const next = new Map<number, string | null>();
    for (let i = 0; i < seqs.length; i += 500) {
      const found = await app.store.db.selectFrom('events').select(['chain_seq', 'prev_hash']).where('chain', '=', chain).where('chain_seq', 'in', seqs.slice(i, i + 500)).execute();
      for (const f of found) next.set(Number(f.chain_seq), f.prev_hash ?? null);
    }
    const head = await app.store.db.selectFrom('chain_heads').select(['seq', 'hash']).where('chain', '=', chain).executeTakeFirst();
    for (const r of list) {
      const seq = Number(r.chain_seq);
      const following = next.get(seq + 1);
      const isHead = head != null && Number(head.seq) === seq;
      out.set(r.id, {
        chain,
        seq,
        hash: r.hash ?? '',
        prevHash: r.prev_hash ?? '',
        contentHash: r.content_hash ?? '',
        personalHash: r.personal_hash ?? null,
        contentOk: storedContentOk(r),
        linkOk: r.prev_hash != null && linkOk(r, r.prev_hash, seq),
        nextOk: following !== undefined ? following === r.hash : isHead && head.hash === r.hash,
      });
    }
  }
  return out;
}
