/**
 * The US law table, row by row (shared/law/us.md, Telemarketing Sales Rule and TCPA, US-1 … US-9):
 * every case is built from a row and runs the pure engine on facts built directly. Numbers are
 * read as the service reads them (parsePhone), so the area code's zones and state come from the
 * generated data. Register dates are the start of their day, UTC, as the register index stores
 * them. Unless a case says otherwise the call is on Friday 2026-11-27, 14:00 Eastern, to a
 * Washington DC landline, with a fresh registry copy that does not list the number.
 */
import { describe, expect, it } from 'vitest';
import { decide } from '../src/law/index.js';
import type { Decision, RegisterCheck } from '../src/law/index.js';
import {
  PHONES,
  call,
  consent,
  contactRequest,
  makeEntity,
  makeFacts,
  makeQuestion,
  objection,
  phone,
  reassignment,
  registerCheck,
  relationship,
  withdrawal,
  type EntityRef,
  type When,
} from './helpers/facts.js';
import { allowed, denied, fail, lawTable, pass, type Case } from './helpers/law-table.js';

/** Prior express written consent as US-6 describes it: its agreement's wording on record. */
const AGREEMENT = 'I agree that Sunrise Solar may call me at this number with marketing calls, also autodialed or prerecorded. Consent is not a condition of purchase.';
const written = (entity: EntityRef, at: When, o: Parameters<typeof consent>[2] = {}) => consent(entity, at, { ...o, source: { wording: AGREEMENT, ...o.source } });

const SELLER = makeEntity({ id: 'us-seller', name: 'Sunny Solar Inc.', country: 'US' });
const OTHER = makeEntity({ id: 'us-other', name: 'Other Solar LLC', country: 'US' });

const NOW = '2026-11-27T14:00:00-05:00';
const EARLIER = '2026-03-01T15:00:00Z';
const COPY = '2026-11-20T00:00:00Z';

const dnc = (o: { listed?: boolean; listedAt?: When | null; asOf?: When } = {}): RegisterCheck => registerCheck('us-dnc', 'US', { asOf: COPY, ...o });
/** The copy of COPY, or for a call before it one of the day before the call: fresh either way (US-2, US-9). */
const copyFor = (at: number): string => (Date.parse(COPY) <= at ? COPY : new Date(Math.floor(at / 86_400_000) * 86_400_000 - 86_400_000).toISOString());
const LISTED = (at: number): RegisterCheck[] => [dnc({ asOf: copyFor(at) })];

const NUM = {
  dc: PHONES.US, // fixed line, America/New_York, DC
  newYork: phone('+12125550123'),
  losAngeles: phone('+12135550123'),
  chicago: phone('+13125550123'),
  phoenix: phone('+14805550123'),
  miami: phone('+13055550123'),
  panhandle: phone('+18505550123'), // Florida, Central and Eastern
  kentucky: phone('+16065550123'), // Kentucky, Central and Eastern
  tollFree: phone('+18005550199'), // no zone, no state
} as const;

const ON_CONSENT = ['show_caller_id'] as const;

const { table, run } = lawTable('US', { entity: SELLER, registers: (at) => [dnc({ listed: false, asOf: copyFor(at) })] }, (d: Decision, c: Case) => {
  if (d.allowed) expect(d.obligations).toEqual(['show_caller_id']);
  // US-7: the vacated one-to-one rule is noted whenever a call relies on consent.
  if (d.basis === 'consent') expect(d.reasons.some((r) => r.rule === 'US-7' && r.passed)).toBe(true);
  // US-5: every telemarketing decision reports the calling window that applied.
  if (c.q?.purpose !== 'service') expect(d.callingWindow?.source).toBe('law');
});

describe('the numbers the tests use', () => {
  it('reads zones and states from the area code', () => {
    expect(NUM.newYork).toMatchObject({ country: 'US', timeZones: ['America/New_York'], region: 'NY' });
    expect(NUM.miami).toMatchObject({ country: 'US', region: 'FL', timeZones: ['America/New_York'] });
    expect(NUM.panhandle).toMatchObject({ region: 'FL' });
    expect([...NUM.panhandle.timeZones].sort()).toEqual(['America/Chicago', 'America/New_York']);
    expect(NUM.tollFree).toMatchObject({ country: 'US', timeZones: [], region: null });
  });
});

