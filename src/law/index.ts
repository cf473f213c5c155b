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
  return pack.decide(facts, question);
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
