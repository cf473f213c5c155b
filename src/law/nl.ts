/**
 * Netherlands – Telecommunicatiewet art. 11.7, rows NL-1 … NL-11 of shared/law/nl.md.
 * Three regimes by the date of the call: opt-out before 2021-07-01, opt-in with the
 * customer-relationship exception until 2026-06-30, opt-in with the exception kept only for
 * charities, charity lotteries and publishers from 2026-07-01.
 */
import { sameCategory } from './question.js';
import type {
  Basis,
  ConsentFact,
  ContactRequestFact,
  Decision,
  Denial,
  Entity,
  EntityFact,
  EntityKind,
  Facts,
  Obligation,
  Question,
  Reason,
  RelationshipFact,
  RelationshipKind,
  RulePack,
} from './types.js';
import { addMonthsIn, isoDay, startOfDay, untilText } from './time.js';
import { pass, fail } from './reasons.js';
import { distinct, evidenceFor, analyseConsents, type ConsentRules, confirmedBy, contactRequests, factsAtCall, latest, objections, ofType, relationships, wasRecorded } from './facts.js';
import { RULES_VERSION } from './version.js';
import { withEntityWindows } from './calling-hours.js';

const ZONE = 'Europe/Amsterdam';

/**
 * NL-10: a consent counts as verified at `at` when its confirmation (by SMS, e-mail, app or
 * letter) came after it was given and before then, or when the call it was given on was
 * recorded. The proof of consent uses the same test (src/proof/dossier.ts).
 */
export function isVerifiedConsent(consent: { at: number; source: Pick<ConsentFact['source'], 'verifiedAt' | 'recordingRef'> }, at: number): boolean {
  return confirmedBy(consent, at) || wasRecorded(consent.source);
}


/** The Dutch rules as data: dates of change and the sets the rows name. */
export const NL_RULES = {
  /** NL-1, NL-9: opt-in starts and the Bel-me-niet Register ends. */
  optInFrom: startOfDay('2021-07-01', ZONE),
  /** NL-3: the customer-relationship exception narrows. */
  relationshipNarrowedFrom: startOfDay('2026-07-01', ZONE),
  /**
   * NL-3: who keeps the exception from 2026-07-01. Ideological organisations are argued to be
   * covered too (unconfirmed): only entities with the setting `ideologicalOrganisation`.
   */
  relationshipSurvivesFor: ['charity', 'lottery', 'publisher'] as ReadonlyArray<EntityKind>,
  /** NL-3(a): relationships that arose from a financial transaction. */
  financialKinds: ['purchase', 'subscription', 'donation'] as ReadonlyArray<RelationshipKind>,
  /** NL-6: charities' donors, volunteers and event visitors count as customers. */
  charityKinds: ['donation', 'volunteer', 'event'] as ReadonlyArray<RelationshipKind>,
  /** NL-10: the regulator expects verification of consents given from this day. */
  verificationExpectedFrom: startOfDay('2025-07-01', ZONE),
  registerId: 'nl-bel-me-niet',
} as const;

type Regime = 'opt_out' | 'opt_in' | 'opt_in_narrowed';

function regimeAt(at: number): Regime {
  if (at < NL_RULES.optInFrom) return 'opt_out';
  if (at < NL_RULES.relationshipNarrowedFrom) return 'opt_in';
  return 'opt_in_narrowed';
}

const REGIME_TEXT: Record<Regime, string> = {
  opt_out: 'before 1 July 2021 the opt-out regime applies: calls are allowed unless the number is in the Bel-me-niet Register or the person objected',
  opt_in: 'from 1 July 2021 a call to a natural person needs consent, a customer relationship or the person\'s own request',
  opt_in_narrowed:
    'from 1 July 2026 a call to a natural person needs consent or the person\'s own request; the customer-relationship exception remains only for charities, charity lotteries and publishers',
};