describe('US-1 National Do Not Call Registry: prior express written consent or an EBR', () => {
  table([
    { name: 'not listed', at: NOW, expect: allowed('opt_out_regime', ['show_caller_id'], [pass('US-1', 'register_not_listed'), pass('US-1', 'telemarketing_call')]) },
    { name: 'listed', at: NOW, registers: LISTED, expect: denied(['register_listed'], [fail('US-1', 'register_listed')]) },
    {
      name: 'listed, written consent (web form) to this seller',
      at: NOW,
      registers: LISTED,
      events: [written(SELLER, EARLIER)],
      expect: allowed('consent', [...ON_CONSENT], [pass('US-1', 'consent_valid'), pass('US-1', 'register_exception'), pass('US-7', 'one_to_one_not_in_force')]),
    },
    ...(['paper', 'email', 'sms', 'import'] as const).map(
      (method): Case => ({ name: `listed, written consent by ${method}`, at: NOW, registers: LISTED, events: [written(SELLER, EARLIER, { source: { method } })], expect: allowed('consent', [...ON_CONSENT]) }),
    ),
    {
      name: 'listed, consent given orally to an agent is not written consent',
      at: NOW,
      registers: LISTED,
      events: [written(SELLER, EARLIER, { source: { method: 'agent_call' } })],
      expect: denied(['register_listed'], [fail('US-1', 'consent_method_not_proof')]),
    },
    { name: 'listed, consent to another seller', at: NOW, registers: LISTED, events: [consent(OTHER, EARLIER)], expect: denied(['register_listed'], [fail('US-1', 'consent_other_entity')]) },
    ...([undefined, null, ' '] as const).map(
      (wording): Case => ({
        name: `listed, a written consent whose agreement is not on record (wording ${JSON.stringify(wording)})`,
        at: NOW,
        registers: LISTED,
        events: [consent(SELLER, EARLIER, { source: { method: 'web_form', wording } })],
        expect: denied(['register_listed'], [fail('US-6', 'consent_form_not_on_record')]),
      }),
    ),
    {
      name: 'a service call does not need the written agreement: prior express consent will do',
      at: NOW,
      registers: LISTED,
      q: { purpose: 'service', autodialed: true, lineType: 'mobile' },
      events: [consent(SELLER, EARLIER, { source: { method: 'web_form' } })],
      expect: allowed(null, ['show_caller_id'], [pass('US-6', 'robocall_consent')]),
    },
    {
      name: 'listed, consent of the previous holder of a reassigned number',
      at: NOW,
      registers: LISTED,
      events: [written(SELLER, EARLIER)],
      reassignments: [reassignment('2026-06-01T00:00:00Z')],
      expect: denied(['register_listed'], [pass('US-1', 'number_reassigned')]),
    },
    { name: 'a business line: the registry protects residential numbers only', at: NOW, registers: LISTED, q: { subscriberType: 'business' }, expect: allowed('opt_out_regime', ['show_caller_id'], [pass('US-1', 'register_not_applicable')]) },
    { name: 'a sole trader is protected like a residential subscriber', at: NOW, registers: LISTED, q: { subscriberType: 'sole_trader' }, expect: denied(['register_listed']) },
    { name: 'a service call is not telemarketing', at: NOW, registers: LISTED, q: { purpose: 'service' }, expect: allowed(null, ['show_caller_id'], [pass('US-1', 'service_call')]) },
  ]);
});

describe('US-2, US-9 protection from 31 days after registration; a copy at most 31 days old', () => {
  // Registered 2026-10-27: protected from 2026-11-27 (UTC date).
  const REG = '2026-10-27T00:00:00Z';
  table([
    { name: '30 days after registration: not yet protected', at: '2026-11-26T14:00:00-05:00', registers: [dnc({ listedAt: REG })], expect: allowed('opt_out_regime', ['show_caller_id'], [pass('US-2', 'register_listed_recently')]) },
    { name: '31 days after registration: protected', at: '2026-11-27T09:00:00-05:00', registers: [dnc({ listedAt: REG })], expect: denied(['register_listed'], [fail('US-2', 'register_listed')]) },
    {
      name: 'the evening before, when it is already the 31st day in UTC: protected (dates err towards protection)',
      at: '2026-11-26T19:30:00-05:00',
      registers: [dnc({ listedAt: REG })],
      expect: denied(['register_listed']),
    },
    {
      name: 'registered after the call, judged with that newer copy: it cannot show the number was not listed then',
      at: '2026-10-20T14:00:00-04:00',
      registers: [dnc({ listedAt: REG })],
      expect: denied(['register_stale'], [pass('US-2', 'register_not_yet_listed'), fail('US-2', 'register_stale')]),
    },
  ]);
  // Copy of 2026-10-27: usable for calls dated up to 2026-11-27.
  const OLD = '2026-10-27T00:00:00Z';
  table([
    { name: 'copy 31 days old: fresh', at: NOW, registers: [dnc({ listed: false, asOf: OLD })], expect: allowed('opt_out_regime', ['show_caller_id'], [pass('US-9', 'register_fresh')]) },
    { name: 'copy 32 days old: stale', at: '2026-11-28T10:00:00-05:00', registers: [dnc({ listed: false, asOf: OLD })], expect: denied(['register_stale'], [fail('US-2', 'register_stale')]) },
    { name: 'copy 31 days old in New York but 32 in UTC (evening call): stale', at: '2026-11-27T19:30:00-05:00', registers: [dnc({ listed: false, asOf: OLD })], expect: denied(['register_stale']) },
    { name: 'stale copy that lists the number', at: '2026-11-28T10:00:00-05:00', registers: [dnc({ asOf: OLD })], expect: denied(['register_stale', 'register_listed']) },
    { name: 'no copy loaded', at: NOW, registers: [], expect: denied(['register_stale'], [fail('US-2', 'register_missing')]) },
    { name: 'no copy, but written consent', at: NOW, registers: [], events: [written(SELLER, EARLIER)], expect: allowed('consent', [...ON_CONSENT], [pass('US-1', 'register_not_needed')]) },
    { name: 'no copy, but an EBR', at: NOW, registers: [], events: [relationship(SELLER, '2025-01-01T00:00:00Z', { kind: 'subscription' })], expect: allowed('established_business_relationship', ['show_caller_id']) },
    { name: 'stale copy, but written consent', at: '2026-11-28T10:00:00-05:00', registers: [dnc({ asOf: OLD })], events: [written(SELLER, EARLIER)], expect: allowed('consent', [...ON_CONSENT]) },
    { name: 'no copy, business line', at: NOW, registers: [], q: { subscriberType: 'business' }, expect: allowed('opt_out_regime', ['show_caller_id']) },
  ]);
});

