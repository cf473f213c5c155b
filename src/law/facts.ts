import { sameCategory } from './question.js';
import type {
  ConsentFact,
  ContactRequestFact,
  EntityFact,
  Facts,
  ObjectionFact,
  Question,
  Reason,
  RegisterCheck,
  RelationshipFact,
} from './types.js';
import { DAY_MS, daysToCall, isoDay } from './time.js';
import { pass, fail } from './reasons.js';

/**
 * The facts that count at the moment of the call: nothing recorded with an event time after the
 * call (so audits see what was known then), nothing from before the number was reassigned.
 */
export interface FactsAtCall {
  /** This entity's facts that count, oldest first. */
  own: EntityFact[];
  /** Other entities' facts that count (shown, never used: NL-3(b), DE-3). */
  others: EntityFact[];
  reassignedAt: number | null;
  reasons: Reason[];
}

/** `zone`: where the reassignment's day is named (the country's; US dates are given in UTC). */
export function factsAtCall(facts: Facts, question: Question, reassignRule: string, zone = 'utc'): FactsAtCall {
  const t = question.at;
  let reassignedAt: number | null = null;
  for (const r of facts.reassignments) {
    if (r.at <= t && (reassignedAt === null || r.at > reassignedAt)) reassignedAt = r.at;
  }
  const reasons: Reason[] = [];
  const own: EntityFact[] = [];
  const others: EntityFact[] = [];
  // One pass, and a sort only for events out of order: histories come from the store ordered by
  // time, and the engine is asked this for every decision (a bulk scrub: hundreds of thousands).
  let ordered = true;
  let last = -Infinity;
  for (const e of facts.events) {
    if (e.at > t || (reassignedAt !== null && e.at < reassignedAt)) continue;
    if (e.at < last) ordered = false;
    last = e.at;
    (e.entityId === question.entity.id ? own : others).push(e);
  }
  if (!ordered) {
    // Stable, as Array.prototype.sort is: events of one moment keep their order.
    own.sort((a, b) => a.at - b.at);
    others.sort((a, b) => a.at - b.at);
  }
  if (reassignedAt !== null) {
    const dropped = facts.events.filter((e) => e.at < reassignedAt!).length;
    reasons.push(
      pass(
        'number_reassigned',
        reassignRule,
        `The number passed to a new holder on ${isoDay(reassignedAt, zone)}; ${dropped} earlier record(s) about the previous holder no longer count.`,
      ),
    );
  }
  return {
    own,
    others,
    reassignedAt,
    reasons,
  };
}

export const ofType =
  <T extends EntityFact['type']>(type: T) =>
  (e: EntityFact): e is Extract<EntityFact, { type: T }> =>
    e.type === type;

export function latest<T extends { at: number }>(items: T[]): T | null {
  let best: T | null = null;
  for (const i of items) if (best === null || i.at >= best.at) best = i;
  return best;
}

export function objections(own: EntityFact[]): ObjectionFact[] {
  return own.filter(ofType('objection'));
}

export function contactRequests(own: EntityFact[]): ContactRequestFact[] {
  return own.filter(ofType('contact_request'));
}

export function relationships(own: EntityFact[]): RelationshipFact[] {
  return own.filter(ofType('relationship'));
}

/** The call the consent was given on was recorded: a verification of its own (NL-10), and the number tied to the person (DE-3). A blank reference names no recording. */
export function wasRecorded(source: Pick<ConsentFact['source'], 'recordingRef'>): boolean {
  return source.recordingRef != null && source.recordingRef.trim() !== '';
}

/**
 * The consent was confirmed (SMS, e-mail, app, letter) after it was given and by `at`: a
 * confirmation dated before the consent existed confirms something else (NL-10, DE-3).
 */
export function confirmedBy(consent: { at: number; source: Pick<ConsentFact['source'], 'verifiedAt'> }, at: number): boolean {
  const v = consent.source.verifiedAt;
  return v != null && v >= consent.at && v <= at;
}

/** The consent records the wording the person agreed to (DE-4, US-6): not missing, not blank. */
export function hasWording(source: { wording?: string | null }): boolean {
  return source.wording != null && source.wording.trim() !== '';
}