/**
 * NL-5: the last moment a customer relationship that ended counts – its end plus the term, on the
 * Dutch calendar (an end at Amsterdam midnight on 1 March runs to midnight on 1 March).
 */
export function relationshipTermEnd(endedAt: number, termMonths: number): number {
  return addMonthsIn(endedAt, termMonths, ZONE);
}

/**
 * When a relationship that ended stops being a basis for `e`'s calls (NL-5), or null when it is
 * none at `at` whatever its term: a kind that is no transaction for this caller (NL-3, NL-6), or a
 * caller that lost the exception on 2026-07-01. For lists of what is about to run out.
 */
export function relationshipBasisEnd(e: Entity, r: Pick<RelationshipFact, 'kind' | 'endedAt'>, at: number): number | null {
  const isCharity = e.kind === 'charity' || e.ideologicalOrganisation === true;
  if (!NL_RULES.financialKinds.includes(r.kind) && !(isCharity && NL_RULES.charityKinds.includes(r.kind))) return null;
  if (regimeAt(at) === 'opt_in_narrowed' && !NL_RULES.relationshipSurvivesFor.includes(e.kind) && e.ideologicalOrganisation !== true) return null;
  return r.endedAt == null ? null : relationshipTermEnd(r.endedAt, e.relationshipTermMonths);
}

interface Candidate {
  /** The event the permission comes from. */
  eventId: string;
  basis: Basis;
  /** When the permission arose: newer permissions beat older objections and withdrawals. */
  at: number;
  /** Whether the person's later objection can be overcome by this permission (only their own word can). */
  fromPerson: boolean;
}