describe('US-3 EBR: 18 months after the last transaction, 3 months after an inquiry', () => {
  table([
    // A purchase or donation is one transaction: recorded without an end, the 18 months run from its date.
    {
      name: 'a purchase without an end, 17 months ago',
      at: '2026-11-27T14:00:00-05:00',
      registers: LISTED,
      events: [relationship(SELLER, '2025-06-27T15:00:00Z')],
      expect: allowed('established_business_relationship', ['show_caller_id'], [pass('US-3', 'ebr_transaction'), pass('US-1', 'register_exception')]),
    },
    {
      name: 'a purchase without an end, 19 months ago: no longer an EBR',
      at: '2026-11-27T14:00:00-05:00',
      registers: LISTED,
      events: [relationship(SELLER, '2025-04-27T15:00:00Z')],
      expect: denied(['register_listed'], [fail('US-3', 'ebr_expired')]),
    },
    {
      name: 'a donation of 2015 without an end is no EBR in 2024',
      at: '2024-06-10T11:00:00-04:00',
      registers: LISTED,
      events: [relationship(SELLER, '2015-03-01T15:00:00Z', { kind: 'donation' })],
      expect: denied(['register_listed'], [fail('US-3', 'ebr_expired')]),
    },
    {
      name: 'a subscription without an end is a continuing EBR',
      at: '2026-11-27T14:00:00-05:00',
      registers: LISTED,
      events: [relationship(SELLER, '2015-03-01T15:00:00Z', { kind: 'subscription' })],
      expect: allowed('established_business_relationship', ['show_caller_id'], [pass('US-3', 'ebr_current')]),
    },
    // The 18 months on the called party's calendar: ended 29 February 2024 at 20:00 in New York
    // (1 March in UTC), the EBR ends with 29 August 2025 there.
    {
      name: 'ended on 29 February in New York: an EBR on 29 August 2025',
      at: '2025-08-29T12:00:00-04:00',
      registers: LISTED,
      events: [relationship(SELLER, '2023-01-10T15:00:00Z', { endedAt: '2024-02-29T20:00:00-05:00' })],
      expect: allowed('established_business_relationship', ['show_caller_id'], [pass('US-3', 'ebr_transaction')]),
    },
    {
      name: 'ended on 29 February in New York: no EBR on 30 August 2025',
      at: '2025-08-30T12:00:00-04:00',
      registers: LISTED,
      events: [relationship(SELLER, '2023-01-10T15:00:00Z', { endedAt: '2024-02-29T20:00:00-05:00' })],
      expect: denied(['register_listed'], [fail('US-3', 'ebr_expired')]),
    },
    // Purchase ended 2025-05-27: EBR until 2026-11-27 00:00 UTC.
    {
      name: 'purchase ended 18 months less a day ago',
      at: '2026-11-26T14:00:00-05:00',
      registers: LISTED,
      events: [relationship(SELLER, '2025-01-10T00:00:00Z', { endedAt: '2025-05-27T00:00:00Z' })],
      expect: allowed('established_business_relationship', ['show_caller_id'], [pass('US-3', 'ebr_transaction'), pass('US-1', 'register_exception')]),
    },
    {
      name: 'purchase ended 18 months ago',
      at: '2026-11-27T14:00:00-05:00',
      registers: LISTED,
      events: [relationship(SELLER, '2025-01-10T00:00:00Z', { endedAt: '2025-05-27T00:00:00Z' })],
      expect: denied(['register_listed'], [fail('US-3', 'ebr_expired')]),
    },
    {
      name: 'an EBR for a number the registry does not list: opt_out_regime, before the EBR in api-v1\'s order',
      at: NOW,
      events: [relationship(SELLER, '2019-01-01T00:00:00Z', { kind: 'subscription' })],
      expect: allowed('opt_out_regime', ['show_caller_id'], [pass('US-3', 'ebr_current'), pass('US-1', 'register_not_listed'), pass('US-9', 'register_fresh')]),
    },
    {
      name: 'an EBR with a copy over 31 days old: the EBR carries the call',
      at: NOW,
      registers: [dnc({ listed: false, asOf: '2026-10-01T00:00:00Z' })],
      events: [relationship(SELLER, '2019-01-01T00:00:00Z', { kind: 'subscription' })],
      expect: allowed('established_business_relationship', ['show_caller_id'], [pass('US-3', 'ebr_current'), pass('US-1', 'register_not_needed')]),
    },
    { name: 'ongoing subscription', at: NOW, registers: LISTED, events: [relationship(SELLER, '2019-01-01T00:00:00Z', { kind: 'subscription' })], expect: allowed('established_business_relationship', ['show_caller_id'], [pass('US-3', 'ebr_current')]) },
    { name: 'a donation is a transaction', at: NOW, registers: LISTED, events: [relationship(SELLER, '2026-01-01T00:00:00Z', { kind: 'donation', endedAt: '2026-01-01T00:00:00Z' })], expect: allowed('established_business_relationship', ['show_caller_id']) },
    // Quote requested 2026-08-27: EBR until 2026-11-27 00:00 UTC.
    {
      name: 'quote request 3 months less a day ago',
      at: '2026-11-26T14:00:00-05:00',
      registers: LISTED,
      events: [relationship(SELLER, '2026-08-27T00:00:00Z', { kind: 'quote_request' })],
      expect: allowed('established_business_relationship', ['show_caller_id'], [pass('US-3', 'ebr_inquiry')]),
    },
    {
      name: 'quote request 3 months ago',
      at: '2026-11-27T14:00:00-05:00',
      registers: LISTED,
      events: [relationship(SELLER, '2026-08-27T00:00:00Z', { kind: 'quote_request' })],
      expect: denied(['register_listed'], [fail('US-3', 'ebr_expired')]),
    },
    {
      name: 'an inquiry that ran on counts from its end',
      at: NOW,
      registers: LISTED,
      events: [relationship(SELLER, '2026-07-01T00:00:00Z', { kind: 'quote_request', endedAt: '2026-09-01T00:00:00Z' })],
      expect: allowed('established_business_relationship', ['show_caller_id']),
    },
    { name: 'volunteering is no business relationship', at: NOW, registers: LISTED, events: [relationship(SELLER, '2026-10-01T00:00:00Z', { kind: 'volunteer' })], expect: denied(['register_listed'], [fail('US-3', 'ebr_no_transaction')]) },
    { name: "another seller's customer", at: NOW, registers: LISTED, events: [relationship(OTHER, '2026-01-01T00:00:00Z')], expect: denied(['register_listed']) },
    { name: 'a relationship that starts after the call', at: NOW, registers: LISTED, events: [relationship(SELLER, '2026-11-27T14:00:01-05:00')], expect: denied(['register_listed']) },
    { name: 'EBR and written consent: consent is preferred', at: NOW, registers: LISTED, events: [relationship(SELLER, '2025-01-01T00:00:00Z'), written(SELLER, EARLIER)], expect: allowed('consent', [...ON_CONSENT]) },
  ]);
});

