/**
 * The engine's front door: picks the law of the called number's country and answers for it.
 * Pure: no I/O, no clock.
 */
import type { Decision, Facts, Jurisdiction, Question, RulePack } from './types.js';
import { JURISDICTIONS } from './types.js';
import { netherlands } from './nl.js';
import { germany } from './de.js';
import { unitedKingdom } from './gb.js';
import { unitedStates } from './us.js';
import { RULES_VERSION } from './version.js';
import { fail, withTidyTexts } from './reasons.js';

export * from './types.js';
export { RULES_VERSION } from './version.js';

const PACKS: Partial<Record<Jurisdiction, RulePack>> = {
  NL: netherlands,
  DE: germany,
  GB: unitedKingdom,
  US: unitedStates,
};

export function jurisdictionOf(country: string | null): Jurisdiction | null {
  return country && (JURISDICTIONS as readonly string[]).includes(country) ? (country as Jurisdiction) : null;
}

export function decide(facts: Facts, question: Question): Decision {
  return withTidyTexts(decideOutcome(facts, question));
}

/**
 * decide's decision with its reasons' texts as they were built (an entity name ending in a dot may
 * leave two at the end of a sentence): for callers that keep only the outcome – allowed, basis,
 * denials – such as the bulk scrub. Everything else is decide's.
 */
export function decideOutcome(facts: Facts, question: Question): Decision {
  const jurisdiction = jurisdictionOf(question.phone.country);
  const pack = jurisdiction ? PACKS[jurisdiction] : undefined;
  if (!pack) {
    return {
      allowed: false,
      basis: null,
      jurisdiction: null,
      rulesVersion: RULES_VERSION,
      denials: ['unsupported_jurisdiction'],
      reasons: [
        {
          code: 'unsupported_jurisdiction',
          rule: 'scope',
          passed: false,
          detail: `Optline has no rules for numbers of ${question.phone.country ?? 'this country'} (${question.phone.e164}); it decides for NL, DE, GB and US numbers only.`,
        },
      ],
      obligations: [],
    };
  }
  return withLateEvidence(pack.decide(facts, question), facts, question);
}

/** Where each country's table asks that a permission be documented, or kept on record (DE-4, NL-10, US-9). */
const RECORD_ROW: Record<Jurisdiction, string> = { NL: 'NL-10', DE: 'DE-4', GB: 'GB-3', US: 'US-9' };
/** How long after the moment asked about a record may still be the one written during that call. */
const RECORDING_SLACK_MS = 15 * 60_000;

/**
 * A decision about a past moment rests on the facts dated before it, whenever they were recorded.
 * Where a permission it rests on was put on record only later, it says so: the caller did not have
 * it on file when calling, and an auditor weighs a record made after the call (a consent entered
 * to cover a complaint) differently. The answer itself is unchanged – a consent given on paper and
 * entered a week later was a consent all the same.
 */
function withLateEvidence(decision: Decision, facts: Facts, q: Question): Decision {
  if (!facts.recordedAt || !decision.evidence?.length || !decision.jurisdiction) return decision;
  const late: Array<{ id: string; recordedAt: number; type: string }> = [];
  for (const id of decision.evidence) {
    const recordedAt = facts.recordedAt.get(id);
    if (recordedAt !== undefined && recordedAt > q.at + RECORDING_SLACK_MS) late.push({ id, recordedAt, type: facts.events.find((e) => e.id === id)?.type ?? 'record' });
  }
  if (late.length === 0) return decision;
  const what = (t: string) => (t === 'contact_request' ? 'request to be called' : t === 'presumed_consent' ? 'presumed consent' : t.replace('_', ' '));
  return {
    ...decision,
    reasons: [
      ...decision.reasons,
      ...late.map((l) =>
        fail(
          'evidence_recorded_later',
          RECORD_ROW[decision.jurisdiction!],
          `The ${what(l.type)} this answer rests on (${l.id}) was put on record on ${new Date(l.recordedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC, after the moment asked about: the caller did not have it on file then.`,
        ),
      ),
    ],
  };
}

/** The decision for a number that could not be read. */
export function invalidNumberDecision(input: string, why: string): Decision {
  return {
    allowed: false,
    basis: null,
    jurisdiction: null,
    rulesVersion: RULES_VERSION,
    denials: ['invalid_number'],
    reasons: [{ code: 'invalid_number', rule: 'scope', passed: false, detail: `The number "${input.slice(0, 40)}" cannot be called: ${why}.` }],
    obligations: [],
  };
}

export const supportedJurisdictions = (): Jurisdiction[] => Object.keys(PACKS) as Jurisdiction[];
