/**
 * Germany – UWG §7 and §7a, rows DE-1 … DE-6 of shared/law/de.md.
 * Opt-in for consumers (express, documented, specific, unbundled consent to this entity; no
 * customer-relationship exception for calls), presumed consent for businesses (only on a
 * justification the caller recorded), no suppressed caller number.
 */
import { sameCategory } from './question.js';
import type { ConsentMethod, Decision, Facts, Obligation, PresumedConsentFact, Question, Reason, RulePack, VerificationMethod } from './types.js';
import { isoDay, startOfDay } from './time.js';
import { pass, fail } from './reasons.js';
import { evidenceFor, analyseConsents, contactRequests, factsAtCall, latest, objections, ofType, relationships, confirmedBy, hasWording, wasRecorded } from './facts.js';
import { RULES_VERSION } from './version.js';
import { withEntityWindows } from './calling-hours.js';


const ZONE = 'Europe/Berlin';

/** The German rules as data. */
export const DE_RULES = {
  /** DE-4: §7a UWG (documentation and 5-year proof retention) in force from this day. */
  documentationFrom: startOfDay('2021-10-01', ZONE),
  /** DE-4: years the proof is kept, from the consent and again from each call made on it. */
  proofRetentionYears: 5,
  /** DE-3: consent methods that do not tie the phone number to the person. */
  rejectMethods: ['email'] as ReadonlyArray<string>,
  /**
   * DE-3: capture methods that tie the number to the person by themselves – the person said yes
   * on a call to it, signed a form giving it, or texted from it. A web form or a lead supplier's
   * import does not: anybody can type anybody's number.
   */
  numberTiedMethods: ['agent_call', 'paper', 'sms'] satisfies ConsentMethod[] as ReadonlyArray<string>,
  /**
   * DE-3: confirmations that tie such a consent's number to the person: a text to it answered, a
   * recorded call to it, a letter returned signed. An e-mail double opt-in proves the e-mail
   * address only (BGH I ZR 164/09), and an app login not the number either.
   */
  numberTyingVerifications: ['sms', 'recorded_call', 'letter'] satisfies VerificationMethod[] as ReadonlyArray<string>,
  /** DE-6: the fines, for the agent. */
  fineNoConsentEur: 300_000,
  fineNoDocumentationEur: 50_000,
} as const;

const eur = (n: number): string => `EUR ${n.toLocaleString('en-GB')}`;
const day = (at: number): string => isoDay(at, ZONE);

/** How a consent was captured, as the engine's facts and the proof exports both hold it. */
interface ConsentProof {
  method: string;
  wording?: string | null;
  recordingRef?: string | null;
  verifiedAt?: number | null;
  verificationMethod?: string | null;
}

/**
 * What keeps a German consent from being proof for calls at `at`, whatever the call: its number
 * not tied to the person (DE-3), or, given from 2021-10-01, no record of what the person agreed
 * to – the wording, or the recording of the call (DE-4). The engine and the proof exports (src/proof/) ask it.
 */
export function germanConsentProblem(source: ConsentProof, givenAt: number, at: number): { code: string; rule: string; why: string } | null {
  const confirmed = confirmedBy({ at: givenAt, source }, at);
  const verified = confirmed ? source.verificationMethod : null;
  const tied =
    DE_RULES.numberTiedMethods.includes(source.method) ||
    wasRecorded(source) ||
    (verified != null && DE_RULES.numberTyingVerifications.includes(verified));
  if (!tied && !DE_RULES.rejectMethods.includes(source.method)) {
    const how =
      verified === 'email'
        ? 'was confirmed by e-mail only – a double opt-in by e-mail proves the e-mail address, not the phone number'
        : verified != null
          ? `was confirmed by ${verified === 'app' ? 'an app' : verified}, which does not reach the phone`
          : confirmed
            ? 'was confirmed, but the record does not say how'
            : 'was never confirmed on the phone (by SMS or a recorded call)';
    return { code: 'consent_number_not_tied', rule: 'DE-3', why: `was given by ${source.method === 'web_form' ? 'web form' : source.method} and ${how}, so it does not tie the number to the person` };
  }
  if (givenAt >= DE_RULES.documentationFrom && !hasWording(source) && !wasRecorded(source)) {
    return {
      code: 'consent_not_documented',
      rule: 'DE-4',
      why: 'records neither the wording the person agreed to nor a recording of the call; from 2021-10-01 §7a UWG requires a consent to be documented when it is given',
    };
  }
  return null;
}