describe('US-4 company-specific do-not-call beats an EBR', () => {
  table([
    { name: 'asked this seller not to call, not listed', at: NOW, events: [objection(SELLER, EARLIER)], expect: denied(['objected'], [fail('US-4', 'objected')]) },
    { name: 'asked another seller not to call', at: NOW, events: [objection(OTHER, EARLIER)], expect: allowed('opt_out_regime', ['show_caller_id']) },
    {
      name: 'a customer who asked not to be called',
      at: NOW,
      registers: LISTED,
      events: [relationship(SELLER, '2025-01-01T00:00:00Z', { kind: 'subscription' }), objection(SELLER, EARLIER)],
      expect: denied(['objected', 'register_listed'], [fail('US-3', 'ebr_ended_by_request')]),
    },
    {
      name: 'a request not to call made before a new purchase still stands',
      at: NOW,
      events: [objection(SELLER, '2025-01-01T00:00:00Z'), relationship(SELLER, EARLIER)],
      expect: denied(['objected']),
    },
    { name: 'asked not to call, later gave written consent', at: NOW, registers: LISTED, events: [objection(SELLER, '2025-01-01T00:00:00Z'), written(SELLER, EARLIER)], expect: allowed('consent', [...ON_CONSENT], [pass('US-4', 'objection_overridden')]) },
    {
      name: 'gave written consent, later asked not to call: the consent is not said to still count (US-7)',
      at: NOW,
      events: [written(SELLER, EARLIER), objection(SELLER, '2026-06-01T00:00:00Z')],
      expect: denied(['objected'], [fail('US-4', 'objected')], [pass('US-7', 'one_to_one_not_in_force')]),
    },
    { name: 'revoking consent is a request not to call', at: NOW, events: [written(SELLER, EARLIER), withdrawal(SELLER, '2026-06-01T00:00:00Z')], expect: denied(['objected'], [fail('US-1', 'consent_withdrawn')]) },
    {
      name: 'the person asked this seller to call about an offer: an inquiry, an EBR for 3 months',
      at: NOW,
      registers: LISTED,
      events: [contactRequest(SELLER, '2026-10-01T10:00:00-04:00', 'solar panels')],
      expect: allowed('established_business_relationship', ['show_caller_id'], [pass('US-3', 'ebr_inquiry')]),
    },
    {
      name: 'a request to be called, more than 3 months ago: no EBR any more',
      at: NOW,
      registers: LISTED,
      events: [contactRequest(SELLER, '2026-08-01T10:00:00-04:00', 'solar panels')],
      expect: denied(['register_listed'], [fail('US-3', 'ebr_expired')]),
    },
    {
      name: 'a request to be called, then a request not to call',
      at: NOW,
      registers: LISTED,
      events: [contactRequest(SELLER, '2026-10-01T10:00:00-04:00', 'solar panels'), objection(SELLER, '2026-10-02T10:00:00-04:00')],
      expect: denied(['objected', 'register_listed'], [fail('US-3', 'ebr_ended_by_request')]),
    },
    { name: 'a request honoured at once, not after 10 business days', at: '2026-06-01T14:00:00-04:00', events: [objection(SELLER, '2026-06-01T13:00:00-04:00')], expect: denied(['objected']) },
  ]);
});

