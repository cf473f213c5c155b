/**
 * Local time and calling windows: the called party's zone (question, contact, number, country),
 * windows to the second in every zone the number may be in, daylight-saving days in Europe
 * (2026-03-29, 2026-10-25) and the US (2026-03-08, 2026-11-01), and the entity's own windows on
 * top of every country's law, with the window that applied reported in the decision.
 */
import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { decide } from '../src/law/index.js';
import type { CallingWindow, Entity, Jurisdiction, Question } from '../src/law/index.js';
import { calledPartyZones, inWindow } from '../src/law/calling-hours.js';
import { consent, makeEntity, makeFacts, makeQuestion, phone, presumedConsent, registerCheck, type When } from './helpers/facts.js';

const H = (h: number, m = 0): number => h * 60 + m;
const EIGHT_TO_NINE: CallingWindow = { fromMinute: H(8), toMinute: H(21) };
const local = (iso: string, zone: string): DateTime => DateTime.fromISO(iso, { zone });

describe('inWindow: [from, to) to the second, days in the local calendar', () => {
  it.each([
    ['07:59:59', false],
    ['08:00:00', true],
    ['12:00:00', true],
    ['20:59:59', true],
    ['21:00:00', false],
    ['23:30:00', false],
    ['00:00:00', false],
  ])('%s in 08:00–21:00 → %s', (time, expected) => {
    expect(inWindow(local(`2026-11-27T${time}`, 'America/New_York'), EIGHT_TO_NINE)).toBe(expected);
  });
  it('respects ISO weekdays', () => {
    const weekdays: CallingWindow = { ...EIGHT_TO_NINE, days: [1, 2, 3, 4, 5] };
    expect(inWindow(local('2026-11-27T10:00:00', 'Europe/Berlin'), weekdays)).toBe(true); // Friday
    expect(inWindow(local('2026-11-28T10:00:00', 'Europe/Berlin'), weekdays)).toBe(false); // Saturday
    expect(inWindow(local('2026-11-29T10:00:00', 'Europe/Berlin'), { ...EIGHT_TO_NINE, days: [7] })).toBe(true); // Sunday
  });
  it('uses the weekday of the local date, not of UTC', () => {
    // Friday 23:30 in Los Angeles is Saturday 07:30 UTC.
    const dt = DateTime.fromISO('2026-11-28T07:30:00Z').setZone('America/Los_Angeles');
    expect(inWindow(dt, { fromMinute: H(20), toMinute: H(24), days: [5] })).toBe(true);
  });
});

describe('calledPartyZones: question, then contact, then number, then country', () => {
  const entity = makeEntity({ country: 'US' });
  const q = (o: Partial<Question> = {}): Question => makeQuestion(entity, '2026-11-27T12:00:00Z', { phone: phone('+18505550123'), ...o });
  const FALLBACK = ['America/New_York', 'Pacific/Honolulu'];
  it.each([
    ['question zone', q({ timeZone: 'America/Denver' }), 'Europe/Paris', ['America/Denver']],
    ['contact zone', q(), 'America/Phoenix', ['America/Phoenix']],
    ['number zones (all of them)', q(), null, ['America/Chicago', 'America/New_York']],
    ['invalid question zone: next source', q({ timeZone: 'Not/AZone' }), 'America/Phoenix', ['America/Phoenix']],
    ['country fallback', q({ phone: phone('+18005550199') }), null, FALLBACK],
    ['a question zone under another name of a US zone', q({ timeZone: 'US/Pacific' }), null, ['US/Pacific']],
    ['a question zone outside the US: it and the number zones', q({ timeZone: 'Asia/Tokyo' }), 'America/Phoenix', ['Asia/Tokyo', 'America/Chicago', 'America/New_York']],
    ['a contact zone outside the US: it and the number zones', q(), 'Europe/Paris', ['Europe/Paris', 'America/Chicago', 'America/New_York']],
  ] as const)('%s', (_name, question, contactTimeZone, zones) => {
    const choice = calledPartyZones(makeFacts({ contactTimeZone }), question, 'US-5', FALLBACK, 'US');
    expect([...choice.zones].sort()).toEqual([...zones].sort());
    expect(choice.reasons.every((r) => r.rule === 'US-5')).toBe(true);
  });
  it('says when a given zone was not usable', () => {
    const choice = calledPartyZones(makeFacts(), q({ timeZone: 'Not/AZone' }), 'US-5', FALLBACK, 'US');
    expect(choice.reasons.some((r) => r.code === 'time_zone_unknown' && !r.passed)).toBe(true);
    const abroad = calledPartyZones(makeFacts(), q({ timeZone: 'Asia/Tokyo' }), 'US-5', FALLBACK, 'US');
    expect(abroad.reasons.find((r) => r.code === 'local_time_zone_abroad')?.detail).toContain('America/Chicago, America/New_York');
  });
  it("a zone from abroad cannot open the window at 03:00 in the number's zone (US-5)", () => {
    const seller = makeEntity({ id: 'us-seller', country: 'US' });
    const at = '2026-11-30T03:00:00-05:00';
    const d = decide(
      makeFacts({ registers: [registerCheck('us-dnc', 'US', { listed: false, asOf: '2026-11-25T00:00:00Z' })] }),
      makeQuestion(seller, at, { phone: phone('+12125550199'), timeZone: 'Asia/Tokyo' }),
    );
    expect(d.allowed).toBe(false);
    expect(d.denials).toContain('outside_calling_hours');
  });
});