interface Candidate {
  /** The event the permission comes from. */
  eventId: string;
  basis: 'consent' | 'presumed_consent';
  at: number;
  /** Only the person's own word beats their earlier objection. */
  fromPerson: boolean;
}

function presumedConsentReasons(
  own: PresumedConsentFact[],
  q: Question,
): { valid: PresumedConsentFact | null; reasons: Reason[] } {
  const reasons: Reason[] = [];
  let valid: PresumedConsentFact | null = null;
  for (const p of own) {
    const when = day(p.at);
    if (p.justification.trim() === '') {
      reasons.push(fail('presumed_consent_no_justification', 'DE-2', `The presumed-consent record of ${when} gives no justification.`));
    } else if (p.productCategory != null && !sameCategory(p.productCategory, q.productCategory)) {
      reasons.push(
        fail(
          'presumed_consent_product_mismatch',
          'DE-2',
          q.productCategory == null
            ? `The justification of ${when} is about ${p.productCategory}; say which product the call offers.`
            : `The justification of ${when} is about ${p.productCategory}, not ${q.productCategory}.`,
        ),
      );
    } else {
      valid = p;
    }
  }
  if (valid) {
    reasons.push(
      pass('presumed_consent', 'DE-2', `${q.entity.name} recorded on ${day(valid.at)} why the business is presumed to want the call: "${valid.justification.slice(0, 200)}".`),
    );
  } else if (own.length === 0) {
    reasons.push(
      fail(
        'presumed_consent_not_recorded',
        'DE-2',
        'A business may be called on its presumed consent (a concrete interest in the offer), but the engine cannot infer that: record the justification for this business first.',
      ),
    );
  }
  return { valid, reasons };
}