describe('US-5 calling hours 08:00–21:00 in the called party\'s local time', () => {
  const at = (iso: string, number: keyof typeof NUM, expectAllowed: boolean, extra: Partial<Case> = {}): Case => ({
    name: `${number} at ${iso}${extra.q?.timeZone ? ` (zone given: ${extra.q.timeZone})` : ''}${extra.contactTimeZone ? ` (contact zone: ${extra.contactTimeZone})` : ''}`,
    at: iso,
    ...extra,
    q: { phone: NUM[number], ...extra.q },
    expect: expectAllowed ? allowed('opt_out_regime', ['show_caller_id'], [pass('US-5', 'calling_hours')]) : denied(['outside_calling_hours'], [fail('US-5', 'outside_calling_hours')]),
  });
  table([
    // Boundaries in New York (EST, UTC-5)
    at('2026-11-27T07:59:00-05:00', 'newYork', false),
    at('2026-11-27T08:00:00-05:00', 'newYork', true),
    at('2026-11-27T20:59:00-05:00', 'newYork', true),
    at('2026-11-27T21:00:00-05:00', 'newYork', false),
    // Los Angeles (PST, UTC-8)
    at('2026-11-27T07:59:00-08:00', 'losAngeles', false),
    at('2026-11-27T08:00:00-08:00', 'losAngeles', true),
    at('2026-11-27T21:30:00-05:00', 'losAngeles', true), // 18:30 in LA
    at('2026-11-27T10:30:00-05:00', 'losAngeles', false), // 07:30 in LA
    at('2026-11-27T21:00:00-08:00', 'losAngeles', false),
    // Chicago (CST, UTC-6)
    at('2026-11-27T21:30:00-05:00', 'chicago', true), // 20:30 in Chicago
    at('2026-11-27T22:00:00-05:00', 'chicago', false), // 21:00 in Chicago
    at('2026-11-27T08:30:00-05:00', 'chicago', false), // 07:30 in Chicago
    // An area code spanning Central and Eastern: the call must fit both
    at('2026-11-27T08:30:00-05:00', 'kentucky', false), // 07:30 Central
    at('2026-11-27T09:00:00-05:00', 'kentucky', true), // 08:00 Central
    at('2026-11-27T20:30:00-05:00', 'kentucky', true), // 19:30 Central
    at('2026-11-27T20:30:00-06:00', 'kentucky', false), // 21:30 Eastern
    // Phoenix keeps standard time all year
    at('2026-07-01T14:59:00Z', 'phoenix', false), // 07:59 MST (08:59 in Denver)
    at('2026-07-01T15:00:00Z', 'phoenix', true),
    // The contact's zone first, the question's zone before that
    at('2026-11-27T22:00:00-05:00', 'newYork', true, { q: { timeZone: 'America/Los_Angeles' } }),
    at('2026-11-27T22:00:00-05:00', 'newYork', true, { contactTimeZone: 'America/Los_Angeles' }),
    at('2026-11-27T22:00:00-05:00', 'newYork', false, { contactTimeZone: 'America/Los_Angeles', q: { timeZone: 'America/New_York' } }),
    at('2026-11-27T10:30:00-05:00', 'losAngeles', true, { q: { timeZone: 'America/New_York' } }), // 07:30 in LA, but the person is in New York
    at('2026-11-27T22:00:00-05:00', 'newYork', false, { q: { timeZone: 'Mars/Olympus_Mons' } }),
    // DST in the US: 2026-03-08 clocks go forward, 2026-11-01 back
    at('2026-03-07T12:30:00Z', 'newYork', false), // 07:30 EST
    at('2026-03-08T12:30:00Z', 'newYork', true), // 08:30 EDT
    at('2026-03-08T01:30:00Z', 'newYork', true), // Saturday 20:30 EST
    at('2026-03-09T01:00:00Z', 'newYork', false), // Sunday 21:00 EDT
    at('2026-03-08T15:30:00Z', 'losAngeles', true), // 08:30 PDT
    at('2026-03-07T15:30:00Z', 'losAngeles', false), // 07:30 PST
    at('2026-10-31T12:30:00Z', 'newYork', true), // 08:30 EDT
    at('2026-11-01T12:30:00Z', 'newYork', false), // 07:30 EST
    at('2026-11-01T01:30:00Z', 'newYork', false), // Saturday 21:30 EDT
    at('2026-11-02T01:30:00Z', 'newYork', true), // Sunday 20:30 EST
    at('2026-10-31T13:30:00Z', 'chicago', true), // 08:30 CDT
    at('2026-11-01T13:30:00Z', 'chicago', false), // 07:30 CST
  ]);
  it('a number whose zone is unknown must fit the window in every US zone', () => {
    const early = run({ at: '2026-11-27T10:00:00-05:00', q: { phone: NUM.tollFree } }); // 05:00 in Honolulu
    expect(early.denials).toEqual(['outside_calling_hours']);
    expect(early.reasons.some((r) => r.code === 'local_time_zone_assumed' && r.rule === 'US-5')).toBe(true);
    const midday = run({ at: '2026-11-27T15:00:00-05:00', q: { phone: NUM.tollFree } }); // 10:00 in Honolulu
    expect(midday.allowed).toBe(true);
    expect(midday.callingWindow?.timeZones).toEqual(expect.arrayContaining(['America/New_York', 'America/Los_Angeles', 'Pacific/Honolulu']));
  });
  it('a robocall refused after a request not to call says that the request revoked the consent', () => {
    const d = run({ at: NOW, q: { purpose: 'service', autodialed: true, lineType: 'mobile' }, events: [written(SELLER, '2025-06-01T12:00:00Z', { source: { method: 'agent_call' } }), objection(SELLER, EARLIER)] });
    expect(d.reasons.find((r) => r.code === 'robocall_needs_consent')?.detail).toContain('the request of 2026-03-01 not to call revoked the consent on record');
    // No reason says the person did not object, nor that the objection does not count.
    expect(d.reasons.map((r) => r.code)).not.toContain('objection_telemarketing_only');
  });
  it('a service call has no calling hours', () => {
    expect(run({ at: '2026-11-27T23:00:00-05:00', q: { purpose: 'service' } }).allowed).toBe(true);
  });
  it('reports the law window and the zones it was checked in', () => {
    const d = run({ at: NOW, q: { phone: NUM.kentucky } });
    expect(d.callingWindow).toMatchObject({ source: 'law', rule: 'US-5', from: '08:00', to: '21:00' });
    expect([...d.callingWindow!.timeZones].sort()).toEqual(['America/Chicago', 'America/New_York']);
  });
});