function checkRelationship(
  r: RelationshipFact,
  q: Question,
  regime: Regime,
): { ok: boolean; reasons: Reason[] } {
  const e = q.entity;
  const since = isoDay(r.startedAt, ZONE);
  const reasons: Reason[] = [];
  // NL-6: charities and ideological organisations count their supporters as customers.
  const isCharity = e.kind === 'charity' || e.ideologicalOrganisation === true;
  const counts = NL_RULES.financialKinds.includes(r.kind) || (isCharity && NL_RULES.charityKinds.includes(r.kind));
  if (!counts) {
    reasons.push(
      r.kind === 'quote_request'
        ? fail('relationship_no_transaction', 'NL-3', `The ${since} quote request is not a purchase: a quote or information request gives no customer relationship.`)
        : fail('relationship_no_transaction', 'NL-6', `A ${r.kind} relationship counts as a customer relationship only for charities.`),
    );
    return { ok: false, reasons };
  }
  reasons.push(
    isCharity && r.kind !== 'donation' && !NL_RULES.financialKinds.includes(r.kind)
      ? pass('relationship_charity_supporter', 'NL-6', `As a ${r.kind === 'event' ? 'visitor of an event' : 'volunteer'} of ${e.name} (since ${since}) the person counts as a customer of the ${e.kind === 'charity' ? 'charity' : 'organisation'}.`)
      : pass('relationship_transaction', 'NL-3', `The number was obtained with a ${r.kind} on ${since}.`),
  );
  let ok = true;
  if (r.informedAtCollection) {
    reasons.push(pass('relationship_informed', 'NL-3', 'The person was told at collection that the number would be used for telephone marketing.'));
  } else {
    ok = false;
    reasons.push(fail('relationship_not_informed', 'NL-3', 'The person was not told at collection that the number would be used for telephone marketing.'));
  }
  if (r.optOutOfferedAtCollection) {
    reasons.push(pass('relationship_opt_out_offered', 'NL-3', 'An opt-out was offered when the number was collected.'));
  } else if (r.startedAt < NL_RULES.optInFrom) {
    reasons.push(pass('relationship_transitional', 'NL-4', `No opt-out was offered at collection, but the person became a customer before 1 July 2021, so the transitional rule applies.`));
  } else {
    ok = false;
    reasons.push(fail('relationship_no_opt_out_offered', 'NL-3', 'No opt-out was offered when the number was collected, which is required for customers acquired from 1 July 2021.'));
  }
  if (q.productCategory == null) {
    ok = false;
    reasons.push(fail('relationship_product_unknown', 'NL-3', `A customer relationship only covers ${e.name}'s own similar products (${r.productCategory}); say which product the call offers.`));
  } else if (!sameCategory(q.productCategory, r.productCategory)) {
    ok = false;
    reasons.push(fail('relationship_product_mismatch', 'NL-3', `The relationship is about ${r.productCategory}; the call offers ${q.productCategory}, which is not a similar product.`));
  } else {
    reasons.push(pass('relationship_same_product', 'NL-3', `The call offers ${r.productCategory}, the kind of product the person already has.`));
  }
  if (r.endedAt != null && r.endedAt <= q.at) {
    const until = relationshipTermEnd(r.endedAt, e.relationshipTermMonths);
    if (q.at >= until) {
      ok = false;
      reasons.push(fail('relationship_expired', 'NL-5', `The relationship ended on ${isoDay(r.endedAt, ZONE)} and expired on ${isoDay(until, ZONE)}, ${e.relationshipTermMonths} months later.`));
    } else {
      reasons.push(pass('relationship_in_term', 'NL-5', `The relationship ended on ${isoDay(r.endedAt, ZONE)} and still counts until ${untilText(until, ZONE)} (${e.relationshipTermMonths} months).`));
    }
  } else {
    reasons.push(pass('relationship_ongoing', 'NL-5', 'The relationship is ongoing.'));
  }
  if (regime === 'opt_in_narrowed' && !NL_RULES.relationshipSurvivesFor.includes(e.kind)) {
    if (e.ideologicalOrganisation === true) {
      reasons.push(
        pass(
          'relationship_exception_ideological',
          'NL-3',
          `Since 1 July 2026 only charities, charity lotteries and publishers keep the customer-relationship exception; ${e.name} is set up as a political or ideological organisation, which is argued to be covered too (unconfirmed – the entity's setting ideologicalOrganisation).`,
        ),
      );
    } else {
      ok = false;
      reasons.push(fail('relationship_exception_ended', 'NL-3', `Since 1 July 2026 a customer relationship is no basis for a ${e.kind}; only charities, charity lotteries and publishers keep it.`));
    }
  }
  return { ok, reasons };
}