/* ------------------------------------------------------------------ entity windows, every country */

const NINE_TO_SIX: CallingWindow = { fromMinute: H(9), toMinute: H(18) };

/** An allowed call in each country with nothing but the entity's window to stop it. */
function allowedCall(country: Jurisdiction, windows: CallingWindow[] | undefined, at: When, q: Partial<Question> = {}) {
  const entity: Entity = makeEntity({ id: `${country}-caller`, name: 'Caller', country, callingWindows: windows ? { [country]: windows } : undefined });
  const events = country === 'NL' || country === 'GB' || country === 'US' ? [consent(entity, '2026-01-01T00:00:00Z')] : [consent(entity, '2026-01-01T00:00:00Z', { products: ['energy'], source: { method: 'agent_call', wording: 'Ja, Sie dürfen mich zu Energie anrufen.' } })];
  const registers = country === 'US' ? [registerCheck('us-dnc', 'US', { listed: false, asOf: DateTime.fromMillis(typeof at === 'number' ? at : Date.parse(at)).minus({ days: 1 }).toISO()! })] : [];
  return decide(makeFacts({ events, registers }), makeQuestion(entity, at, { productCategory: 'energy', ...q }));
}

describe('entity calling windows on European DST days', () => {
  // 2026-03-29 01:00 UTC: clocks go forward (CET→CEST, GMT→BST); 2026-10-25 01:00 UTC: back.
  const cases: Array<[Jurisdiction, string, boolean, string]> = [
    ['DE', '2026-03-28T07:30:00Z', false, '08:30 CET'],
    ['DE', '2026-03-29T07:30:00Z', true, '09:30 CEST'],
    ['DE', '2026-03-28T16:30:00Z', true, '17:30 CET'],
    ['DE', '2026-03-29T16:30:00Z', false, '18:30 CEST'],
    ['DE', '2026-10-24T07:30:00Z', true, '09:30 CEST'],
    ['DE', '2026-10-25T07:30:00Z', false, '08:30 CET'],
    ['NL', '2026-03-28T07:30:00Z', false, '08:30 CET'],
    ['NL', '2026-03-29T07:30:00Z', true, '09:30 CEST'],
    ['NL', '2026-10-25T16:30:00Z', true, '17:30 CET'],
    ['NL', '2026-10-24T16:30:00Z', false, '18:30 CEST'],
    ['GB', '2026-03-28T08:30:00Z', false, '08:30 GMT'],
    ['GB', '2026-03-29T08:30:00Z', true, '09:30 BST'],
    ['GB', '2026-10-24T08:30:00Z', true, '09:30 BST'],
    ['GB', '2026-10-25T08:30:00Z', false, '08:30 GMT'],
  ];
  it.each(cases)('%s at %s → allowed %s (%s local)', (country, at, expected) => {
    const d = allowedCall(country, [NINE_TO_SIX], at);
    expect(d.jurisdiction).toBe(country);
    expect(d.allowed).toBe(expected);
    expect(d.callingWindow).toMatchObject({ source: 'entity', from: '09:00', to: '18:00' });
    if (!expected) {
      expect(d.denials).toEqual(['outside_calling_hours']);
      expect(d.obligations).toEqual([]);
      expect(d.basis).toBeNull();
      expect(d.reasons.some((r) => r.code === 'entity_outside_calling_hours' && r.rule === 'entity' && !r.passed)).toBe(true);
      // What an allowed call would have had to include goes with it: no obligation said, no evidence used.
      expect(d.reasons.map((r) => r.code)).not.toEqual(expect.arrayContaining(['caller_id']));
      expect(d.reasons.some((r) => r.code === 'document_consent_use')).toBe(false);
      expect(d.evidence ?? []).toEqual([]);
    } else {
      expect(d.basis).toBe('consent');
      expect(d.reasons.some((r) => r.code === 'entity_calling_hours' && r.passed)).toBe(true);
    }
  });
});