describe('US-6 autodialed or prerecorded calls need written consent; an EBR does not replace it', () => {
  table([
    { name: 'autodialed to a landline', at: NOW, q: { autodialed: true }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'autodialed to a mobile', at: NOW, q: { autodialed: true, lineType: 'mobile' }, expect: denied(['consent_required'], [fail('US-6', 'robocall_needs_consent')]) },
    {
      name: 'autodialed to a number of unknown line type: treated as mobile',
      at: NOW,
      q: { autodialed: true, phone: NUM.newYork },
      expect: denied(['consent_required'], [pass('US-6', 'line_type_assumed_mobile')]),
    },
    { name: 'autodialed, unknown line type but the caller says landline', at: NOW, q: { autodialed: true, phone: NUM.newYork, lineType: 'fixed' }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'a live manual call to a number of unknown line type', at: NOW, q: { phone: NUM.newYork }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'autodialed to a mobile with written consent', at: NOW, q: { autodialed: true, lineType: 'mobile' }, events: [written(SELLER, EARLIER)], expect: allowed('consent', [...ON_CONSENT], [pass('US-6', 'robocall_consent')]) },
    { name: 'autodialed to a mobile with oral consent', at: NOW, q: { autodialed: true, lineType: 'mobile' }, events: [written(SELLER, EARLIER, { source: { method: 'agent_call' } })], expect: denied(['consent_required']) },
    { name: 'autodialed to a mobile with an EBR', at: NOW, q: { autodialed: true, lineType: 'mobile' }, events: [relationship(SELLER, '2025-01-01T00:00:00Z')], expect: denied(['consent_required']) },
    {
      name: 'autodialed to a listed mobile with an EBR: the EBR answers the listing, not the autodialer',
      at: NOW,
      registers: LISTED,
      q: { autodialed: true, lineType: 'mobile' },
      events: [relationship(SELLER, '2025-01-01T00:00:00Z', { kind: 'subscription' })],
      expect: denied(['consent_required'], [pass('US-1', 'register_exception')]),
    },
    { name: 'prerecorded to a residential landline', at: NOW, q: { prerecorded: true }, expect: denied(['consent_required']) },
    { name: 'prerecorded to a business landline', at: NOW, q: { prerecorded: true, subscriberType: 'business' }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'prerecorded to a business mobile', at: NOW, q: { prerecorded: true, subscriberType: 'business', lineType: 'mobile' }, expect: denied(['consent_required']) },
    { name: 'prerecorded to a residential landline with written consent', at: NOW, q: { prerecorded: true }, events: [written(SELLER, EARLIER)], expect: allowed('consent', [...ON_CONSENT]) },
    { name: 'a service call autodialed to a mobile still needs consent', at: NOW, q: { purpose: 'service', autodialed: true, lineType: 'mobile' }, expect: denied(['consent_required']) },
    // Prior express consent, not written: a spoken consent on a recorded call is enough for a call that sells nothing.
    { name: 'a service call autodialed to a mobile on oral consent', at: NOW, q: { purpose: 'service', autodialed: true, lineType: 'mobile' }, events: [written(SELLER, EARLIER, { source: { method: 'agent_call' } })], expect: allowed(null, ['show_caller_id'], [pass('US-6', 'robocall_consent')]) },
    // US-4's company do-not-call list is a telemarketing rule.
    {
      name: 'a live service call to a person who asked not to be called by telemarketers',
      at: NOW,
      q: { purpose: 'service', lineType: 'fixed' },
      events: [objection(SELLER, EARLIER)],
      expect: allowed(null, ['show_caller_id'], [pass('US-4', 'objection_telemarketing_only')]),
    },
    // Asking not to be called revokes the consent a robocall needs, whatever the call is about.
    {
      name: 'an autodialed service call to a mobile after the person asked not to be called, on a consent given before',
      at: NOW,
      q: { purpose: 'service', autodialed: true, lineType: 'mobile' },
      events: [written(SELLER, '2025-06-01T12:00:00Z', { source: { method: 'agent_call' } }), objection(SELLER, EARLIER)],
      expect: denied(['objected', 'consent_required'], [fail('US-4', 'objected'), fail('US-6', 'robocall_needs_consent')]),
    },
    {
      name: 'an autodialed service call to a mobile on a consent given after the request not to call',
      at: NOW,
      q: { purpose: 'service', autodialed: true, lineType: 'mobile' },
      events: [objection(SELLER, '2025-06-01T12:00:00Z'), written(SELLER, EARLIER, { source: { method: 'agent_call' } })],
      expect: allowed(null, ['show_caller_id'], [pass('US-4', 'objection_overridden'), pass('US-6', 'robocall_consent')]),
    },
    { name: 'a service call prerecorded to a landline', at: NOW, q: { purpose: 'service', prerecorded: true }, expect: allowed(null, ['show_caller_id']) },
  ]);
});