/** Does a consent (or withdrawal) cover the product the call offers? */
function coversProduct(products: string[], product: string | null | undefined, same: (a: string, b: string) => boolean = sameCategory): boolean {
  if (products.length === 0) return true;
  return product != null && products.some((p) => same(p, product));
}

export interface ConsentRules {
  /** Law row for the consent basis (NL-2, DE-1, GB-3, US-1). */
  rule: string;
  /** Law row for the entity being the same legal entity. */
  entityRule: string;
  /** DE-3: the consent must name the products. */
  requireProducts: boolean;
  /** DE-3: a consent captured by e-mail does not tie the phone number to the person. */
  rejectMethods: ReadonlyArray<string>;
  /** Why a consent captured by a rejected method does not count (default: DE-3's reason). */
  rejectWhy?: string;
  /**
   * A country's further conditions on how a consent was captured and documented (DE-3, DE-4):
   * the failing reason, or null when the consent meets them. `when` is its date as the reasons name it.
   */
  checkSource?: (c: ConsentFact, when: string) => Reason | null;
  /** The zone whose calendar dates the reasons name (default UTC: a country of several zones). */
  zone?: string;
  /**
   * Whether a product a consent names is the call's (default: the same category code, whatever its
   * case and spaces). GB-4 reads categories by their words ("pension" names pensions calls).
   */
  sameProduct?: (named: string, called: string) => boolean;
}

export interface ConsentAnalysis {
  /** The newest phone consent that counts for this call, if any. */
  valid: ConsentFact | null;
  /** The newest withdrawal that covers this call, if any. */
  withdrawal: ConsentFact | null;
  reasons: Reason[];
}

/**
 * Checks every phone-relevant consent against the call: channel, entity, products, bundling,
 * expiry, later withdrawal. Returns the newest one that counts with a reason for each looked at.
 */
export function analyseConsents(
  counted: FactsAtCall,
  facts: Facts,
  question: Question,
  rules: ConsentRules,
): ConsentAnalysis {
  const zone = rules.zone ?? 'utc';
  const t = question.at;
  const product = question.productCategory ?? null;
  const same = rules.sameProduct ?? sameCategory;
  const covers = (products: string[], p: string | null | undefined) => coversProduct(products, p, same);
  const reasons: Reason[] = [];
  const consents = counted.own.filter(ofType('consent'));
  const phoneWithdrawals = consents.filter((c) => c.channel === 'phone' && c.status === 'withdrawn');
  // A withdrawal naming products while the call names none may cover the call: treat it as covering.
  const lastWithdrawal = latest(product == null ? phoneWithdrawals : phoneWithdrawals.filter((c) => covers(c.products, product)));

  let valid: ConsentFact | null = null;
  for (const c of consents) {
    if (c.status !== 'granted') continue;
    const when = isoDay(c.at, zone);
    if (c.channel !== 'phone') {
      reasons.push(
        fail('consent_wrong_channel', rules.rule, `The consent of ${when} is for ${c.channel}, which does not cover phone calls.`),
      );
      continue;
    }
    if (c.source.bundled) {
      reasons.push(
        fail(
          'consent_bundled',
          rules.rule,
          `The consent of ${when} was bundled with another channel or declaration, so it is not valid consent for calls.`,
        ),
      );
      continue;
    }
    if (rules.rejectMethods.includes(c.source.method)) {
      reasons.push(
        fail(
          'consent_method_not_proof',
          rules.rule,
          `The consent of ${when} was captured by ${c.source.method}, ${rules.rejectWhy ?? 'which does not tie the phone number to the person'}.`,
        ),
      );
      continue;
    }
    if (rules.requireProducts && c.products.length === 0) {
      reasons.push(
        fail('consent_not_specific', rules.rule, `The consent of ${when} does not name the products it covers, so it is not specific enough.`),
      );
      continue;
    }
    const sourceProblem = rules.checkSource?.(c, when) ?? null;
    if (sourceProblem) {
      reasons.push(sourceProblem);
      continue;
    }
    // Withdrawn for every product it named – at once or one withdrawal a product: that is why it
    // does not count, whatever the call is about.
    const later = phoneWithdrawals.filter((w) => w.at >= c.at);
    const whole = later.some((w) => w.products.length === 0) || (c.products.length > 0 && c.products.every((p) => later.some((w) => covers(w.products, p))));
    const wholly = whole ? latest(later) : null;
    if (wholly) {
      reasons.push(fail('consent_withdrawn', rules.rule, `The consent of ${when} was withdrawn on ${isoDay(wholly.at, zone)}.`));
      continue;
    }
    if (!covers(c.products, product)) {
      reasons.push(
        fail(
          'consent_product_mismatch',
          rules.rule,
          product == null
            ? `The consent of ${when} only covers ${c.products.join(', ')}; say which product the call is about.`
            : `The consent of ${when} covers ${c.products.join(', ')}, not ${product}.`,
        ),
      );
      continue;
    }
    if (c.expiresAt != null && c.expiresAt <= t) {
      reasons.push(fail('consent_expired', rules.rule, `The consent of ${when} expired on ${isoDay(c.expiresAt, zone)}.`));
      continue;
    }
    if (lastWithdrawal && lastWithdrawal.at >= c.at) {
      reasons.push(
        fail('consent_withdrawn', rules.rule, `The consent of ${when} was withdrawn on ${isoDay(lastWithdrawal.at, zone)}.`),
      );
      continue;
    }
    valid = c;
  }
  if (valid) {
    reasons.push(
      pass('consent_valid', rules.rule, `The person gave ${question.entity.name} consent to be called on ${isoDay(valid.at, zone)}.`),
    );
  } else if (!consents.some((c) => c.status === 'granted')) {
    reasons.push(fail('no_consent', rules.rule, `No consent to calls from ${question.entity.name} is on record.`));
  }
  if (counted.others.filter(ofType('consent')).some((c) => c.status === 'granted' && c.channel === 'phone')) {
    // Neither the other entity nor the date is named: a caller's key must not learn another's
    // records (a parent's, a sister's, another client's of the same call centre).
    reasons.push(
      fail(
        'consent_other_entity',
        rules.entityRule,
        `A consent given to another legal entity does not count for ${question.entity.name}: consent is per legal entity (not for a parent, sister or subsidiary either).`,
      ),
    );
  }
  return { valid, withdrawal: lastWithdrawal, reasons };
}