export function decideNL(facts: Facts, q: Question): Decision {
  const regime = regimeAt(q.at);
  const reasons: Reason[] = [];
  // NL-10: a consent is tied to the person, not the number, so a new holder inherits nothing.
  const counted = factsAtCall(facts, q, 'NL-10', ZONE);
  reasons.push(...counted.reasons);

  if (q.purpose === 'service') {
    reasons.push(pass('service_call', 'NL-11', 'A service call that promotes nothing needs no basis under the telemarketing rules.'));
    return { allowed: true, basis: null, jurisdiction: 'NL', rulesVersion: RULES_VERSION, denials: [], reasons, obligations: ['show_caller_id'] };
  }
  reasons.push(pass('telemarketing_call', 'NL-11', 'This is a telemarketing call, so the telemarketing rules apply.'));

  const naturalPerson = q.subscriberType !== 'business';
  const optOut = regime === 'opt_out' || !naturalPerson;
  reasons.push(
    regime === 'opt_out'
      ? pass('regime_opt_out', 'NL-1', `Call on ${isoDay(q.at, ZONE)}: ${REGIME_TEXT.opt_out}.`)
      : naturalPerson
        ? pass('natural_person', 'NL-1', `Call on ${isoDay(q.at, ZONE)} to a ${q.subscriberType === 'sole_trader' ? 'sole trader' : 'consumer'}: ${REGIME_TEXT[regime]}.`)
        : pass('legal_person_opt_out', 'NL-1', 'Calls to legal persons (companies, foundations, associations) stay opt-out: allowed unless they objected.'),
  );

  const candidates: Candidate[] = [];

  // NL-2 consent (and NL-10 proof)
  const consentRules: ConsentRules = {
    rule: 'NL-2',
    entityRule: 'NL-2',
    requireProducts: false,
    rejectMethods: [],
    zone: ZONE,
  };
  const consent = analyseConsents(counted, facts, q, consentRules);
  reasons.push(...consent.reasons);
  if (consent.valid) {
    const c = consent.valid;
    const verified = isVerifiedConsent(c, q.at);
    let usable = true;
    if (c.at >= NL_RULES.verificationExpectedFrom && !verified) {
      usable = !q.entity.requireVerifiedConsent;
      reasons.push(
        fail(
          'consent_unverified',
          'NL-10',
          usable
            ? 'The consent was not verified (by SMS, e-mail, app or a recorded call); the regulator expects that before the first call.'
            : 'The consent was not verified (by SMS, e-mail, app or a recorded call), and this caller requires verified consent.',
        ),
      );
    } else if (verified) {
      reasons.push(pass('consent_verified', 'NL-10', wasRecorded(c.source) ? 'The consent was given on a recorded call.' : `The consent was confirmed on ${isoDay(c.source.verifiedAt!, ZONE)}, after it was given and before the call.`));
    }
    if (usable) candidates.push({ basis: 'consent', eventId: c.id, at: c.at, fromPerson: true });
    else {
      // Fix (NL-2, NL-10): analyseConsents returns only the newest consent that counts. When that
      // one is blocked as unverified, an older consent that is still valid (not withdrawn, not
      // expired) and verified – or given before 2025-07-01 – keeps counting: a second, unverified
      // consent neither withdraws nor replaces it. Look again without the blocked consents.
      const blocked = (e: EntityFact): boolean =>
        e.type === 'consent' && e.status === 'granted' && e.at >= NL_RULES.verificationExpectedFrom && !isVerifiedConsent(e, q.at);
      const older = analyseConsents({ ...counted, own: counted.own.filter((e) => !blocked(e)) }, facts, q, consentRules).valid;
      if (older) {
        reasons.push(
          pass(
            'consent_earlier_counts',
            'NL-10',
            `The earlier consent of ${isoDay(older.at, ZONE)} ${isVerifiedConsent(older, q.at) ? 'was verified' : 'predates 1 July 2025'} and still counts.`,
          ),
        );
        candidates.push({ basis: 'consent', eventId: older.id, at: older.at, fromPerson: true });
      }
    }
  }

  // NL-3 … NL-6 customer relationship: a basis from 2021-07-01 (before, the opt-out rules and the
  // Bel-me-niet Register decided, for customers too – NL-9: it applied to all callers).
  const rels = relationships(counted.own).filter((r) => r.startedAt <= q.at);
  if (regime === 'opt_out' && rels.length > 0) {
    reasons.push(fail('relationship_before_opt_in', 'NL-3', 'Before 1 July 2021 a customer relationship was no basis of its own: the Bel-me-niet Register and objections decide, as for any caller.'));
  }
  if (!optOut) {
    for (const r of rels) {
      const check = checkRelationship(r, q, regime);
      reasons.push(...check.reasons);
      if (check.ok) candidates.push({ basis: 'customer_relationship', eventId: r.id, at: r.startedAt, fromPerson: false });
    }
    if (rels.length === 0) {
      reasons.push(fail('no_relationship', 'NL-3', `No customer relationship with ${q.entity.name} is on record.`));
    }
    if (relationships(counted.others).length > 0) {
      // The other entity is not named: a caller's key must not learn another's records.
      reasons.push(fail('relationship_other_entity', 'NL-3', 'A customer relationship with another legal entity does not count: only the same legal entity may call, not a parent, sister or subsidiary.'));
    }
  }

  // NL-7 requested communication: one call per request. A call made after a request uses it up –
  // a telemarketing call, not a service call (NL-11); of the requests still open, the newest that
  // covers the call's product counts (a request that names a product covers only that one).
  const requests = contactRequests(counted.own);
  const request = latest(requests);
  if (request) {
    const calls = counted.own.filter(ofType('call')).filter((c) => c.at < q.at && c.purpose !== 'service');
    const usedBy = (r: ContactRequestFact) => calls.find((c) => c.at >= r.at);
    const open = requests.filter((r) => !usedBy(r));
    const covering = latest(open.filter((r) => !r.productCategory || sameCategory(r.productCategory, q.productCategory)));
    if (covering) {
      reasons.push(pass('request_open', 'NL-7', `The person asked on ${isoDay(covering.at, ZONE)} to be called about "${covering.offer}": one call about that is allowed.`));
      candidates.push({ basis: 'requested_communication', eventId: covering.id, at: covering.at, fromPerson: true });
    } else if (open.length === 0) {
      reasons.push(fail('request_used', 'NL-7', `The person asked on ${isoDay(request.at, ZONE)} to be called about "${request.offer}"; that one call was made on ${isoDay(usedBy(request)!.at, ZONE)}.`));
    } else {
      // Open, but about another product (or the call names none).
      const other = latest(open)!;
      reasons.push(
        fail(
          'request_other_offer',
          'NL-7',
          q.productCategory
            ? `The person asked on ${isoDay(other.at, ZONE)} to be called about "${other.offer}" (${other.productCategory}), not about ${q.productCategory}.`
            : `The person asked on ${isoDay(other.at, ZONE)} to be called about "${other.offer}" (${other.productCategory}); say which product the call is about.`,
        ),
      );
    }
  } else if (!optOut) {
    reasons.push(fail('no_request', 'NL-7', 'The person has not asked to be called.'));
  }

  // NL-8 objection: beats every older permission; only the person's newer consent or request beats it
  const objection = latest(objections(counted.own));
  const withdrawal = consent.withdrawal;
  // Withdrawing consent to calls says "do not call me", as an objection does (and as DE, GB and US
  // read it): only the person's own newer consent or request beats it, not a customer relationship
  // – whichever came first. Applied first, so that an objection is only said to be overridden by a
  // permission that still counts.
  const afterWithdrawal = withdrawal ? candidates.filter((c) => c.fromPerson && c.at > withdrawal.at) : candidates;
  let usable = afterWithdrawal;
  if (objection) {
    usable = usable.filter((c) => c.fromPerson && c.at > objection.at);
    reasons.push(
      usable.length > 0
        ? pass('objection_overridden', 'NL-8', `The person objected on ${isoDay(objection.at, ZONE)} but later gave a new permission.`)
        : fail('objected', 'NL-8', `The person objected to calls from ${q.entity.name} on ${isoDay(objection.at, ZONE)}.`),
    );
  } else if (!withdrawal || afterWithdrawal.length > 0) {
    // (A withdrawal that nothing newer beats is said below: it stands for an objection.)
    reasons.push(pass('no_objection', 'NL-8', `The person has not objected to calls from ${q.entity.name}.`));
  }
  // Said whenever the withdrawal cut a permission, or – for a natural person from 2021 – stands
  // with nothing newer (under the opt-out rules it is said as an objection, below).
  if (withdrawal && (afterWithdrawal.length < candidates.length || (!optOut && afterWithdrawal.length === 0 && !objection))) {
    reasons.push(
      fail(
        'withdrawal_beats_older',
        'NL-8',
        `The person withdrew consent to calls on ${isoDay(withdrawal.at, ZONE)}; since then only their own new consent or request to be called counts, not a customer relationship.`,
      ),
    );
  }

  // NL-9 Bel-me-niet Register
  let listed = false;
  // A copy from after the call that does not list the number cannot show it was not listed then:
  // a registration may have ended since (as GB-1 and US-2 read their registers).
  let copyAfterCall = false;
  const register = facts.registers.find((r) => r.registerId === NL_RULES.registerId);
  if (regime === 'opt_out') {
    // A listing is a calendar date (the register's, kept as UTC midnight): it holds from that day
    // in the Netherlands, 00:30 Amsterdam time included.
    listed = !!register && register.listed && (register.listedAt == null || new Date(register.listedAt).toISOString().slice(0, 10) <= isoDay(q.at, ZONE));
    copyAfterCall = !!register && !listed && isoDay(register.asOf, ZONE) > isoDay(q.at, ZONE);
    if (!register) {
      // The register's data was deleted by law in 2021, so an audit of an older call usually has
      // no copy: without one the call cannot be shown lawful under the opt-out rules (when in
      // doubt, deny). The person's own consent or request to be called still carries the call.
      reasons.push(fail('register_unavailable', 'NL-9', 'No copy of the Bel-me-niet Register is loaded (its data was deleted on 1 July 2021), so this call could not be checked against it; only the person\'s consent or request to be called can allow it.'));
    } else if (copyAfterCall) {
      reasons.push(
        fail(
          'register_copy_after_call',
          'NL-9',
          `The Bel-me-niet Register copy is from ${isoDay(register.asOf, ZONE)}, after the call: it does not list the number, but cannot show that the number was not listed on ${isoDay(q.at, ZONE)}. The check made before the call read the copy in force then (see its decision on record); only the person's consent or request to be called can allow it.`,
        ),
      );
    } else {
      reasons.push(
        listed
          ? fail('register_listed', 'NL-9', 'The number is in the Bel-me-niet Register.')
          : pass('register_not_listed', 'NL-9', 'The number is not in the Bel-me-niet Register.'),
      );
    }
  } else if (naturalPerson || register?.listed) {
    reasons.push(pass('register_abolished', 'NL-9', 'The Bel-me-niet Register was abolished on 1 July 2021 and is no longer consulted.'));
  }

  const order: Basis[] = ['consent', 'customer_relationship', 'requested_communication'];
  const best = order.find((b) => usable.some((c) => c.basis === b)) ?? null;

  let basis: Basis | null = best;
  const denials: Denial[] = [];
  if (!basis && optOut) {
    // Withdrawing consent to calls says "do not call me": under the opt-out rules that is an
    // objection (NL-8), whatever basis the call would otherwise have had.
    if (withdrawal && !objection) {
      reasons.push(fail('withdrawal_is_objection', 'NL-8', `The person withdrew consent to calls on ${isoDay(withdrawal.at, ZONE)}; that counts as an objection to further calls.`));
    }
    const objectedNow = objection !== null || withdrawal !== null;
    if (objectedNow) denials.push('objected');
    if (listed) denials.push('register_listed');
    if (regime === 'opt_out' && (!register || copyAfterCall)) denials.push('register_stale');
    if (denials.length === 0) basis = 'opt_out_regime';
  }
  if (!basis && denials.length === 0) {
    denials.push(objection ? 'objected' : 'no_basis');
  }

  const obligations: Obligation[] = [];
  if (basis) {
    if (basis === 'requested_communication') {
      obligations.push('name_caller_offer_channel');
    } else {
      obligations.push('offer_right_to_object');
      if (regime === 'opt_out') obligations.push('mention_bel_me_niet');
    }
    obligations.push('show_caller_id');
    reasons.push(pass('caller_id', 'NL-8', 'Show a callable caller number; hidden numbers are not allowed.'));
  }

  return withEntityWindows(facts, q, 'NL', {
    allowed: basis !== null,
    basis,
    evidence: evidenceFor(basis, usable),
    jurisdiction: 'NL',
    rulesVersion: RULES_VERSION,
    denials: distinct(denials),
    reasons,
    obligations,
  });
}

export const netherlands: RulePack = { jurisdiction: 'NL', decide: decideNL };