describe('US-8 Florida: 08:00–20:00 and at most 3 calls in 24 hours', () => {
  const three = (entity = SELLER, first: When = '2026-11-26T15:00:00-05:00') => [call(entity, first), call(entity, '2026-11-27T09:00:00-05:00'), call(entity, '2026-11-27T11:00:00-05:00')];
  table([
    { name: 'Miami at 19:59', at: '2026-11-27T19:59:00-05:00', q: { phone: NUM.miami }, expect: allowed('opt_out_regime', ['show_caller_id'], [pass('US-8', 'calling_hours')]) },
    { name: 'Miami at 20:00', at: '2026-11-27T20:00:00-05:00', q: { phone: NUM.miami }, expect: denied(['outside_calling_hours'], [fail('US-8', 'outside_calling_hours'), pass('US-5', 'calling_hours')]) },
    { name: 'Miami at 07:59', at: '2026-11-27T07:59:00-05:00', q: { phone: NUM.miami }, expect: denied(['outside_calling_hours']) },
    { name: 'Miami at 08:00', at: '2026-11-27T08:00:00-05:00', q: { phone: NUM.miami }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'New York at 20:30 (not Florida)', at: '2026-11-27T20:30:00-05:00', q: { phone: NUM.newYork }, expect: allowed('opt_out_regime', ['show_caller_id'], [pass('US-8', 'state_rules')]) },
    { name: 'Panhandle at 19:30 Central (20:30 Eastern)', at: '2026-11-27T19:30:00-06:00', q: { phone: NUM.panhandle }, expect: denied(['outside_calling_hours'], [fail('US-8')]) },
    { name: 'Panhandle at 18:30 Central (19:30 Eastern)', at: '2026-11-27T18:30:00-06:00', q: { phone: NUM.panhandle }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'Panhandle at 08:30 Eastern (07:30 Central)', at: '2026-11-27T08:30:00-05:00', q: { phone: NUM.panhandle }, expect: denied(['outside_calling_hours']) },
    { name: 'Panhandle overlay 448 at 08:30 Eastern (07:30 Central): the zones of 850', at: '2026-11-27T08:30:00-05:00', q: { phone: phone('+14485550123') }, expect: denied(['outside_calling_hours']) },
    { name: 'Miami, DST day 2026-03-08 at 19:30 EDT', at: '2026-03-08T23:30:00Z', q: { phone: NUM.miami }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'Miami, the day before at 23:30 UTC (18:30 EST)', at: '2026-03-07T23:30:00Z', q: { phone: NUM.miami }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'Miami, 2026-11-01 at 00:30 UTC (20:30 EDT, Saturday)', at: '2026-11-01T00:30:00Z', q: { phone: NUM.miami }, expect: denied(['outside_calling_hours']) },
    { name: 'Miami, 2026-11-02 at 00:30 UTC (19:30 EST, Sunday)', at: '2026-11-02T00:30:00Z', q: { phone: NUM.miami }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'a state that is not known gets Florida hours as a precaution', at: '2026-11-27T20:30:00-05:00', q: { phone: { ...NUM.newYork, region: null } }, expect: denied(['outside_calling_hours'], [pass('US-8', 'state_unknown')]) },
    // The call cap: calls of this seller in the 24 hours before the call
    { name: 'Miami, 2 calls in the last 24 hours', at: NOW, q: { phone: NUM.miami }, events: three().slice(1), expect: allowed('opt_out_regime', ['show_caller_id'], [pass('US-8', 'call_count')]) },
    { name: 'Miami, 3 calls in the last 24 hours', at: NOW, q: { phone: NUM.miami }, events: three(), expect: denied(['frequency_cap'], [fail('US-8', 'frequency_cap')]) },
    {
      name: 'Miami, 3 calls of which one a service call: not 3 sales calls',
      at: NOW,
      q: { phone: NUM.miami },
      events: three().map((c, i) => (i === 0 ? { ...c, purpose: 'service' as const } : c)),
      expect: allowed('opt_out_regime', ['show_caller_id'], [pass('US-8', 'call_count')]),
    },
    { name: 'Miami, the first of 3 calls exactly 24 hours before', at: NOW, q: { phone: NUM.miami }, events: three(SELLER, '2026-11-26T14:00:00-05:00'), expect: denied(['frequency_cap']) },
    { name: 'Miami, the first of 3 calls 24 hours and 1 minute before', at: NOW, q: { phone: NUM.miami }, events: three(SELLER, '2026-11-26T13:59:00-05:00'), expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: "Miami, 3 calls by another seller", at: NOW, q: { phone: NUM.miami }, events: three(OTHER), expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'Miami, calls recorded after the moment of the call do not count', at: '2026-11-27T08:30:00-05:00', q: { phone: NUM.miami }, events: three(), expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'New York, 3 calls in the last 24 hours (no cap)', at: NOW, q: { phone: NUM.newYork }, events: three(), expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'Panhandle, 3 calls and evening: both denials', at: '2026-11-27T19:30:00-06:00', q: { phone: NUM.panhandle }, events: three(SELLER, '2026-11-27T12:00:00-05:00'), expect: denied(['outside_calling_hours', 'frequency_cap']) },
    { name: 'Miami, 3 calls: consent does not lift the cap', at: NOW, q: { phone: NUM.miami }, events: [...three(), written(SELLER, EARLIER)], expect: denied(['frequency_cap']) },
  ]);
  it('reports the Florida window as the one that applied', () => {
    const d = run({ at: NOW, q: { phone: NUM.miami } });
    expect(d.callingWindow).toMatchObject({ source: 'law', rule: 'US-8', from: '08:00', to: '20:00' });
  });
  it('reports the Florida window also when the federal one is missed too, so "call between" is right', () => {
    const d = run({ at: '2026-11-27T22:00:00-05:00', q: { phone: NUM.miami } });
    expect(d.denials).toEqual(['outside_calling_hours']);
    expect(d.callingWindow).toMatchObject({ source: 'law', rule: 'US-8', from: '08:00', to: '20:00' });
  });
});

