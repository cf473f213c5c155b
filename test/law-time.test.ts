/**
 * The engine's calendar arithmetic, written by hand for speed, against luxon's: relationship
 * terms (NL-4/5, US-3) end at addMonths, register waiting periods (GB-2, US-2) count daysToCall.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import { addMonths, addMonthsIn, daysToCall, DAY_MS, isoDay, zoneOffset } from '../src/law/time.js';

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

  it('equals luxon across centuries, before 1970 and over the leap-year rules of 1900, 2000 and 2100', () => {
    const from = Date.parse('1601-01-01T00:00:00Z');
    const to = Date.parse('2400-12-31T23:59:59Z');
    fc.assert(
      fc.property(fc.integer({ min: from, max: to }), fc.integer({ min: -1200, max: 1200 }), (at, months) => {
        expect(addMonths(at, months)).toBe(DateTime.fromMillis(at, { zone: 'utc' }).plus({ months }).toMillis());
      }),
      { numRuns: 3000 },
    );
    for (const [at, months, want] of [
      ['1900-01-29T12:00:00Z', 1, '1900-02-28T12:00:00.000Z'],
      ['2000-01-31T00:00:00Z', 1, '2000-02-29T00:00:00.000Z'],
      ['2100-03-31T06:00:00Z', -1, '2100-02-28T06:00:00.000Z'],
      ['1969-12-31T23:59:59.999Z', 2, '1970-02-28T23:59:59.999Z'],
    ] as const) {
      expect(new Date(addMonths(Date.parse(at), months)).toISOString()).toBe(want);
    }
  });
});

describe('addMonthsIn', () => {
  it('keeps the local date: an end at Amsterdam midnight plus 36 months is midnight of the same date', () => {
    const end = Date.parse('2021-03-01T00:00:00+01:00');
    expect(new Date(addMonthsIn(end, 36, 'Europe/Amsterdam')).toISOString()).toBe('2024-02-29T23:00:00.000Z'); // 1 March 2024, 00:00 CET
    // In UTC the same end (28 February 23:00) came out a day early.
    expect(new Date(addMonths(end, 36)).toISOString()).toBe('2024-02-28T23:00:00.000Z');
    // Across a change to summer time the local time of day stays.
    expect(new Date(addMonthsIn(Date.parse('2026-01-15T09:00:00+01:00'), 3, 'Europe/Amsterdam')).toISOString()).toBe('2026-04-15T07:00:00.000Z');
    // 29 February 2024, 20:00 in New York + 18 months: 29 August 2025, 20:00 EDT.
    expect(new Date(addMonthsIn(Date.parse('2024-02-29T20:00:00-05:00'), 18, 'America/New_York')).toISOString()).toBe('2025-08-30T00:00:00.000Z');
  });

  it('equals luxon plus({ months }) in the zone for any instant, term and zone', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), fc.integer({ min: -240, max: 240 }), fc.constantFrom(...ZONES), (at, months, zone) => {
        expect(addMonthsIn(at, months, zone)).toBe(DateTime.fromMillis(at, { zone }).plus({ months }).toMillis());
      }),
      { numRuns: 5000 },
    );
    // A wall-clock time that does not exist (02:00 on the night clocks go forward in Berlin) moves forward, as luxon does.
    expect(new Date(addMonthsIn(Date.parse('2022-12-26T02:00:00+01:00'), 63, 'Europe/Berlin')).toISOString()).toBe('2028-03-26T01:00:00.000Z');
    // Terms that end on a wall-clock time a change of offset skips or repeats, in each zone.
    const changes: Array<[string, string[]]> = [
      ['Europe/Amsterdam', ['2027-03-28T02:30', '2027-10-31T02:30']],
      ['Europe/London', ['2027-03-28T01:30', '2027-10-31T01:30']],
      ['Europe/Berlin', ['2027-03-28T02:30', '2027-10-31T02:30']],
      ['America/New_York', ['2027-03-14T02:30', '2027-11-07T01:30']],
      ['America/Los_Angeles', ['2027-03-14T02:30', '2027-11-07T01:30']],
      ['America/St_Johns', ['2027-03-14T02:30', '2027-11-07T01:30']],
    ];
    for (const [zone, walls] of changes) {
      for (const wall of walls) {
        for (const months of [1, 5, 12, 18, 36]) {
          // The same wall-clock time `months` earlier, on a day without a change.
          const from = DateTime.fromISO(wall, { zone }).minus({ months }).set({ hour: Number(wall.slice(11, 13)), minute: 30 });
          expect(addMonthsIn(from.toMillis(), months, zone), `${from.toISO()} + ${months} months in ${zone}`).toBe(from.plus({ months }).toMillis());
        }
      }
    }
    // Instants next to the changes of offset, where the way back from wall-clock time matters.
    for (const zone of ZONES.slice(1)) {
      for (const iso of ['2026-03-29T00:30:00Z', '2026-03-29T01:30:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-03-08T06:30:00Z', '2026-03-08T07:30:00Z', '2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z']) {
        for (const months of [-12, -1, 1, 6, 12]) {
          const at = Date.parse(iso);
          expect(addMonthsIn(at, months, zone), `${iso} ${zone} ${months}`).toBe(DateTime.fromMillis(at, { zone }).plus({ months }).toMillis());
        }
      }
    }
  });
});

describe('zoneOffset', () => {
  // Half-hour changes (Lord Howe), southern summers (Sao Paulo until 2019), abolished DST (Tehran 2022).
  const zones = [...ZONES, 'Australia/Lord_Howe', 'America/Sao_Paulo', 'Asia/Tehran', 'America/Phoenix'];
  const luxon = (zone: string, at: number) => IANAZone.create(zone).offset(at) * 60_000;
  it("is luxon's offset every twelve hours over eight years, and on both sides of each change to the millisecond", () => {
    const HOUR = 3_600_000;
    let changes = 0;
    for (const zone of zones) {
      for (let at = Date.parse('2018-12-31T00:00:00Z'); at < Date.parse('2027-01-01T00:00:00Z'); at += 12 * HOUR) {
        expect(zoneOffset(zone, at), `${zone} ${new Date(at).toISOString()}`).toBe(luxon(zone, at));
        if (luxon(zone, at) === luxon(zone, at + 12 * HOUR)) continue;
        // The change's first millisecond, by luxon.
        let lo = at;
        let hi = at + 12 * HOUR;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (luxon(zone, mid) === luxon(zone, at)) lo = mid;
          else hi = mid;
        }
        changes++;
        expect(zoneOffset(zone, hi - 1), `${zone} just before ${new Date(hi).toISOString()}`).toBe(luxon(zone, hi - 1));
        expect(zoneOffset(zone, hi), `${zone} at ${new Date(hi).toISOString()}`).toBe(luxon(zone, hi));
      }
    }
    expect(changes).toBeGreaterThan(100);
  });
  it('refuses a zone that does not exist', () => {
    expect(() => zoneOffset('Mars/Olympus_Mons', 0)).toThrow(/Unknown time zone/);
  });
});

describe('isoDay', () => {
  it('is the calendar date in the zone, as luxon has it, on any day including changes of offset', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), fc.constantFrom(...ZONES), (at, zone) => {
        expect(isoDay(at, zone)).toBe(DateTime.fromMillis(at, { zone }).toISODate());
      }),
      { numRuns: 5000 },
    );
    for (const zone of ZONES) {
      for (let at = Date.parse('2026-03-28T00:00:00Z'); at < Date.parse('2026-03-30T00:00:00Z'); at += 15 * 60_000) {
        expect(isoDay(at, zone)).toBe(DateTime.fromMillis(at, { zone }).toISODate());
      }
    }
    expect(isoDay(Date.parse('2021-02-28T23:00:00Z'), 'Europe/Amsterdam')).toBe('2021-03-01');
    expect(() => isoDay(0, 'Mars/Olympus_Mons')).toThrow(/Unknown time zone/);
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