/**
 * Where a number stands in a register copy at the moment of the call, for registers whose listing
 * protects only from a number of days after registration (GB-2: 28, US-2: 31). Days are counted in
 * calendar dates (see daysToCall), so protection starts at the beginning of the day it is due.
 * A listing without a date counts as in force.
 */
export type Listing =
  | { state: 'not_listed' }
  | { state: 'listed_later'; listedAt: number }
  | { state: 'waiting'; listedAt: number; protectedFrom: number }
  | { state: 'in_force'; listedAt: number | null };

export function listingAt(register: RegisterCheck, at: number, waitDays: number, zone: string): Listing {
  if (!register.listed) return { state: 'not_listed' };
  const listedAt = register.listedAt ?? null;
  if (listedAt === null) return { state: 'in_force', listedAt };
  if (listedAt > at) return { state: 'listed_later', listedAt };
  if (daysToCall(listedAt, at, zone) < waitDays) {
    return { state: 'waiting', listedAt, protectedFrom: (Math.floor(listedAt / DAY_MS) + waitDays) * DAY_MS };
  }
  return { state: 'in_force', listedAt };
}

/** The events a chosen basis rests on, newest first: what proof exports and DE-4 point to. */
export function evidenceFor(basis: string | null, candidates: Array<{ basis: string; eventId: string; at: number }>): string[] {
  if (!basis) return [];
  const chosen = candidates.filter((c) => c.basis === basis);
  // Usually one: no sort (every decision with a basis asks this).
  if (chosen.length > 1) chosen.sort((a, b) => b.at - a.at);
  return chosen.map((c) => c.eventId);
}

/** Each denial once, in the order first given (a decision's denials are a handful: no Set). */
export function distinct<T>(items: readonly T[]): T[] {
  const out: T[] = [];
  for (const x of items) if (!out.includes(x)) out.push(x);
  return out;
}
