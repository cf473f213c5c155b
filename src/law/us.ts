/**
 * United States – Telemarketing Sales Rule and TCPA, rows US-1 … US-9 of shared/law/us.md.
 * National Do Not Call Registry (opt-out, with prior express written consent and the established
 * business relationship as exceptions), company-specific do-not-call, robocall consent, calling
 * hours in the called party's local time, and Florida's stricter hours and call cap.
 */
import type {
  AppliedWindow,
  Basis,
  CallingWindow,
  Decision,
  Denial,
  Facts,
  LineType,
  Obligation,
  PhoneInfo,
  Question,
  Reason,
  ContactRequestFact,
  RelationshipFact,
  RelationshipKind,
  RulePack,
} from './types.js';
import { addMonthsIn, daysToCall, isoDay, untilText } from './time.js';
import { pass, fail } from './reasons.js';
import { distinct, evidenceFor, analyseConsents, contactRequests, hasWording, factsAtCall, latest, listingAt, objections, ofType, relationships } from './facts.js';
import { RULES_VERSION } from './version.js';
import { checkCallingHours, type LawWindow } from './calling-hours.js';
import { US_AREA_CODES } from '../phone/us-area-codes.js';

const HOUR_MS = 3_600_000;

/** The US rules as data. */
export const US_RULES = {
  registerId: 'us-dnc',
  /** US-2: a registration protects the number from this many days after it. */
  listingWaitDays: 31,
  /** US-2, US-9: the registry copy may be at most this many days old on the date of the call. */
  maxCopyAgeDays: 31,
  /** US-3: EBR after the last purchase, transaction or payment, and after an inquiry. */
  ebrTransactionMonths: 18,
  ebrInquiryMonths: 3,
  /** US-3: relationships that are a purchase, transaction or payment. */
  transactionKinds: ['purchase', 'subscription', 'donation'] as ReadonlyArray<RelationshipKind>,
  /**
   * US-3: of those, the ones that are a single transaction on their date: recorded without an end,
   * the 18 months run from that date (a subscription without an end is a continuing one).
   */
  singleTransactionKinds: ['purchase', 'donation'] as ReadonlyArray<RelationshipKind>,
  /** US-3: relationships that are an inquiry or application. */
  inquiryKinds: ['quote_request'] as ReadonlyArray<RelationshipKind>,
  /** US-1, US-6: consent methods that are not written (no signature). */
  unwrittenMethods: ['agent_call'] as ReadonlyArray<string>,
  /** US-5: federal calling hours, local time. */
  federalWindow: Object.freeze({ fromMinute: 8 * 60, toMinute: 21 * 60 }) satisfies CallingWindow,
  /** US-8: Florida (FTSA): calling hours and at most this many calls per 24 hours. */
  floridaWindow: Object.freeze({ fromMinute: 8 * 60, toMinute: 20 * 60 }) satisfies CallingWindow,
  floridaMaxCalls: 3,
  floridaCapHours: 24,
  /** US-7: the FCC one-to-one consent rule, vacated in January 2025. */
  oneToOneVacated: true,
} as const;

/** Every zone a US number may be in (from the area-code data), for numbers whose zone is unknown. */
export const US_ALL_ZONES: readonly string[] = [...new Set(Object.values(US_AREA_CODES).flatMap(([, ...zones]) => zones))].sort();
/** The same, to ask whether a zone is one (the engine asks for every US decision). */
const US_ZONE_SET: ReadonlySet<string> = new Set(US_ALL_ZONES);

interface Candidate {
  /** The event the permission comes from. */
  eventId: string;
  basis: Basis;
  at: number;
  fromPerson: boolean;
}

/** US-3: does the relationship give an EBR at the moment of the call? */
/**
 * US-3's months on the called party's calendar. Where the number's zone is not known for certain
 * (an area code spanning zones, or none known) the earliest end counts: when in doubt, the EBR is
 * over sooner.
 */
