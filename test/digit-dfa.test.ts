/**
 * DigitDfa answers exactly what the RegExp of the same pattern answers: for every pattern of the
 * countries the scrub's byte path reads (calling codes 1, 31, 44, 49), on digit strings biased to
 * be near-valid, and exhaustively on short strings for the syntax the metadata does not use yet.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Metadata } from 'libphonenumber-js/core';
import { describe, expect, it } from 'vitest';
import { DigitDfa, UnsupportedPatternError } from '../src/phone/digit-dfa.js';

const require = createRequire(import.meta.url);
const metadataJson = require('libphonenumber-js/metadata.max.json') as ConstructorParameters<typeof Metadata>[0];
const examples = require('libphonenumber-js/examples.mobile.json') as Record<string, string>;
const meta = new Metadata(metadataJson) as unknown as {
  selectNumberingPlan(c: string): void;
  numberingPlan: { nationalNumberPattern(): string; leadingDigits(): string | undefined; IDDPrefix(): string };
  type(t: string): { pattern(): string } | undefined;
  getCountryCodesForCallingCode(cc: string): string[] | undefined;
};
const TYPES = ['FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

interface Case {
  name: string;
  pattern: string;
  /** Digit strings of the country that the pattern may well match: its example number. */
  seeds: string[];
}

const cases: Case[] = [];
for (const cc of ['1', '31', '44', '49']) {
  for (const country of meta.getCountryCodesForCallingCode(cc) ?? []) {
    meta.selectNumberingPlan(country);
    const plan = meta.numberingPlan;
    const seeds = examples[country] ? [examples[country]] : [];
    const add = (what: string, pattern: string | undefined): void => {
      if (pattern) cases.push({ name: `${country} ${what}`, pattern, seeds });
    };
    add('national number', plan.nationalNumberPattern());
    add('leading digits', plan.leadingDigits());
    add('IDD prefix', plan.IDDPrefix());
    for (const t of TYPES) add(t, meta.type(t)?.pattern());
  }
}

const toBytes = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0) - 48);

/**
 * A random string the DFA accepts: a walk from the start over live transitions (dead states are
 * pruned, so every state can still reach acceptance) that stops at an accepting state once the
 * choices say so or run out; null if it wanders too long.
 */
function walk(dfa: DigitDfa, choices: number[]): string | null {
  let s = 0;
  let out = '';
  for (let i = 0; i < 40; i++) {
    const c = choices[i % choices.length]! + i;
    if (dfa.accepting[s] !== 0 && (c % 4 === 0 || i >= choices.length)) return out;
    const live: number[] = [];
    for (let d = 0; d < 10; d++) if (dfa.next[s * 10 + d]! >= 0) live.push(d);
    if (live.length === 0) break;
    const d = live[c % live.length]!;
    out += d;
    s = dfa.next[s * 10 + d]!;
  }
  return dfa.accepting[s] !== 0 ? out : null;
}

/** Runs of digits written in the pattern (e.g. "268", "7", "180020"): numbers tend to start with them. */
const digitRuns = (pattern: string): string[] => pattern.match(/\d+/g) ?? ['0'];

const mutation = fc.oneof(
  fc.tuple(fc.constant('set' as const), fc.nat(), fc.integer({ min: 0, max: 9 })),
  fc.tuple(fc.constant('insert' as const), fc.nat(), fc.integer({ min: 0, max: 9 })),
  fc.tuple(fc.constant('delete' as const), fc.nat(), fc.constant(0)),
  fc.tuple(fc.constant('cut' as const), fc.nat(), fc.constant(0)),
);

function mutate(s: string, [kind, at, d]: ['set' | 'insert' | 'delete' | 'cut', number, number]): string {
  const k = at % (s.length + 1);
  switch (kind) {
    case 'set':
      return k < s.length ? s.slice(0, k) + d + s.slice(k + 1) : s + d;
    case 'insert':
      return s.slice(0, k) + d + s.slice(k);
    case 'delete':
      return s.slice(0, k) + s.slice(k + 1);
    case 'cut':
      return s.slice(0, k);
  }
}

/** Near-valid digit strings for a case: DFA walks, example numbers, pattern digit runs, each mutated a little. */
function near(c: Case, dfa: DigitDfa): fc.Arbitrary<string> {
  const runs = digitRuns(c.pattern);
  const base = fc.oneof(
    { weight: 4, arbitrary: fc.array(fc.nat(), { minLength: 1, maxLength: 20 }).map((choices) => walk(dfa, choices) ?? '') },
    { weight: 1, arbitrary: fc.constantFrom(...(c.seeds.length > 0 ? c.seeds : [''])) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.array(fc.constantFrom(...runs), { minLength: 1, maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 12 }))
        .map(([rs, ds]) => rs.join('') + ds.join('')),
    },
    { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 18 }).map((ds) => ds.join('')) },
  );
  // Half unchanged, half with one or two digits set, inserted, deleted, or the string cut short.
  const mutations = fc.oneof(fc.constant([]), fc.array(mutation, { minLength: 1, maxLength: 2 }));
  return fc.tuple(base, mutations).map(([s, ms]) => ms.reduce(mutate, s).slice(0, 24));
}

