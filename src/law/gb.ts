/**
 * United Kingdom – PECR regulations 21, 21A and 21B, rows GB-1 … GB-5 of shared/law/gb.md.
 * Opt-out regime for live calls: allowed unless the number has been in the TPS (individuals, sole
 * traders) or CTPS (corporate subscribers) for 28 days or more, or the person told this caller
 * not to call. Consent to this caller overrides the listing. Claims management and pensions
 * need consent (pensions also an existing client relationship).
 */
import type { Basis, Decision, Denial, Facts, Obligation, Question, Reason, RelationshipFact, RelationshipKind, RulePack } from './types.js';
import { daysToCall, isoDay } from './time.js';
import { pass, fail, tidy } from './reasons.js';
import { evidenceFor, analyseConsents, factsAtCall, latest, listingAt, objections, relationships } from './facts.js';
import { RULES_VERSION } from './version.js';
import { sameCategory } from './question.js';
import { withEntityWindows } from './calling-hours.js';

const ZONE = 'Europe/London';

/** The British rules as data. */
export const GB_RULES = {
  /** GB-2: a listing protects from this many days after registration. */
  listingWaitDays: 28,
  /** GB-1: register ids: TPS for individuals and sole traders, CTPS for corporate subscribers. */
  tps: 'gb-tps',
  ctps: 'gb-ctps',
  /**
   * GB-4: the product categories that need consent (regulations 21A and 21B), by the words that put a call's product category in one of them, however the caller spells it
   * ("Claims Management", "personal injury claims", "pension transfer"): when in doubt, the stricter rule.
   */
  consentOnlyWords: { claim: 'claims_management', claims: 'claims_management', pension: 'pensions', pensions: 'pensions' } as Readonly<Record<string, string>>,
  /** GB-4: the category for which an existing client relationship also serves. */
  pensionsCategory: 'pensions',
  /** GB-4: relationships that make the person an existing client. */
  clientKinds: ['purchase', 'subscription'] as ReadonlyArray<RelationshipKind>,
  /**
   * GB-2: the oldest register copy a call may rest on, in days. A number put in the register the
   * day after the copy is protected from 28 days later, and an older copy cannot show it.
   */
  copyMaxAgeDays: 28,
} as const;

const CATEGORY_TEXT: Record<string, string> = {
  claims_management: 'claims management services (regulation 21A)',
  pensions: 'pensions (regulation 21B)',
};

/**
 * GB-4: the consent-only category (claims_management, pensions) a product category falls in, or
 * null. Read two ways, each on the side of caution:
 * - `needs` – what a call needs: the words found anywhere in the text, run together too
 *   ("claimsmanagement", "PensionTransfer"; also "car_suspension": asking consent of such a call
 *   only makes the engine stricter);
 * - `grants` – what a consent's product or a relationship's category covers: whole words only
 *   ("pension", "Claims Management", "ClaimsManagement"), so that "car_suspension" or "pensioner
 *   discounts" never grants a pensions call.
 * Claims first, the stricter rule: a call about pension claims is a claims call, which only consent
 * allows (the client relationship serves pensions calls alone).
 */
export function consentOnlyCategory(category: string | null | undefined, how: 'needs' | 'grants' = 'needs'): string | null {
  if (category == null) return null;
  const text = category.toLowerCase();
  // Words as written: split at anything but letters and where a capital starts a word.
  const words = how === 'grants' ? new Set(category.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z]+/)) : null;
  const hits = Object.entries(GB_RULES.consentOnlyWords)
    .filter(([word]) => (words ? words.has(word) : text.includes(word)))
    .map(([, c]) => c);
  return hits.includes('claims_management') ? 'claims_management' : (hits[0] ?? null);
}

const day = (at: number): string => isoDay(at, ZONE);

interface Candidate {
  /** The event the permission comes from. */
  eventId: string;
  basis: Basis;
  at: number;
  fromPerson: boolean;
}

