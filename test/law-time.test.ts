/**
 * The engine's calendar arithmetic, written by hand for speed, against luxon's: relationship
 * terms (NL-4/5, US-3) end at addMonths, register waiting periods (GB-2, US-2) count daysToCall.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { addMonths, daysToCall, DAY_MS } from '../src/law/time.js';

const MIN = Date.parse('1990-01-01T00:00:00Z');
const MAX = Date.parse('2060-12-31T23:59:59Z');
const ZONES = ['utc', 'Europe/Amsterdam', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Pacific/Honolulu', 'America/St_Johns'];

describe('addMonths', () => {
  it('clamps to the end of a shorter month', () => {
    expect(new Date(addMonths(Date.parse('2026-01-31T10:15:00Z'), 1)).toISOString()).toBe('2026-02-28T10:15:00.000Z');
    expect(new Date(addMonths(Date.parse('2028-01-31T00:00:00Z'), 1)).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(new Date(addMonths(Date.parse('2025-08-31T23:59:59.999Z'), 18)).toISOString()).toBe('2027-02-28T23:59:59.999Z');
    expect(new Date(addMonths(Date.parse('2026-03-31T00:00:00Z'), -1)).toISOString()).toBe('2026-02-28T00:00:00.000Z');
  });

  it('equals luxon plus({ months }) in UTC for any instant and term', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), fc.integer({ min: -240, max: 240 }), (at, months) => {
        expect(addMonths(at, months)).toBe(DateTime.fromMillis(at, { zone: 'utc' }).plus({ months }).toMillis());
      }),
      { numRuns: 5000 },
    );
  });
});

describe('daysToCall', () => {
  /** The definition: the later of the call's UTC date and its date in the zone, minus the register date. */
  const reference = (registerDate: number, at: number, zone: string): number => {
    const local = DateTime.fromMillis(at, { zone });
    const localDay = Math.floor(Date.UTC(local.year, local.month - 1, local.day) / DAY_MS);
    return Math.max(Math.floor(at / DAY_MS), localDay) - Math.floor(registerDate / DAY_MS);
  };

  it('counts the call on the new day where it already is (00:30 in London summer time)', () => {
    const listed = Date.parse('2026-06-01T00:00:00Z');
    const at = Date.parse('2026-06-28T23:30:00Z'); // 00:30 on 29 June in London
    expect(daysToCall(listed, at, 'Europe/London')).toBe(28);
    expect(daysToCall(listed, at, 'utc')).toBe(27);
  });

  it('equals the luxon definition in every zone the packs use, across DST changes', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), fc.integer({ min: -400, max: 400 }), fc.constantFrom(...ZONES), (at, back, zone) => {
        const registerDate = Math.floor(at / DAY_MS) * DAY_MS - back * DAY_MS;
        expect(daysToCall(registerDate, at, zone)).toBe(reference(registerDate, at, zone));
      }),
      { numRuns: 5000 },
    );
  });
});