export function decideDE(facts: Facts, q: Question): Decision {
  const reasons: Reason[] = [];
  const counted = factsAtCall(facts, q, 'DE-3', ZONE);
  reasons.push(...counted.reasons);

  if (q.purpose === 'service') {
    reasons.push(pass('service_call', 'DE-1', 'A service call that advertises nothing is not telephone advertising, so §7 UWG does not apply.'));
    reasons.push(pass('caller_id', 'DE-5', 'Show your caller number; calling with a suppressed number is prohibited.'));
    return { allowed: true, basis: null, jurisdiction: 'DE', rulesVersion: RULES_VERSION, denials: [], reasons, obligations: ['show_caller_id'] };
  }

  const business = q.subscriberType === 'business';
  reasons.push(
    business
      ? pass('business_presumed_consent', 'DE-2', 'An advertising call to a business needs at least its presumed consent.')
      : pass(
          'consumer_opt_in',
          'DE-1',
          q.subscriberType === 'sole_trader'
            ? 'An advertising call to a sole trader is treated like a call to a consumer (the line may be private): it needs prior express consent.'
            : 'An advertising call to a consumer needs the consumer\'s prior express consent.',
        ),
  );

  const candidates: Candidate[] = [];

  // DE-1, DE-3: consent that names this entity and the products, not bundled, not by e-mail
  const consent = analyseConsents(counted, facts, q, {
    rule: 'DE-3',
    entityRule: 'DE-3',
    requireProducts: true,
    rejectMethods: DE_RULES.rejectMethods,
    rejectWhy: 'which does not tie the phone number to the person (an e-mail double opt-in proves the e-mail address, not the phone number)',
    checkSource: (c, when) => {
      const problem = germanConsentProblem(c.source, c.at, q.at);
      return problem && fail(problem.code, problem.rule, `The consent of ${when} ${problem.why}.`);
    },
    zone: ZONE,
  });
  reasons.push(...consent.reasons);
  if (consent.valid) candidates.push({ basis: 'consent', eventId: consent.valid.id, at: consent.valid.at, fromPerson: true });

  // DE-2: presumed consent of a business, only on the caller's recorded justification – and not
  // for a recorded message: an automated calling machine needs express consent from businesses
  // too (UWG §7(2) no. 3), so DE-2's "at least presumed consent" is not enough for it.
  let recordedWithoutConsent = false;
  if (business) {
    const presumed = presumedConsentReasons(counted.own.filter(ofType('presumed_consent')), q);
    reasons.push(...presumed.reasons);
    if (presumed.valid && q.prerecorded) {
      // Said only where it decides: with the business's express consent the presumption is moot.
      recordedWithoutConsent = !consent.valid;
      if (recordedWithoutConsent) {
        reasons.push(
          fail(
            'recorded_message',
            'DE-2',
            'A call that plays a recorded message (an automated calling machine) needs the prior express consent of a business too (UWG §7(2) no. 3): presumed consent does not allow it.',
          ),
        );
      }
    } else if (presumed.valid) {
      candidates.push({ basis: 'presumed_consent', eventId: presumed.valid.id, at: presumed.valid.at, fromPerson: false });
    }
  }

  // DE-1: no customer-relationship exception for calls; a request to be called is no consent record
  const rels = relationships(counted.own);
  if (rels.length > 0) {
    reasons.push(
      fail(
        'relationship_no_exception',
        'DE-1',
        `${q.entity.name} has a customer relationship with the person, but in Germany that is no basis for advertising calls (the exception covers e-mail only).`,
      ),
    );
  }
  const request = latest(contactRequests(counted.own));
  if (request) {
    reasons.push(
      fail(
        'request_not_documented_consent',
        'DE-4',
        `The person asked on ${day(request.at)} to be called about "${request.offer}"; record that as a consent naming the product so it is documented proof.`,
      ),
    );
  }

  // Objections beat every older permission; only the person's newer consent beats them.
  const objection = latest(objections(counted.own));
  let usable = candidates;
  if (objection) {
    usable = usable.filter((c) => c.fromPerson && c.at > objection.at);
    reasons.push(
      usable.length > 0
        ? pass('objection_overridden', 'DE-1', `The person objected on ${day(objection.at)} but later gave a new consent.`)
        : fail('objected', 'DE-1', `The person objected to calls from ${q.entity.name} on ${day(objection.at)}.`),
    );
  }
  const withdrawal = consent.withdrawal;
  let withdrawalBeat = false;
  if (withdrawal) {
    const before = usable.length;
    // The person's "no" – only their own newer consent beats it, never the caller's presumption.
    usable = usable.filter((c) => c.fromPerson && c.at > withdrawal.at);
    // Said when it beat a permission, or stands with nothing newer (as the Dutch rules say it).
    withdrawalBeat = usable.length < before || (!objection && usable.length === 0);
    if (withdrawalBeat) {
      reasons.push(
        fail('withdrawal_beats_older', 'DE-1', `The person withdrew consent on ${day(withdrawal.at)}; only a newer consent of their own counts after that, not a presumed one.`),
      );
    }
  }
  // (A withdrawal that beat a permission, or stands, says "do not call" as an objection would: no "no objection" beside it.)
  if (!objection && !withdrawalBeat) reasons.push(pass('no_objection', 'DE-1', `The person has not objected to calls from ${q.entity.name}.`));

  const basis = usable.find((c) => c.basis === 'consent')?.basis ?? usable.find((c) => c.basis === 'presumed_consent')?.basis ?? null;
  const obligations: Obligation[] = [];
  if (basis === null) {
    reasons.push(
      fail(
        'fine_risk',
        'DE-6',
        `An advertising call without ${business && !q.prerecorded ? 'at least presumed' : 'express'} consent can be fined up to ${eur(DE_RULES.fineNoConsentEur)}${
          reasons.some((r) => r.code === 'consent_not_documented') ? `; a consent not documented when it was given, up to ${eur(DE_RULES.fineNoDocumentationEur)} more (DE-4)` : ''
        }.`,
      ),
    );
    return withEntityWindows(facts, q, 'DE', {
      allowed: false,
      basis: null,
      jurisdiction: 'DE',
      rulesVersion: RULES_VERSION,
      denials: [objection ? 'objected' : recordedWithoutConsent ? 'consent_required' : 'no_basis'],
      reasons,
      obligations,
    });
  }

  if (basis === 'consent' && q.at >= DE_RULES.documentationFrom) {
    obligations.push('document_consent_use');
    reasons.push(
      pass(
        'document_consent_use',
        'DE-4',
        `Record this call against the consent of ${day(consent.valid!.at)}: its proof must be kept for ${DE_RULES.proofRetentionYears} years from each call made on it (missing documentation: fine up to ${eur(DE_RULES.fineNoDocumentationEur)}).`,
      ),
    );
  }
  obligations.push('show_caller_id');
  reasons.push(pass('caller_id', 'DE-5', 'Show your caller number; calling with a suppressed number is prohibited.'));

  return withEntityWindows(facts, q, 'DE', {
    allowed: true,
    basis,
    evidence: evidenceFor(basis, usable),
    jurisdiction: 'DE',
    rulesVersion: RULES_VERSION,
    denials: [],
    reasons,
    obligations,
  });
}

export const germany: RulePack = { jurisdiction: 'DE', decide: decideDE };