/** GB-4: an existing client relationship for pensions in which such calls are expected. */
function checkPensionClient(r: RelationshipFact, q: Question): { ok: boolean; reason: Reason } {
  const since = day(r.startedAt);
  if (consentOnlyCategory(r.productCategory, 'grants') !== GB_RULES.pensionsCategory) {
    return { ok: false, reason: fail('client_other_product', 'GB-4', `The relationship since ${since} is about ${r.productCategory}, not pensions.`) };
  }
  if (!GB_RULES.clientKinds.includes(r.kind)) {
    return { ok: false, reason: fail('client_no_transaction', 'GB-4', `A ${r.kind.replace('_', ' ')} does not make the person an existing pensions client.`) };
  }
  if (r.endedAt != null && r.endedAt <= q.at) {
    return { ok: false, reason: fail('client_ended', 'GB-4', `The pensions relationship ended on ${day(r.endedAt)}, so the person is no longer an existing client.`) };
  }
  if (!r.informedAtCollection) {
    // "Where such calls are expected": the client was told, when the details were collected, that pensions calls would follow.
    return {
      ok: false,
      reason: fail('client_not_expecting_calls', 'GB-4', 'The client was not told when the details were collected that such calls would follow, so they are not expected and the client relationship does not serve.'),
    };
  }
  if (!r.optOutOfferedAtCollection) {
    return {
      ok: false,
      reason: fail('client_no_refusal_offered', 'GB-4', 'No simple way to refuse such calls was offered when the details were collected, so the client relationship does not serve.'),
    };
  }
  return {
    ok: true,
    reason: pass('pension_client', 'GB-4', `The person is an existing pensions client of ${q.entity.name} since ${since}, was told such calls would follow and was offered a simple way to refuse them.`),
  };
}