function ebrEnd(from: number, months: number, q: { phone: Pick<PhoneInfo, 'timeZones'> }): { until: number; zone: string } {
  const own = q.phone.timeZones.filter((z) => US_ZONE_SET.has(z));
  let best = { until: Infinity, zone: 'utc' };
  for (const zone of own.length > 0 ? own : US_ALL_ZONES) {
    const until = addMonthsIn(from, months, zone);
    if (until < best.until) best = { until, zone };
  }
  return best;
}

/**
 * When a relationship's EBR ends (US-3), or null while it lasts without an end (a current
 * subscription) or when it is none (a kind that is neither a transaction nor an inquiry). For
 * lists of what is about to run out; decisions use checkEbr.
 */
export function ebrEndOf(r: Pick<RelationshipFact, 'kind' | 'startedAt' | 'endedAt'>, q: { phone: Pick<PhoneInfo, 'timeZones'>; at: number }): number | null {
  if (US_RULES.transactionKinds.includes(r.kind)) {
    if (r.endedAt == null && !US_RULES.singleTransactionKinds.includes(r.kind)) return null;
    return ebrEnd(r.endedAt ?? r.startedAt, US_RULES.ebrTransactionMonths, q).until;
  }
  // As checkEbr counts an inquiry: from its end once that has come, else from its start.
  if (US_RULES.inquiryKinds.includes(r.kind)) return ebrEnd(r.endedAt != null && r.endedAt <= q.at ? r.endedAt : r.startedAt, US_RULES.ebrInquiryMonths, q).until;
  return null;
}

function checkEbr(r: RelationshipFact, q: Question): { ok: boolean; reason: Reason } {
  if (US_RULES.transactionKinds.includes(r.kind)) {
    const single = US_RULES.singleTransactionKinds.includes(r.kind);
    if (r.endedAt != null ? r.endedAt > q.at : !single) {
      return { ok: true, reason: pass('ebr_current', 'US-3', `The person has a current ${r.kind} with ${q.entity.name} (since ${isoDay(r.startedAt)}): an established business relationship.`) };
    }
    // The last transaction: the end on record, or the purchase or donation itself.
    const last = r.endedAt ?? r.startedAt;
    const { until, zone } = ebrEnd(last, US_RULES.ebrTransactionMonths, q);
    const what = r.endedAt != null ? `The last ${r.kind} ended on ${isoDay(last, zone)}` : `The ${r.kind} was made on ${isoDay(last, zone)}`;
    return q.at < until
      ? { ok: true, reason: pass('ebr_transaction', 'US-3', `${what}; the established business relationship lasts until ${untilText(until, zone)} (18 months).`) }
      : { ok: false, reason: fail('ebr_expired', 'US-3', `${what}; the established business relationship ended on ${isoDay(until, zone)} (18 months).`) };
  }
  if (US_RULES.inquiryKinds.includes(r.kind)) {
    const from = r.endedAt != null && r.endedAt <= q.at ? r.endedAt : r.startedAt;
    const { until, zone } = ebrEnd(from, US_RULES.ebrInquiryMonths, q);
    return q.at < until
      ? { ok: true, reason: pass('ebr_inquiry', 'US-3', `The person asked ${q.entity.name} for a quote on ${isoDay(from, zone)}; that inquiry counts as a business relationship until ${untilText(until, zone)} (3 months).`) }
      : { ok: false, reason: fail('ebr_expired', 'US-3', `The person's inquiry of ${isoDay(from, zone)} counted as a business relationship only until ${isoDay(until, zone)} (3 months).`) };
  }
  return { ok: false, reason: fail('ebr_no_transaction', 'US-3', `A ${r.kind} is neither a purchase nor an inquiry, so it is no established business relationship.`) };
}