describe('entity calling windows: days, several windows, other countries', () => {
  const WEEKDAYS: CallingWindow = { ...NINE_TO_SIX, days: [1, 2, 3, 4, 5] };
  it('a weekday-only window denies a Saturday call', () => {
    expect(allowedCall('DE', [WEEKDAYS], '2026-11-27T10:00:00+01:00').allowed).toBe(true); // Friday
    expect(allowedCall('DE', [WEEKDAYS], '2026-11-28T10:00:00+01:00').denials).toEqual(['outside_calling_hours']); // Saturday
  });
  it('any one of several windows will do, and the matching one is reported', () => {
    const split = [
      { fromMinute: H(9), toMinute: H(12) },
      { fromMinute: H(14), toMinute: H(18) },
    ];
    expect(allowedCall('GB', split, '2026-11-27T13:00:00Z').allowed).toBe(false);
    const d = allowedCall('GB', split, '2026-11-27T15:00:00Z');
    expect(d.allowed).toBe(true);
    expect(d.callingWindow).toMatchObject({ source: 'entity', from: '14:00', to: '18:00', timeZones: ['Europe/London'] });
  });
  it('outside hours, names the window that opens next: later today, else on the next day one opens, with its days', () => {
    const split = [
      { fromMinute: H(9), toMinute: H(12) },
      { fromMinute: H(13), toMinute: H(17) },
    ];
    // 12:30: the afternoon window, not the morning's that has passed.
    expect(allowedCall('GB', split, '2026-11-27T12:30:00Z').callingWindow).toMatchObject({ from: '13:00', to: '17:00' });
    // 18:00: tomorrow's first window.
    expect(allowedCall('GB', split, '2026-11-27T18:00:00Z').callingWindow).toMatchObject({ from: '09:00', to: '12:00' });
    // Sunday 10:00 with Monday–Saturday hours: inside 09:00–21:00 by the clock, so the days must be said.
    const monToSat = { fromMinute: H(9), toMinute: H(21), days: [6, 1, 2, 3, 4, 5] };
    const sunday = allowedCall('NL', [monToSat], '2026-11-29T10:00:00+01:00');
    expect(sunday.denials).toEqual(['outside_calling_hours']);
    expect(sunday.callingWindow).toEqual({ source: 'entity', rule: 'entity', timeZones: ['Europe/Amsterdam'], from: '09:00', to: '21:00', days: [1, 2, 3, 4, 5, 6] });
    // Saturday evening: Saturday's short window has closed, Monday's long one opens next.
    const week = [
      { fromMinute: H(9), toMinute: H(20), days: [1, 2, 3, 4, 5] },
      { fromMinute: H(10), toMinute: H(14), days: [6] },
    ];
    expect(allowedCall('DE', week, '2026-11-28T15:00:00+01:00').callingWindow).toMatchObject({ from: '09:00', to: '20:00', days: [1, 2, 3, 4, 5] });
    expect(allowedCall('DE', week, '2026-11-28T09:00:00+01:00').callingWindow).toMatchObject({ from: '10:00', to: '14:00', days: [6] });
    // A day given twice is one day: still not open on Sunday, and said so.
    const repeated = allowedCall('NL', [{ ...monToSat, days: [1, 1, 2, 3, 4, 5, 6] }], '2026-11-29T10:00:00+01:00');
    expect(repeated.denials).toEqual(['outside_calling_hours']);
    expect(repeated.callingWindow).toMatchObject({ days: [1, 2, 3, 4, 5, 6] });
    // A window open every day says no days.
    expect(allowedCall('DE', [NINE_TO_SIX], '2026-11-28T20:00:00+01:00').callingWindow).not.toHaveProperty('days');
  });
  it("windows for another country do not apply", () => {
    const entity = makeEntity({ id: 'de-only-us-windows', country: 'DE', callingWindows: { US: [NINE_TO_SIX] } });
    const d = decide(
      makeFacts({ events: [consent(entity, '2026-01-01T00:00:00Z', { products: ['energy'], source: { method: 'agent_call', wording: 'Ja, Sie dürfen mich zu Energie anrufen.' } })] }),
      makeQuestion(entity, '2026-11-27T06:00:00+01:00', { productCategory: 'energy' }),
    );
    expect(d.allowed).toBe(true);
    expect(d.callingWindow ?? null).toBeNull();
  });
  it('an empty list of windows sets no window', () => {
    const d = allowedCall('NL', [], '2026-11-27T06:00:00+01:00');
    expect(d.allowed).toBe(true);
    expect(d.callingWindow ?? null).toBeNull();
  });
  it('without entity windows NL, DE and GB decisions carry no window and no window reasons', () => {
    for (const country of ['NL', 'DE', 'GB'] as const) {
      const d = allowedCall(country, undefined, '2026-11-27T23:30:00+01:00');
      expect(d.allowed).toBe(true);
      expect(d.callingWindow ?? null).toBeNull();
      expect(d.reasons.some((r) => r.rule === 'entity')).toBe(false);
    }
  });
  it('a decision already denied by law stays denied and also reports the window', () => {
    const entity = makeEntity({ id: 'de-window', country: 'DE', callingWindows: { DE: [NINE_TO_SIX] } });
    const d = decide(makeFacts(), makeQuestion(entity, '2026-11-27T07:00:00+01:00', { subscriberType: 'business' }));
    expect([...d.denials].sort()).toEqual(['no_basis', 'outside_calling_hours']);
    expect(d.allowed).toBe(false);
  });
  it('uses the zone given with the question as well as the number\'s (a German number whose holder is in London)', () => {
    const at = '2026-11-27T08:30:00Z'; // 09:30 Berlin, 08:30 London
    expect(allowedCall('DE', [NINE_TO_SIX], at).allowed).toBe(true);
    expect(allowedCall('DE', [NINE_TO_SIX], at, { timeZone: 'Europe/London' }).allowed).toBe(false);
    const evening = '2026-11-27T17:30:00Z'; // 18:30 Berlin, 17:30 London: both must fit
    expect(allowedCall('DE', [NINE_TO_SIX], evening, { timeZone: 'Europe/London' }).allowed).toBe(false);
  });
  it('applies to DE businesses called on presumed consent too', () => {
    const entity = makeEntity({ id: 'de-b2b', country: 'DE', callingWindows: { DE: [NINE_TO_SIX] } });
    const facts = makeFacts({ events: [presumedConsent(entity, '2026-01-01T00:00:00Z')] });
    expect(decide(facts, makeQuestion(entity, '2026-11-27T08:00:00+01:00', { subscriberType: 'business' })).denials).toEqual(['outside_calling_hours']);
    expect(decide(facts, makeQuestion(entity, '2026-11-27T10:00:00+01:00', { subscriberType: 'business' })).basis).toBe('presumed_consent');
  });
});