export function decideGB(facts: Facts, q: Question): Decision {
  const reasons: Reason[] = [];
  const counted = factsAtCall(facts, q, 'GB-1', ZONE);
  reasons.push(...counted.reasons);

  if (q.purpose === 'service') {
    reasons.push(pass('service_call', 'GB-1', 'A service call that markets nothing is not a direct-marketing call, so regulation 21 does not apply.'));
    reasons.push(pass('caller_id', 'GB-5', 'Present a caller number that can be called back.'));
    return { allowed: true, basis: null, jurisdiction: 'GB', rulesVersion: RULES_VERSION, denials: [], reasons, obligations: ['show_caller_id'] };
  }

  const category = consentOnlyCategory(q.productCategory);
  const restricted = category !== null;
  const needsConsent = restricted || q.prerecorded;
  // What the call needs beyond the opt-out rule, said as failing until the permission it needs is
  // found (then as met: an allowed call shows no failed condition).
  let categoryNeed: number | null = null;
  let recordedNeed: number | null = null;
  if (restricted) {
    const named = q.productCategory === category ? '' : ` ("${q.productCategory}" is read as ${category.replace('_', ' ')})`;
    categoryNeed = reasons.length;
    reasons.push(
      fail(
        'consent_only_category',
        'GB-4',
        category === GB_RULES.pensionsCategory
          ? `Calls about ${CATEGORY_TEXT[category]}${named} need the person's consent to such calls or an existing client relationship in which such calls are expected.`
          : `Calls about ${CATEGORY_TEXT[category] ?? category}${named} need the person's prior consent to such calls.`,
      ),
    );
  }
  if (q.prerecorded) {
    recordedNeed = reasons.length;
    reasons.push(
      fail('recorded_message', 'GB-1', "The opt-out rule covers live calls only; a marketing call that plays a recorded message needs the person's prior consent (regulation 19)."),
    );
  }
  if (!needsConsent) {
    reasons.push(pass('opt_out_regime', 'GB-1', 'A live marketing call is allowed unless the person told this caller not to call or the number is in the TPS/CTPS.'));
  }

  const candidates: Candidate[] = [];

  // GB-3: consent to this caller (overrides the listing, for this caller only; withdrawable);
  // GB-4: for claims management or pensions, consent that names such calls
  const consent = analyseConsents(counted, facts, q, {
    rule: restricted ? 'GB-4' : 'GB-3',
    entityRule: 'GB-3',
    requireProducts: restricted,
    rejectMethods: [],
    zone: ZONE,
    // A consent to "pension" calls names pensions calls, whatever the call's own spelling.
    // Both read by whole words: a consent for "car_suspension" grants no pensions call, and a
    // claims consent no call about "reclaimed_furniture".
    sameProduct: (named, called) => {
      if (sameCategory(named, called)) return true;
      const grants = consentOnlyCategory(named, 'grants');
      return grants !== null && grants === consentOnlyCategory(called, 'grants');
    },
  });
  reasons.push(...consent.reasons);
  if (consent.valid) candidates.push({ basis: 'consent', eventId: consent.valid.id, at: consent.valid.at, fromPerson: true });

  // GB-4: pensions through an existing client relationship
  if (category === GB_RULES.pensionsCategory) {
    const rels = relationships(counted.own).filter((r) => r.startedAt <= q.at);
    for (const r of rels) {
      const check = checkPensionClient(r, q);
      reasons.push(check.reason);
      if (check.ok) candidates.push({ basis: 'customer_relationship', eventId: r.id, at: r.startedAt, fromPerson: false });
    }
    if (rels.length === 0) reasons.push(fail('no_client_relationship', 'GB-4', `The person is not an existing pensions client of ${q.entity.name}.`));
  }

  // GB-1: the person told this caller not to call (withdrawing consent says the same, GB-3);
  // only their own newer consent beats that
  const stop = latest([...objections(counted.own), ...(consent.withdrawal ? [consent.withdrawal] : [])]);
  let usable = candidates;
  if (stop) {
    const told = stop.type === 'objection' ? 'told' : 'withdrew consent and so told';
    usable = usable.filter((c) => c.fromPerson && c.at > stop.at);
    reasons.push(
      usable.length > 0
        ? pass('objection_overridden', 'GB-3', `The person ${told} ${q.entity.name} not to call on ${day(stop.at)} but later consented to its calls.`)
        : fail('objected', stop.type === 'objection' ? 'GB-1' : 'GB-3', `The person ${told} ${q.entity.name} on ${day(stop.at)} not to call.`),
    );
  } else {
    reasons.push(pass('no_objection', 'GB-1', `The person has not told ${q.entity.name} not to call.`));
  }
  const found: Basis | null = usable.find((c) => c.basis === 'consent')?.basis ?? usable[0]?.basis ?? null;
  const met = (i: number | null, how: string): void => {
    // Tidied before more is said after it: withTidyTexts looks only at a text's end.
    if (i !== null) reasons[i] = pass(reasons[i]!.code, reasons[i]!.rule, `${tidy(reasons[i]!.detail)} ${how}`);
  };
  if (found !== null) met(categoryNeed, found === 'consent' ? 'The person gave it.' : 'The person is such a client.');
  if (found === 'consent') met(recordedNeed, 'The person gave it.');
  // A recorded message needs consent (regulation 19): a pensions client relationship does not serve.
  const permission: Basis | null = q.prerecorded && found !== 'consent' ? null : found;

  // GB-1, GB-2: TPS (individuals, sole traders) or CTPS (corporate subscribers)
  const corporate = q.subscriberType === 'business';
  const registerId = corporate ? GB_RULES.ctps : GB_RULES.tps;
  const name = corporate ? 'CTPS' : 'TPS';
  const register = facts.registers.find((r) => r.registerId === registerId);
  let listed = false;
  let stale = false;
  // Only consent overrides the listing (GB-3); a pensions client relationship does not.
  const registerMatters = permission !== 'consent' && (!needsConsent || permission !== null);
  if (!register) {
    if (permission === 'consent') {
      reasons.push(pass('register_not_needed', 'GB-3', `No ${name} copy is loaded, but consent to this caller overrides a listing anyway.`));
    } else if (registerMatters) {
      stale = true;
      reasons.push(fail('register_missing', 'GB-1', `No copy of the ${name} is loaded, so the engine cannot tell whether the number is listed: load the register before calling.`));
    }
  } else {
    const listing = listingAt(register, q.at, GB_RULES.listingWaitDays, ZONE);
    switch (listing.state) {
      case 'not_listed':
        reasons.push(pass('register_not_listed', 'GB-1', `The number is not in the ${name} copy of ${day(register.asOf)}.`));
        break;
      case 'listed_later':
        reasons.push(pass('register_not_yet_listed', 'GB-2', `The number was put in the ${name} on ${day(listing.listedAt)}, after this call.`));
        break;
      case 'waiting':
        reasons.push(
          pass(
            'register_listed_recently',
            'GB-2',
            `The number was put in the ${name} on ${day(listing.listedAt)}, less than ${GB_RULES.listingWaitDays} days before the call; the listing protects it from ${day(listing.protectedFrom)}.`,
          ),
        );
        break;
      case 'in_force':
        listed = true;
        reasons.push(
          permission === 'consent'
            ? pass('register_overridden', 'GB-3', `The number is in the ${name}, but the person consented to calls from ${q.entity.name}, which overrides the listing for this caller.`)
            : fail(
                'register_listed',
                'GB-1',
                listing.listedAt === null
                  ? `The number is in the ${name}.`
                  : `The number has been in the ${name} since ${day(listing.listedAt)}, ${GB_RULES.listingWaitDays} days or more before the call.`,
              ),
        );
        break;
    }
    const age = daysToCall(register.asOf, q.at, ZONE);
    if (registerMatters && (age > GB_RULES.copyMaxAgeDays || age < 0)) {
      // When in doubt, deny: the copy cannot show a listing that protects the number at the call.
      stale = true;
      reasons.push(
        age < 0
          ? fail(
              'register_copy_after_call',
              'GB-1',
              `The ${name} copy is from ${day(register.asOf)}, after the call: it cannot show whether the number was listed then (a listing may have been removed since). The check made before the call read the copy in force then: see its decision on record.`,
            )
          : fail(
              'register_copy_old',
              'GB-2',
              `The ${name} copy is from ${day(register.asOf)}, ${age} days before the call: a number put in the ${name} since then is protected from 28 days after, and this copy cannot show it. Load a copy at most ${GB_RULES.copyMaxAgeDays} days old.`,
            ),
      );
    }
  }

  // The other register too, when a copy is loaded: the subscriber type is only what the caller
  // says, and a listing in the TPS (individuals) or the CTPS (corporate subscribers) says who the
  // subscriber is. Only the missing-copy check follows the type given.
  const otherName = corporate ? 'TPS' : 'CTPS';
  const other = facts.registers.find((r) => r.registerId === (corporate ? GB_RULES.tps : GB_RULES.ctps));
  if (other && listingAt(other, q.at, GB_RULES.listingWaitDays, ZONE).state === 'in_force') {
    listed = true;
    reasons.push(
      permission === 'consent'
        ? pass('register_overridden', 'GB-3', `The number is in the ${otherName}, but the person consented to calls from ${q.entity.name}, which overrides the listing for this caller.`)
        : fail('register_listed', 'GB-1', `The number is in the ${otherName} (${corporate ? 'individuals' : 'corporate subscribers'}), although the call was checked as to ${corporate ? 'a business' : 'an individual'}: the listing counts all the same.`),
    );
  }

  const denials: Denial[] = [];
  if (permission === null && stop) denials.push('objected');
  if (permission === null && needsConsent) denials.push('consent_required');
  if (registerMatters && stale) denials.push('register_stale');
  // A listing the reasons name is a denial too, where no consent overrides it (beside consent_required).
  if (listed && permission !== 'consent') denials.push('register_listed');
  const basis: Basis | null = denials.length > 0 ? null : (permission ?? 'opt_out_regime');

  const obligations: Obligation[] = [];
  if (basis) {
    if (basis === 'customer_relationship') {
      obligations.push('offer_right_to_object');
      reasons.push(pass('offer_refusal', 'GB-4', 'Offer the person a simple way to refuse further pensions calls during this call.'));
    }
    obligations.push('show_caller_id');
    reasons.push(pass('caller_id', 'GB-5', 'Present a caller number that can be called back.'));
  }

  return withEntityWindows(facts, q, 'GB', {
    allowed: basis !== null,
    basis,
    evidence: evidenceFor(basis, usable),
    jurisdiction: 'GB',
    rulesVersion: RULES_VERSION,
    denials,
    reasons,
    obligations,
  });
}

export const unitedKingdom: RulePack = { jurisdiction: 'GB', decide: decideGB };