/** US-3: the person's own request to be called about an offer is an inquiry – 3 months of EBR. */
function checkInquiry(r: ContactRequestFact, q: Question): { ok: boolean; reason: Reason } {
  const { until, zone } = ebrEnd(r.at, US_RULES.ebrInquiryMonths, q);
  const asked = `The person asked ${q.entity.name} on ${isoDay(r.at, zone)} to be called about "${r.offer.slice(0, 80)}"`;
  return q.at < until
    ? { ok: true, reason: pass('ebr_inquiry', 'US-3', `${asked}; that inquiry counts as a business relationship until ${untilText(until, zone)} (3 months).`) }
    : { ok: false, reason: fail('ebr_expired', 'US-3', `${asked}; that inquiry counted as a business relationship only until ${isoDay(until, zone)} (3 months).`) };
}

export function decideUS(facts: Facts, q: Question): Decision {
  const reasons: Reason[] = [];
  const counted = factsAtCall(facts, q, 'US-1');
  reasons.push(...counted.reasons);
  const marketing = q.purpose !== 'service';
  const business = q.subscriberType === 'business';

  // US-6: the line type; a US number of unknown type counts as mobile
  let lineType: LineType;
  if (q.lineType) {
    lineType = q.lineType;
  } else if (q.phone.lineType === 'unknown') {
    lineType = 'mobile';
    if (q.autodialed || q.prerecorded) {
      reasons.push(pass('line_type_assumed_mobile', 'US-6', 'The number may be a mobile or a landline; it is treated as mobile. State the line type if you know it.'));
    }
  } else {
    lineType = q.phone.lineType;
  }
  const robocall = (q.autodialed && lineType === 'mobile') || (q.prerecorded && (lineType === 'mobile' || (marketing && !business)));

  if (marketing) {
    reasons.push(pass('telemarketing_call', 'US-1', 'This is a telemarketing call, so the Telemarketing Sales Rule and the TCPA apply.'));
  } else {
    reasons.push(
      pass(
        'service_call',
        'US-1',
        robocall
          ? 'A call that sells nothing is not telemarketing, but an autodialed or prerecorded call to a mobile number still needs the person\'s prior express consent.'
          : 'A call that sells nothing is not telemarketing, so the do-not-call and calling-hours rules do not apply.',
      ),
    );
  }

  const candidates: Candidate[] = [];

  // US-1, US-6: prior express written consent to this seller
  const consent = analyseConsents(counted, facts, q, {
    rule: 'US-1',
    entityRule: 'US-1',
    requireProducts: false,
    // Written consent is what telemarketing needs (US-1, US-6); a call that sells nothing needs
    // only prior express consent, which a recorded spoken one is.
    rejectMethods: marketing ? US_RULES.unwrittenMethods : [],
    rejectWhy: 'which is spoken, not written: prior express written consent needs a written or electronic signature',
    // US-6: the written agreement must be signed, name the number and say that consent is no
    // condition of purchase – none of which can be shown without its text on record.
    checkSource: marketing
      ? (c, when) =>
          hasWording(c.source)
            ? null
            : fail(
                'consent_form_not_on_record',
                'US-6',
                `The consent of ${when} does not record the wording of the written agreement, so it cannot show prior express written consent (signed, naming the number, saying that consent is no condition of purchase).`,
              )
      : undefined,
  });
  reasons.push(...consent.reasons);
  if (consent.valid) candidates.push({ basis: 'consent', eventId: consent.valid.id, at: consent.valid.at, fromPerson: true });

  // US-3: established business relationship (only against the registry, never for robocalls)
  if (marketing) {
    for (const r of relationships(counted.own).filter((x) => x.startedAt <= q.at)) {
      const check = checkEbr(r, q);
      reasons.push(check.reason);
      if (check.ok) candidates.push({ basis: 'established_business_relationship', eventId: r.id, at: r.startedAt, fromPerson: false });
    }
    const request = latest(contactRequests(counted.own).filter((r) => r.at <= q.at));
    if (request) {
      const check = checkInquiry(request, q);
      reasons.push(check.reason);
      if (check.ok) candidates.push({ basis: 'established_business_relationship', eventId: request.id, at: request.at, fromPerson: false });
    }
  }

  // US-4: company-specific do-not-call beats an EBR and older consent; a newer consent beats it.
  // Revoking consent to calls is such a request too.
  const stop = latest([...objections(counted.own), ...(consent.withdrawal ? [consent.withdrawal] : [])]);
  let usable = candidates;
  // Its date as the person would say it: on the number's calendar (the first of its zones).
  let stopZone = 'utc';
  if (stop) {
    stopZone = q.phone.timeZones.find((z) => US_ZONE_SET.has(z)) ?? 'utc';
    const what = stop.type === 'objection' ? 'asked' : 'revoked consent and so asked';
    const hadEbr = usable.some((c) => c.basis === 'established_business_relationship');
    usable = usable.filter((c) => c.fromPerson && c.at > stop.at);
    if (usable.length > 0) {
      reasons.push(pass('objection_overridden', 'US-4', `The person ${what} ${q.entity.name} not to call on ${isoDay(stop.at, stopZone)} but later gave written consent.`));
    } else if (!marketing && robocall) {
      // Asking not to be called revokes the prior express consent an autodialed or prerecorded call
      // needs, whatever it is about (the TCPA lets consent be revoked by any reasonable means).
      reasons.push(
        fail(
          'objected',
          'US-4',
          `The person ${what} ${q.entity.name} not to call on ${isoDay(stop.at, stopZone)}. That revokes the consent an autodialed or prerecorded call needs, even one that sells nothing: call manually with a live agent if the call is needed.`,
        ),
      );
    } else if (!marketing) {
      // US-4's company do-not-call list is a telemarketing rule: a live call that sells nothing is not held by it.
      reasons.push(
        pass(
          'objection_telemarketing_only',
          'US-4',
          `The person ${what} ${q.entity.name} not to call on ${isoDay(stop.at, stopZone)}. That binds telemarketing calls; this call sells nothing, so it is not held by it. Offer nothing for sale on it.`,
        ),
      );
    } else {
      reasons.push(
        fail(
          'objected',
          'US-4',
          `The person ${what} ${q.entity.name} not to call on ${isoDay(stop.at, stopZone)}; honour it at once (the law allows at most 10 business days) and keep it on your do-not-call list.`,
        ),
      );
      if (hadEbr) reasons.push(fail('ebr_ended_by_request', 'US-3', 'The do-not-call request ended the established business relationship, even if the person stays a customer.'));
    }
  } else {
    reasons.push(pass('no_objection', 'US-4', `The person has not asked ${q.entity.name} not to call.`));
  }
  const hasConsent = usable.some((c) => c.basis === 'consent');
  const permission: Basis | null = hasConsent ? 'consent' : (usable[0]?.basis ?? null);
  // Said of a consent that still counts (not of one a later do-not-call request beat).
  if (hasConsent) {
    reasons.push(
      pass('one_to_one_not_in_force', 'US-7', 'The FCC one-to-one consent rule was vacated in January 2025: a consent form that named several sellers still counts for this seller.'),
    );
  }

  const denials: Denial[] = [];
  // US-4's company do-not-call list is a telemarketing rule; for a call that sells nothing the
  // request still revokes the consent an autodialed or prerecorded call needs.
  if ((marketing || robocall) && stop && !permission) denials.push('objected');

  // US-1, US-2, US-9: National Do Not Call Registry. `clear`: the registry allows the call whatever
  // the seller's permission (a business line, or a fresh copy that does not list the number).
  let clear = false;
  if (marketing && business) {
    clear = true;
    reasons.push(pass('register_not_applicable', 'US-1', 'The National Do Not Call Registry protects residential and personal numbers, not calls to businesses.'));
  } else if (marketing) {
    const register = facts.registers.find((r) => r.registerId === US_RULES.registerId);
    const exception = permission === 'consent' ? 'written consent' : permission === 'established_business_relationship' ? 'an established business relationship' : null;
    if (!register) {
      if (exception) {
        reasons.push(pass('register_not_needed', 'US-1', `No National Do Not Call Registry copy is loaded, but ${exception} allows the call even to a listed number.`));
      } else {
        denials.push('register_stale');
        reasons.push(fail('register_missing', 'US-2', 'No copy of the National Do Not Call Registry is loaded, so the number cannot be scrubbed: load a copy at most 31 days old.'));
      }
    } else {
      // US zones are all behind UTC, so the call's UTC date is its later date.
      const age = daysToCall(register.asOf, q.at, 'utc');
      // A copy from after the call cannot show it was scrubbed with one at most 31 days old, nor
      // that the number was not listed then (a registration may have ended since).
      const fresh = age >= 0 && age <= US_RULES.maxCopyAgeDays;
      const dated = age < 0 ? `${-age} day${age === -1 ? '' : 's'} after the call` : `${age} day${age === 1 ? '' : 's'} before the call`;
      if (fresh) {
        reasons.push(pass('register_fresh', 'US-9', `The registry copy is from ${isoDay(register.asOf)}, ${dated} (at most ${US_RULES.maxCopyAgeDays} allowed).`));
      } else if (exception) {
        reasons.push(pass('register_not_needed', 'US-1', `The registry copy is from ${isoDay(register.asOf)}, ${dated}, but ${exception} allows the call even to a listed number.`));
      } else {
        denials.push('register_stale');
        reasons.push(
          fail(
            'register_stale',
            'US-2',
            age < 0
              ? `The registry copy is from ${isoDay(register.asOf)}, ${dated}: it cannot show that the number was not listed then. The check made before the call read the copy in force then: see its decision on record (at most ${US_RULES.maxCopyAgeDays} days old, US-9).`
              : `The registry copy is from ${isoDay(register.asOf)}, ${dated}; scrubs must use a copy at most ${US_RULES.maxCopyAgeDays} days old (also needed for the safe harbor, US-9).`,
          ),
        );
      }
      const listing = listingAt(register, q.at, US_RULES.listingWaitDays, 'utc');
      clear = fresh && listing.state !== 'in_force';
      switch (listing.state) {
        case 'not_listed':
          reasons.push(pass('register_not_listed', 'US-1', 'The number is not in the National Do Not Call Registry.'));
          break;
        case 'listed_later':
          reasons.push(pass('register_not_yet_listed', 'US-2', `The number was registered on ${isoDay(listing.listedAt)}, after this call.`));
          break;
        case 'waiting':
          reasons.push(
            pass(
              'register_listed_recently',
              'US-2',
              `The number was registered on ${isoDay(listing.listedAt)}; the registration protects it from ${isoDay(listing.protectedFrom)} (31 days).`,
            ),
          );
          break;
        case 'in_force':
          if (exception) {
            reasons.push(pass('register_exception', 'US-1', `The number is in the National Do Not Call Registry, but ${exception} allows the call.`));
          } else {
            denials.push('register_listed');
            reasons.push(
              fail(
                'register_listed',
                listing.listedAt === null ? 'US-1' : 'US-2',
                listing.listedAt === null
                  ? 'The number is in the National Do Not Call Registry.'
                  : `The number has been in the National Do Not Call Registry since ${isoDay(listing.listedAt)}, at least ${US_RULES.listingWaitDays} days before the call.`,
              ),
            );
          }
          break;
      }
    }
  }

  // US-6: autodialed or prerecorded calls need written consent; an EBR does not replace it
  if (robocall) {
    const what = q.prerecorded ? 'A prerecorded' : 'An autodialed';
    const to = lineType === 'mobile' ? 'a mobile number' : 'a residential line';
    // A consent there was until the person asked not to be called (US-4).
    const revoked = stop !== null && candidates.some((c) => c.basis === 'consent' && c.at <= stop.at);
    if (hasConsent) {
      reasons.push(pass('robocall_consent', 'US-6', `${what} call to ${to} is allowed on the person's prior express ${marketing ? 'written ' : ''}consent.`));
    } else {
      denials.push('consent_required');
      reasons.push(
        fail(
          'robocall_needs_consent',
          'US-6',
          `${what} call to ${to} needs the person's prior express ${marketing ? 'written ' : ''}consent${revoked ? `; the request of ${isoDay(stop!.at, stopZone)} not to call revoked the consent on record` : permission === 'established_business_relationship' ? '; an established business relationship does not replace it' : ''}. Call manually with a live agent instead, or get ${marketing ? 'written ' : ''}consent.`,
        ),
      );
    }
  }

  // US-5, US-8: calling hours in the called party's local time; Florida's hours and call cap
  let callingWindow: AppliedWindow | null = null;
  if (marketing) {
    const region = q.phone.region ?? null;
    const florida = region === 'FL' || region === null;
    if (region === null) {
      reasons.push(pass('state_unknown', 'US-8', "The number's state is not known, so Florida's stricter rules (the strictest Optline knows) are applied as a precaution."));
    } else if (region !== 'FL') {
      reasons.push(pass('state_rules', 'US-8', `The number's area code is in ${region}; Optline applies state rules for Florida only.`));
    }
    const laws: LawWindow[] = [{ rule: 'US-5', who: 'Federal law', window: US_RULES.federalWindow }];
    if (florida) laws.push({ rule: 'US-8', who: 'Florida law', window: US_RULES.floridaWindow });
    const hours = checkCallingHours(facts, q, 'US', laws, { zoneRule: 'US-5', fallbackZones: US_ALL_ZONES })!;
    reasons.push(...hours.reasons);
    callingWindow = hours.applied;
    if (!hours.ok) denials.push('outside_calling_hours');

    if (florida) {
      const since = q.at - US_RULES.floridaCapHours * HOUR_MS;
      // Sales calls: a service call is on no sales subject.
      const calls = counted.own.filter(ofType('call')).filter((c) => c.at >= since && c.at < q.at && c.purpose !== 'service');
      if (calls.length >= US_RULES.floridaMaxCalls) {
        denials.push('frequency_cap');
        reasons.push(
          fail('frequency_cap', 'US-8', `${q.entity.name} already called this number ${calls.length} times in the last 24 hours; Florida allows at most ${US_RULES.floridaMaxCalls}.`),
        );
      } else {
        reasons.push(
          pass('call_count', 'US-8', `${q.entity.name} called this number ${calls.length} time(s) in the last 24 hours; Florida allows at most ${US_RULES.floridaMaxCalls}.`),
        );
      }
    }
  }

  const allowed = denials.length === 0;
  // api-v1's order of bases: consent, …, opt_out_regime, established_business_relationship – an EBR
  // is named only where the registry alone would not allow the call.
  const basis: Basis | null = allowed ? (marketing ? (permission === 'consent' ? 'consent' : clear ? 'opt_out_regime' : (permission ?? 'opt_out_regime')) : null) : null;
  const obligations: Obligation[] = [];
  if (allowed) {
    obligations.push('show_caller_id');
    reasons.push(pass('caller_id', 'US-1', 'Transmit a caller number (and name) that can be called back during business hours; never hide it.'));
  }

  return {
    allowed,
    basis,
    evidence: evidenceFor(basis, usable),
    jurisdiction: 'US',
    rulesVersion: RULES_VERSION,
    denials: distinct(denials),
    reasons,
    obligations,
    callingWindow,
  };
}

export const unitedStates: RulePack = { jurisdiction: 'US', decide: decideUS };
