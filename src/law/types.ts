/**
 * The vocabulary of the decision engine. Everything here is plain data so the engine stays a
 * pure function: facts + question (with the moment of the call) → decision.
 * Instants are epoch milliseconds (numbers) inside the engine; the shell converts RFC 3339.
 */

export const JURISDICTIONS = ['NL', 'DE', 'GB', 'US'] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];

export const ENTITY_KINDS = ['company', 'charity', 'lottery', 'publisher'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

export const BASES = [
  'consent',
  'customer_relationship',
  'requested_communication',
  'opt_out_regime',
  'established_business_relationship',
  'presumed_consent',
] as const;
export type Basis = (typeof BASES)[number];

export const DENIALS = [
  'no_basis',
  'objected',
  'register_listed',
  'register_stale',
  'outside_calling_hours',
  'frequency_cap',
  'consent_required',
  'invalid_number',
  'unsupported_jurisdiction',
] as const;
export type Denial = (typeof DENIALS)[number];

export const OBLIGATIONS = [
  'offer_right_to_object',
  'show_caller_id',
  'mention_bel_me_niet',
  'name_caller_offer_channel',
  'document_consent_use',
] as const;
export type Obligation = (typeof OBLIGATIONS)[number];

export const SUBSCRIBER_TYPES = ['consumer', 'sole_trader', 'business'] as const;
export type SubscriberType = (typeof SUBSCRIBER_TYPES)[number];

export const LINE_TYPES = ['mobile', 'fixed'] as const;
export type LineType = (typeof LINE_TYPES)[number];

export const CHANNELS = ['phone', 'email', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];

export const CONSENT_METHODS = ['agent_call', 'web_form', 'paper', 'import', 'sms', 'email'] as const;
export type ConsentMethod = (typeof CONSENT_METHODS)[number];

/** How a consent was confirmed before the first call (NL-10): by SMS, e-mail, app, a recorded call, or a letter returned signed. */
export const VERIFICATION_METHODS = ['sms', 'email', 'app', 'recorded_call', 'letter'] as const;
export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

export const RELATIONSHIP_KINDS = [
  'purchase',
  'subscription',
  'donation',
  'quote_request',
  'volunteer',
  'event',
] as const;
export type RelationshipKind = (typeof RELATIONSHIP_KINDS)[number];

/** A calling window in local wall-clock time, minutes after midnight, [from, to). */
export interface CallingWindow {
  fromMinute: number;
  toMinute: number;
  /** ISO weekdays 1 (Monday) … 7 (Sunday); absent: every day. */
  days?: number[];
}

export interface Entity {
  id: string;
  name: string;
  kind: EntityKind;
  country: Jurisdiction;
  parentId?: string | null;
  /** NL-5: how long a customer relationship lasts after it ended. */
  relationshipTermMonths: number;
  /** NL-10 product policy: an unverified consent given from 2025-07-01 blocks instead of warning. */
  requireVerifiedConsent: boolean;
  /**
   * NL-3, NL-6: a political or other ideological organisation. Its donors, volunteers and event
   * visitors count as customers (NL-6), and it keeps the customer-relationship exception from
   * 2026-07-01 as charities do – a reading the law table marks *unconfirmed*, so it is this
   * setting, off unless the entity turns it on. Absent: false.
   */
  ideologicalOrganisation?: boolean;
  /** The entity's own calling windows per country, stricter than the law (US-5 and beyond). */
  callingWindows?: Partial<Record<Jurisdiction, CallingWindow[]>>;
  /** Months personal data is kept after its last use, per called country (not read by the engine; src/service/retention.ts). */
  retention?: Partial<Record<Jurisdiction, { months: number }>>;
  /** Who the controller is, for proof exports (not read by the engine; src/proof/). */
  controller?: ControllerInfo;
}

/** Contact details of a legal entity as a data controller, for consent receipts and dossiers. */
export interface ControllerInfo {
  contact?: string | null;
  email?: string | null;
  phone?: string | null;
  address?: string | null;
  url?: string | null;
  policyUrl?: string | null;
  /** Language of the consent wording and notices (BCP 47, e.g. de). */
  language?: string | null;
}

export interface ConsentSource {
  method: ConsentMethod;
  wording?: string | null;
  agentId?: string | null;
  callId?: string | null;
  recordingRef?: string | null;
  ip?: string | null;
  url?: string | null;
  verifiedAt?: number | null;
  /** How it was confirmed (with verifiedAt). */
  verificationMethod?: VerificationMethod | null;
  /** The browser's User-Agent header, for a consent given on a web form. */
  userAgent?: string | null;
  /** The declaration also covered another channel or was part of another declaration. */
  bundled?: boolean;
}

/**
 * Who gave a consent, beyond the number (NL-10, DE-3: proof must be tied to the person): the name
 * they gave, and the caller's or the lead supplier's reference for them (customer or lead id).
 * Proof only: the engine decides by the number.
 */
export interface ConsentPerson {
  name?: string | null;
  reference?: string | null;
}

interface FactBase {
  id: string;
  entityId: string;
  /** Event time: when the person said or did it. */
  at: number;
}

export interface ConsentFact extends FactBase {
  type: 'consent';
  channel: Channel;
  status: 'granted' | 'withdrawn';
  /** Empty: not limited to products. */
  products: string[];
  expiresAt?: number | null;
  source: ConsentSource;
  person?: ConsentPerson | null;
}

export interface ObjectionFact extends FactBase {
  type: 'objection';
}

export interface RelationshipFact extends FactBase {
  type: 'relationship';
  kind: RelationshipKind;
  productCategory: string;
  /** Same as startedAt: the moment the relationship (and the number) was obtained. */
  startedAt: number;
  endedAt?: number | null;
  informedAtCollection: boolean;
  optOutOfferedAtCollection: boolean;
}

export interface ContactRequestFact extends FactBase {
  type: 'contact_request';
  offer: string;
  /** The offer's product category, where known: then the one call must be about it (NL-7). */
  productCategory?: string | null;
}

export interface CallFact extends FactBase {
  type: 'call';
  decisionId?: string | null;
  /** A decision id the dialer named that is not on record (mistyped, or from before a restore of the store). */
  citedDecisionId?: string;
  /** The basis the call was made on and the events it rested on: each use of a consent (DE-4). */
  basis?: string | null;
  evidence?: string[];
  /** Whether that answer allowed the call, and its denials (absent on calls recorded before these were kept). */
  allowed?: boolean;
  denials?: string[];
  /** The check allowed it, but by the call's own moment the engine no longer did (denials are those). */
  refusedAtCall?: boolean;
  /** Who made it, as the dialer or agent page names the agent. */
  agentId?: string | null;
  /** A service call (NL-11) promotes nothing: it uses up no requested call and counts toward no telemarketing cap. */
  purpose?: 'service';
}

/** DE-2: the caller's recorded justification for presuming a business's consent. */
export interface PresumedConsentFact extends FactBase {
  type: 'presumed_consent';
  justification: string;
  productCategory?: string | null;
}

export type EntityFact =
  | ConsentFact
  | ObjectionFact
  | RelationshipFact
  | ContactRequestFact
  | CallFact
  | PresumedConsentFact;

export interface ReassignmentFact {
  type: 'reassignment';
  id: string;
  at: number;
}

/** A national do-not-call register copy as far as one number is concerned. */
export interface RegisterCheck {
  registerId: string;
  country: Jurisdiction;
  /** Date the register copy was published or downloaded (epoch ms), for staleness (US-2). */
  asOf: number;
  /** Whether the number is in this copy. */
  listed: boolean;
  /** When the number was put on the register, where the copy says (epoch ms). */
  listedAt?: number | null;
}

/** Everything known about one number. Facts of every entity: the engine filters them itself. */
export interface Facts {
  /** Facts recorded against the number, all entities. */
  events: EntityFact[];
  reassignments: ReassignmentFact[];
  /** Registers loaded for the number's country (listed or not). */
  registers: RegisterCheck[];
  /** A stored time zone for the contact (US-5), if known. */
  contactTimeZone?: string | null;
  /**
   * When each event was put on record, by event id, where the path reads it (single decisions; the
   * bulk scrub, which answers no reasons, does not): a decision about a past moment says when a
   * permission it rests on was recorded only later.
   */
  recordedAt?: ReadonlyMap<string, number>;
}

export interface PhoneInfo {
  e164: string;
  /** ISO 3166 country of the number (libphonenumber), e.g. NL, CA. */
  country: string | null;
  lineType: LineType | 'unknown';
  /** IANA zones the number may be in (area code for NANP, country elsewhere). */
  timeZones: string[];
  /** For US numbers: the state the area code belongs to, where known (US-8). */
  region?: string | null;
}

export interface Question {
  entity: Entity;
  phone: PhoneInfo;
  /** The moment of the call, epoch ms. */
  at: number;
  productCategory?: string | null;
  subscriberType: SubscriberType;
  autodialed: boolean;
  prerecorded: boolean;
  /** Caller's statement of the line type; overrides the number's. */
  lineType?: LineType | null;
  /** Requested IANA time zone of the called party. */
  timeZone?: string | null;
  /** NL-11: a service call that promotes nothing is out of scope of the telemarketing rules. */
  purpose: 'marketing' | 'service';
}

export interface Reason {
  code: string;
  rule: string;
  passed: boolean;
  detail: string;
}

export interface Decision {
  allowed: boolean;
  basis: Basis | null;
  jurisdiction: Jurisdiction | null;
  rulesVersion: string;
  denials: Denial[];
  reasons: Reason[];
  obligations: Obligation[];
  /** The recorded events the basis rests on (a consent's id, a relationship's id …), for proof and DE-4. */
  evidence?: string[];
  /** Which calling window applied, where the law or the entity sets one. */
  callingWindow?: AppliedWindow | null;
}

export interface AppliedWindow {
  source: 'law' | 'entity';
  rule: string;
  timeZones: string[];
  from: string;
  to: string;
  /** ISO weekdays 1 (Monday) … 7 (Sunday) the window is open on; absent: every day. */
  days?: number[];
}

/** A country's rule pack: the law of the called number's country. */
export interface RulePack {
  jurisdiction: Jurisdiction;
  decide(facts: Facts, question: Question): Decision;
}
