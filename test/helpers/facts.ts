/**
 * Builders for the engine's plain-data inputs (Entity, Facts, Question), shared by the rule-pack
 * tests of every country. Everything has a sensible default so a test names only what matters.
 * Instants are given as RFC 3339 strings (with an explicit offset – laws change at local
 * midnight) or as epoch milliseconds.
 */
import type {
  CallFact,
  ConsentFact,
  ConsentSource,
  ContactRequestFact,
  Entity,
  EntityFact,
  Facts,
  Jurisdiction,
  ObjectionFact,
  PhoneInfo,
  PresumedConsentFact,
  Question,
  ReassignmentFact,
  RegisterCheck,
  RelationshipFact,
} from '../../src/law/types.js';
import { parsePhone } from '../../src/phone/index.js';

/** An instant: RFC 3339 with an offset, or epoch ms. */
export type When = string | number;

/** Epoch ms of an instant; throws on strings without an explicit offset or that do not parse. */
export function ms(when: When): number {
  if (typeof when === 'number') return when;
  if (!/(Z|[+-]\d\d:\d\d)$/.test(when)) throw new Error(`instant without offset: ${when}`);
  const t = Date.parse(when);
  if (Number.isNaN(t)) throw new Error(`bad instant: ${when}`);
  return t;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

let seq = 0;
const nextId = (prefix: string): string => `${prefix}-${++seq}`;

/** An entity, or its id. */
export type EntityRef = Pick<Entity, 'id'> | string;
const idOf = (e: EntityRef): string => (typeof e === 'string' ? e : e.id);

export function makeEntity(overrides: Partial<Entity> = {}): Entity {
  return {
    id: 'entity-1',
    name: 'Test Caller',
    kind: 'company',
    country: 'NL',
    parentId: null,
    relationshipTermMonths: 36,
    requireVerifiedConsent: false,
    ...overrides,
  };
}

/* ------------------------------------------------------------------ facts about a number */

export interface ConsentOptions {
  channel?: ConsentFact['channel'];
  products?: string[];
  expiresAt?: When | null;
  source?: Partial<ConsentSource>;
  id?: string;
}

/** A granted consent (default: phone channel, all products, web form, no expiry, unverified). */
export function consent(entity: EntityRef, at: When, o: ConsentOptions = {}): ConsentFact {
  return {
    type: 'consent',
    id: o.id ?? nextId('consent'),
    entityId: idOf(entity),
    at: ms(at),
    channel: o.channel ?? 'phone',
    status: 'granted',
    products: o.products ?? [],
    expiresAt: o.expiresAt == null ? null : ms(o.expiresAt),
    source: { method: 'web_form', ...o.source },
  };
}

/** A withdrawal of consent (default: phone channel, all products). */
export function withdrawal(entity: EntityRef, at: When, o: Omit<ConsentOptions, 'expiresAt'> = {}): ConsentFact {
  return { ...consent(entity, at, o), id: o.id ?? nextId('withdrawal'), status: 'withdrawn' };
}

export function objection(entity: EntityRef, at: When): ObjectionFact {
  return { type: 'objection', id: nextId('objection'), entityId: idOf(entity), at: ms(at) };
}

export interface RelationshipOptions {
  kind?: RelationshipFact['kind'];
  productCategory?: string;
  endedAt?: When | null;
  informedAtCollection?: boolean;
  optOutOfferedAtCollection?: boolean;
  /** Event time; default: startedAt. */
  at?: When;
}

/** A relationship that meets every condition by default: a purchase, informed, opt-out offered, ongoing. */
export function relationship(entity: EntityRef, startedAt: When, o: RelationshipOptions = {}): RelationshipFact {
  return {
    type: 'relationship',
    id: nextId('relationship'),
    entityId: idOf(entity),
    at: ms(o.at ?? startedAt),
    startedAt: ms(startedAt),
    kind: o.kind ?? 'purchase',
    productCategory: o.productCategory ?? 'energy',
    endedAt: o.endedAt == null ? null : ms(o.endedAt),
    informedAtCollection: o.informedAtCollection ?? true,
    optOutOfferedAtCollection: o.optOutOfferedAtCollection ?? true,
  };
}

export function contactRequest(entity: EntityRef, at: When, offer = 'a call about the offer', productCategory: string | null = null): ContactRequestFact {
  return { type: 'contact_request', id: nextId('request'), entityId: idOf(entity), at: ms(at), offer, productCategory };
}

/** A call that was made (recorded after the fact). */
export function call(entity: EntityRef, at: When): CallFact {
  return { type: 'call', id: nextId('call'), entityId: idOf(entity), at: ms(at), decisionId: null };
}

export function presumedConsent(
  entity: EntityRef,
  at: When,
  o: { justification?: string; productCategory?: string | null } = {},
): PresumedConsentFact {
  return {
    type: 'presumed_consent',
    id: nextId('presumed'),
    entityId: idOf(entity),
    at: ms(at),
    justification: o.justification ?? 'The business asked for an offer at the trade fair.',
    productCategory: o.productCategory ?? null,
  };
}

export function reassignment(at: When): ReassignmentFact {
  return { type: 'reassignment', id: nextId('reassignment'), at: ms(at) };
}

export function registerCheck(
  registerId: string,
  country: Jurisdiction,
  o: { listed?: boolean; listedAt?: When | null; asOf?: When } = {},
): RegisterCheck {
  return {
    registerId,
    country,
    asOf: ms(o.asOf ?? '2020-01-01T00:00:00Z'),
    listed: o.listed ?? true,
    listedAt: o.listedAt == null ? null : ms(o.listedAt),
  };
}

export interface FactsInit {
  events?: EntityFact[];
  reassignments?: ReassignmentFact[];
  registers?: RegisterCheck[];
  contactTimeZone?: string | null;
}

export function makeFacts(init: FactsInit = {}): Facts {
  return {
    events: init.events ?? [],
    reassignments: init.reassignments ?? [],
    registers: init.registers ?? [],
    contactTimeZone: init.contactTimeZone ?? null,
  };
}

/* ------------------------------------------------------------------ the question */

/** A valid mobile number of each supported country, as parsePhone returns it. */
export const PHONES: Record<Jurisdiction, PhoneInfo> = {
  NL: { e164: '+31612345678', country: 'NL', lineType: 'mobile', timeZones: ['Europe/Amsterdam'] },
  DE: { e164: '+4915123456789', country: 'DE', lineType: 'mobile', timeZones: ['Europe/Berlin'] },
  GB: { e164: '+447400123456', country: 'GB', lineType: 'mobile', timeZones: ['Europe/London'] },
  US: {
    e164: '+12025550123',
    country: 'US',
    lineType: 'fixed',
    timeZones: ['America/New_York'],
    region: 'DC',
  },
};

/** A marketing call to a consumer on the entity's country's number at the given moment. */
export function makeQuestion(entity: Entity, at: When, overrides: Partial<Question> = {}): Question {
  return {
    entity,
    phone: PHONES[entity.country],
    at: ms(at),
    productCategory: null,
    subscriberType: 'consumer',
    autodialed: false,
    prerecorded: false,
    lineType: null,
    timeZone: null,
    purpose: 'marketing',
    ...overrides,
  };
}

/* ------------------------------------------------------------------ real numbers (DE, GB, US packs) */

/**
 * A number as the service reads it (parsePhone: country, line type, the area code's zones and US
 * state from the generated data), with the fields a test wants to pin down overridden.
 */
export function phone(e164: string, overrides: Partial<PhoneInfo> = {}): PhoneInfo {
  return { ...parsePhone(e164), ...overrides };
}
