/**
 * Checks every decision must pass whatever the country, and small matchers for reasons.
 * Tests assert what a compliance officer relies on – allowed, basis, denials, obligations and the
 * rule ids of the reasons – never the wording of a detail.
 */
import { expect } from 'vitest';
import type { Decision, Jurisdiction, Reason } from '../../src/law/types.js';
import { BASES, DENIALS, OBLIGATIONS } from '../../src/law/types.js';
import { RULES_VERSION } from '../../src/law/version.js';

export interface ReasonMatch {
  rule: string;
  passed: boolean;
  /** The machine-readable code, where a test needs to tell two checks of one row apart. */
  code?: string;
}

export const matches = (r: Reason, m: ReasonMatch): boolean =>
  r.rule === m.rule && r.passed === m.passed && (m.code === undefined || r.code === m.code);

export const describeReasons = (d: Decision): string =>
  d.reasons.map((r) => `${r.passed ? '✓' : '✗'} ${r.rule} ${r.code}`).join('\n');

export function expectReason(d: Decision, m: ReasonMatch): void {
  expect(
    d.reasons.some((r) => matches(r, m)),
    `expected a reason ${JSON.stringify(m)} among:\n${describeReasons(d)}`,
  ).toBe(true);
}

export function expectNoReason(d: Decision, m: ReasonMatch): void {
  expect(
    d.reasons.some((r) => matches(r, m)),
    `expected no reason ${JSON.stringify(m)} among:\n${describeReasons(d)}`,
  ).toBe(false);
}

/**
 * The shape every decision of a rule pack must have: its jurisdiction, the current rules version,
 * each reason naming a row of that country's law table (or 'scope'), and basis/denials
 * consistent with `allowed`. `basisFree` allows an allowed decision without a basis (out of scope,
 * e.g. NL-11 service calls).
 */
export function expectWellFormed(d: Decision, jurisdiction: Jurisdiction, opts: { basisFree?: boolean } = {}): void {
  expect(d.jurisdiction).toBe(jurisdiction);
  expect(d.rulesVersion).toBe(RULES_VERSION);
  expect(d.reasons.length).toBeGreaterThan(0);
  const ruleId = new RegExp(`^(${jurisdiction}-\\d+|scope)$`);
  for (const r of d.reasons) {
    expect(r.rule, `reason ${r.code}`).toMatch(ruleId);
    expect(typeof r.passed).toBe('boolean');
    expect(r.code).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(r.detail.trim().length, `reason ${r.code} has no detail`).toBeGreaterThan(0);
  }
  expect(new Set(d.denials).size).toBe(d.denials.length);
  expect(new Set(d.obligations).size).toBe(d.obligations.length);
  for (const x of d.denials) expect(DENIALS).toContain(x);
  for (const o of d.obligations) expect(OBLIGATIONS).toContain(o);
  if (d.allowed) {
    expect(d.denials).toEqual([]);
    if (opts.basisFree) expect(d.basis).toBeNull();
    else expect(BASES).toContain(d.basis);
  } else {
    expect(d.basis).toBeNull();
    expect(d.denials.length).toBeGreaterThan(0);
    expect(d.obligations).toEqual([]);
  }
}