describe('entity windows and the law together (US)', () => {
  const NY = phone('+12125550123');
  const KY = phone('+16065550123'); // Central and Eastern
  it.each([
    // [at (Eastern), number, allowed, source of the window reported, rule]
    ['2026-11-27T07:30:00-05:00', NY, false, 'entity', 'entity'], // both windows missed: the narrower (own) one is reported, so "call between" is right
    ['2026-11-27T21:30:00-05:00', NY, false, 'entity', 'entity'],
    ['2026-11-27T08:30:00-05:00', NY, false, 'entity', 'entity'], // the law allows, the entity does not yet
    ['2026-11-27T12:00:00-05:00', NY, true, 'entity', 'entity'], // both hold: the stricter entity window
    ['2026-11-27T18:30:00-05:00', NY, false, 'entity', 'entity'],
    ['2026-11-27T09:30:00-05:00', KY, false, 'entity', 'entity'], // 08:30 in the Central part
    ['2026-11-27T10:00:00-05:00', KY, true, 'entity', 'entity'],
  ] as const)('%s → allowed %s, window from %s', (at, number, expected, source, rule) => {
    const d = allowedCall('US', [NINE_TO_SIX], at, { phone: number });
    expect(d.allowed).toBe(expected);
    expect(d.callingWindow).toMatchObject({ source, rule });
    if (!expected) expect(d.denials).toContain('outside_calling_hours');
  });
  it('an entity window wider than the law does not widen it', () => {
    const d = allowedCall('US', [{ fromMinute: H(7), toMinute: H(23) }], '2026-11-27T21:30:00-05:00', { phone: NY });
    expect(d.allowed).toBe(false);
    expect(d.callingWindow).toMatchObject({ source: 'law', rule: 'US-5', from: '08:00', to: '21:00' });
  });
});