describe('numbers outside the US under +1, and other countries', () => {
  it.each([
    ['Canada (Toronto)', '+14165550123'],
    ['Canada (Vancouver)', '+16045550123'],
    ['Puerto Rico', '+17875550123'],
    ['France', '+33612345678'],
  ])('%s is an unsupported jurisdiction', (_name, e164) => {
    const d = decide(makeFacts({ registers: [dnc()] }), makeQuestion(SELLER, NOW, { phone: phone(e164) }));
    expect(d).toMatchObject({ allowed: false, basis: null, jurisdiction: null, denials: ['unsupported_jurisdiction'], obligations: [] });
  });
});

describe('dates in US reasons are on the number\'s calendar, and a term says its last day', () => {
  it('an objection at 21:00 in New York is dated that day, not the next (UTC) one (US-4)', () => {
    const d = run({ at: NOW, events: [objection(SELLER, '2026-03-01T21:00:00-05:00')] });
    expect(d.reasons.find((r) => r.code === 'objected')?.detail).toMatch(/not to call on 2026-03-01;/);
  });
  it('an EBR that stops at midnight counts until the end of the day before; one that stops mid-day, until that time (US-3)', () => {
    // A purchase at New York midnight on 1 June 2025: 18 months later is 1 December 2026, 00:00 there.
    const midnight = run({ at: NOW, registers: LISTED, events: [relationship(SELLER, '2025-06-01T00:00:00-04:00', { kind: 'purchase' })] });
    expect(midnight.reasons.find((r) => r.code === 'ebr_transaction')?.detail).toMatch(/lasts until the end of 2026-11-30 \(18 months\)\.$/);
    const noon = run({ at: NOW, registers: LISTED, events: [relationship(SELLER, '2025-06-01T14:30:00-04:00', { kind: 'purchase' })] });
    expect(noon.reasons.find((r) => r.code === 'ebr_transaction')?.detail).toMatch(/lasts until 2026-12-01 14:30 \(18 months\)\.$/);
  });
});