describe('DigitDfa', () => {
  it('compiles every pattern of the +1, +31, +44 and +49 countries', () => {
    expect(cases.length).toBeGreaterThan(200);
    for (const c of cases) expect(() => DigitDfa.compile(c.pattern), c.name).not.toThrow();
  });

  it('matches whole strings and prefixes exactly as RegExp does, for every pattern', () => {
    let accepted = 0;
    let rejected = 0;
    for (const c of cases) {
      const dfa = DigitDfa.compile(c.pattern);
      const whole = new RegExp('^(?:' + c.pattern + ')$');
      const prefix = new RegExp('^(?:' + c.pattern + ')');
      fc.assert(
        fc.property(near(c, dfa), fc.nat(4), (s, pad) => {
          // The digits sit inside a larger array, as they do in the reader's buffer.
          const bytes = new Uint8Array(pad + s.length + 3).fill(7);
          bytes.set(toBytes(s), pad);
          const w = whole.test(s);
          if (w) accepted++;
          else rejected++;
          expect(dfa.matchesWhole(bytes, pad, pad + s.length), `${c.name} whole ${s}`).toBe(w);
          expect(dfa.matchesSomePrefix(bytes, pad, pad + s.length), `${c.name} prefix ${s}`).toBe(prefix.test(s));
        }),
        { numRuns: 400 },
      );
    }
    // The inputs are near the boundary: plenty of both answers.
    console.log(`DigitDfa vs RegExp: ${accepted} strings matched, ${rejected} did not`);
    expect(accepted).toBeGreaterThan(cases.length * 100);
    expect(rejected).toBeGreaterThan(cases.length * 100);
  });

  it('runs several patterns at once: a country\'s national number and type patterns in one DFA', () => {
    for (const cc of ['1', '31', '44', '49']) {
      for (const country of meta.getCountryCodesForCallingCode(cc) ?? []) {
        meta.selectNumberingPlan(country);
        const patterns = [meta.numberingPlan.nationalNumberPattern(), ...TYPES.map((t) => meta.type(t)?.pattern()).filter((p): p is string => !!p)];
        const dfa = DigitDfa.compileAll(patterns);
        const regexps = patterns.map((p) => new RegExp('^(?:' + p + ')$'));
        const c: Case = { name: country, pattern: patterns.join('|'), seeds: examples[country] ? [examples[country]] : [] };
        fc.assert(
          fc.property(near(c, dfa), (s) => {
            const bits = regexps.reduce((acc, re, k) => (re.test(s) ? acc | (1 << k) : acc), 0);
            expect(dfa.wholeMatches(toBytes(s), 0, s.length), `${country} ${s}`).toBe(bits);
          }),
          { numRuns: 300 },
        );
      }
    }
  });

  it('agrees with RegExp on every digit string up to 5 digits, for the syntax the metadata may use', () => {
    const patterns = [
      '', '7', '\\d', '[2-9]\\d', '[^0-4]?5', '[0-24-8]\\d{2}', '1*', '(?:12)+3', '(1|12)(2|)3?', '\\d{2,}', '\\d{0,2}9', '[\\d]{3}',
      '(?:0|180020)', '8(?:0[1-3]|1\\d{2,3})|9', '(?:(?:1|2)?3)*4?', '[5-5]{1}|(?:6)', '0{0}1', '(?:)', '|1', '1|',
    ];
    const strings: string[] = [''];
    for (let len = 1; len <= 5; len++) for (let n = 0; n < 10 ** len; n++) strings.push(String(n).padStart(len, '0'));
    for (const p of patterns) {
      const dfa = DigitDfa.compile(p);
      const whole = new RegExp('^(?:' + p + ')$');
      const prefix = new RegExp('^(?:' + p + ')');
      for (const s of strings) {
        const b = toBytes(s);
        if (dfa.matchesWhole(b, 0, b.length) !== whole.test(s)) expect.fail(`${p} whole ${s}`);
        if (dfa.matchesSomePrefix(b, 0, b.length) !== prefix.test(s)) expect.fail(`${p} prefix ${s}`);
      }
    }
  });

  it('throws on syntax outside the subset, so callers keep the RegExp', () => {
    for (const p of ['\\D', '.', 'a', '1(?=2)', '(?!1)2', '(?<x>1)', '\\1', '1{,3}', '1{3', '1{3,2}', '[a-z]', '[]', '[1', '(1', '1)', '?1', '1??', '1*?', '1**', '\\s', '^1', '1$', '[2-1]']) {
      expect(() => DigitDfa.compile(p), p).toThrow(UnsupportedPatternError);
    }
  });
});