describe('phone numbers: zones and states from the area code', () => {
  it.each([
    ['+12125550123', 'NY', ['America/New_York']],
    ['+12135550123', 'CA', ['America/Los_Angeles']],
    ['+13125550123', 'IL', ['America/Chicago']],
    ['+13055550123', 'FL', ['America/New_York']],
    ['+18505550123', 'FL', ['America/Chicago', 'America/New_York']],
    ['+16895550123', 'FL', ['America/New_York']], // Orlando overlay; the source data says Chicago, corrected
    ['+14805550123', 'AZ', ['America/Phoenix']],
    ['+18085550123', 'HI', ['Pacific/Honolulu']],
    ['+19155550123', 'TX', ['America/Denver']], // El Paso
    // Overlays span at least the zones of the code they overlay (the source data gives them fewer).
    ['+13645550123', 'KY', ['America/Chicago', 'America/New_York']], // over 270
    ['+14485550123', 'FL', ['America/Chicago', 'America/New_York']], // over 850
    ['+19305550123', 'IN', ['America/Chicago', 'America/New_York']], // over 812
    ['+14585550123', 'OR', ['America/Denver', 'America/Los_Angeles']], // over 541
  ])('%s → %s %j', (e164, region, zones) => {
    const p = phone(e164);
    expect(p.country).toBe('US');
    expect(p.region).toBe(region);
    expect([...p.timeZones].sort()).toEqual(zones);
  });
  it.each([
    ['+31612345678', 'NL', ['Europe/Amsterdam']],
    ['+4930123456', 'DE', ['Europe/Berlin']],
    ['+447400123456', 'GB', ['Europe/London']],
    ['+14165550123', 'CA', []],
  ])('%s → %s %j, no US state', (e164, country, zones) => {
    const p = phone(e164);
    expect(p.country).toBe(country);
    expect(p.timeZones).toEqual(zones);
    expect(p.region ?? null).toBeNull();
  });
  it('every zone in the area-code data is a zone luxon knows', async () => {
    const { US_AREA_CODES } = await import('../src/phone/us-area-codes.js');
    const entries = Object.entries(US_AREA_CODES);
    expect(entries.length).toBeGreaterThan(300);
    for (const [code, [state, ...zones]] of entries) {
      expect(code).toMatch(/^[2-9]\d\d$/);
      expect(state).toMatch(/^[A-Z]{2}$/);
      expect(zones.length).toBeGreaterThan(0);
      for (const z of zones) expect(DateTime.now().setZone(z).isValid, `${code} ${z}`).toBe(true);
    }
  });
});
