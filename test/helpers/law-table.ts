/**
 * A table runner for the rule-pack tests of DE, GB and US: each case names the moment of the call,
 * the facts and the question, and what a compliance officer relies on (allowed, basis, denials,
 * obligations, reasons by rule id and passed flag). Reasons about an entity's own calling windows
 * carry the rule id `entity` (company policy, not a row of the law) and are checked separately.
 */
import { expect, it } from 'vitest';
import { decide } from '../../src/law/index.js';
import type {
  Basis,
  Decision,
  Denial,
  Entity,
  EntityFact,
  Jurisdiction,
  Obligation,
  Question,
  ReassignmentFact,
  RegisterCheck,
} from '../../src/law/index.js';
import { makeFacts, makeQuestion, type When } from './facts.js';
import { describeReasons, expectNoReason, expectReason, expectWellFormed, type ReasonMatch } from './decision.js';

export interface Expectation {
  allowed: boolean;
  basis: Basis | null;
  /** Exact set when given. */
  denials?: Denial[];
  /** Exact set when given. */
  obligations?: Obligation[];
  reasons?: ReasonMatch[];
  noReasons?: ReasonMatch[];
}

export interface Case {
  name: string;
  at: When;
  entity?: Entity;
  events?: EntityFact[];
  /** Register checks, or a function of the call's instant (a copy dated relative to the call). */
  registers?: RegisterCheck[] | ((at: number) => RegisterCheck[]);
  reassignments?: ReassignmentFact[];
  contactTimeZone?: string | null;
  q?: Partial<Question>;
  expect: Expectation;
}

export const pass = (rule: string, code?: string): ReasonMatch => ({ rule, passed: true, code });
export const fail = (rule: string, code?: string): ReasonMatch => ({ rule, passed: false, code });

export const allowed = (basis: Basis | null, obligations: Obligation[], reasons: ReasonMatch[] = [], noReasons: ReasonMatch[] = []): Expectation => ({
  allowed: true,
  basis,
  denials: [],
  obligations,
  reasons,
  noReasons,
});

export const denied = (denials: Denial[], reasons: ReasonMatch[] = [], noReasons: ReasonMatch[] = []): Expectation => ({
  allowed: false,
  basis: null,
  denials,
  obligations: [],
  reasons,
  noReasons,
});

const sorted = <T extends string>(xs: readonly T[]): T[] => [...xs].sort();

export interface Table {
  run(c: Omit<Case, 'name' | 'expect'>): Decision;
  check(c: Case): Decision;
  table(cases: Case[]): void;
}

/** A runner for one country: its default entity and registers, extra shape checks. */
export function lawTable(
  jurisdiction: Jurisdiction,
  defaults: { entity: Entity; registers?: RegisterCheck[] | ((at: number) => RegisterCheck[]); q?: Partial<Question> },
  shape: (d: Decision, c: Case) => void = () => {},
): Table {
  const run = (c: Omit<Case, 'name' | 'expect'>): Decision => {
    const registers = c.registers ?? defaults.registers ?? [];
    const question = makeQuestion(c.entity ?? defaults.entity, c.at, { ...defaults.q, ...c.q });
    return decide(
      makeFacts({
        events: c.events ?? [],
        registers: typeof registers === 'function' ? registers(question.at) : registers,
        reassignments: c.reassignments ?? [],
        contactTimeZone: c.contactTimeZone ?? null,
      }),
      question,
    );
  };
  const check = (c: Case): Decision => {
    const d = run(c);
    const why = `${c.name}\n${describeReasons(d)}`;
    const service = (c.q?.purpose ?? defaults.q?.purpose) === 'service';
    const lawReasons = d.reasons.filter((r) => r.rule !== 'entity');
    expectWellFormed({ ...d, reasons: lawReasons }, jurisdiction, { basisFree: service });
    for (const r of d.reasons.filter((x) => x.rule === 'entity')) {
      expect(r.code).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(r.detail.trim().length).toBeGreaterThan(0);
    }
    shape(d, c);
    expect(d.allowed, why).toBe(c.expect.allowed);
    expect(d.basis, why).toBe(c.expect.basis);
    if (c.expect.denials) expect(sorted(d.denials), why).toEqual(sorted(c.expect.denials));
    if (c.expect.obligations) expect(sorted(d.obligations), why).toEqual(sorted(c.expect.obligations));
    for (const r of c.expect.reasons ?? []) expectReason(d, r);
    for (const r of c.expect.noReasons ?? []) expectNoReason(d, r);
    return d;
  };
  const table = (cases: Case[]): void => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      check(c);
    });
  };
  return { run, check, table };
}
