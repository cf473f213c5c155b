/**
 * The British law table, row by row (shared/law/gb.md, PECR regulations 21, 21A, 21B, GB-1 … GB-5):
 * every case is built from a row and runs the pure engine on facts built directly. Register
 * listings carry their date as the register index stores it: the start of the day, UTC.
 */
import { describe, expect, it } from 'vitest';
import type { Decision, RegisterCheck } from '../src/law/index.js';
import { consent, makeEntity, objection, reassignment, registerCheck, relationship, withdrawal, type When } from './helpers/facts.js';
import { allowed, denied, fail, lawTable, pass, type Case } from './helpers/law-table.js';

const SELLER = makeEntity({ id: 'gb-seller', name: 'Brightside Energy Ltd', country: 'GB' });
const OTHER = makeEntity({ id: 'gb-other', name: 'Other Energy Ltd', country: 'GB' });

const NOW = '2026-11-27T11:00:00Z';
const EARLIER = '2026-03-01T10:00:00Z';
const COPY = '2026-11-20T00:00:00Z';

const tps = (o: { listed?: boolean; listedAt?: When | null; asOf?: When } = {}): RegisterCheck => registerCheck('gb-tps', 'GB', { asOf: COPY, ...o });
const ctps = (o: { listed?: boolean; listedAt?: When | null; asOf?: When } = {}): RegisterCheck => registerCheck('gb-ctps', 'GB', { asOf: COPY, ...o });
const CLEAN = [tps({ listed: false }), ctps({ listed: false })];

const { table, run } = lawTable('GB', { entity: SELLER, registers: CLEAN }, (d: Decision) => {
  // GB-5: every allowed call presents a caller line identity.
  if (d.allowed) {
    expect(d.obligations).toContain('show_caller_id');
    expect(d.reasons.some((r) => r.rule === 'GB-5' && r.passed)).toBe(true);
  }
});

describe('GB-1 opt-out regime: allowed unless listed or told not to call', () => {
  table([
    { name: 'not listed, no objection', at: NOW, expect: allowed('opt_out_regime', ['show_caller_id'], [pass('GB-1', 'opt_out_regime'), pass('GB-1', 'register_not_listed')]) },
    { name: 'in the TPS (date unknown)', at: NOW, registers: [tps()], expect: denied(['register_listed'], [fail('GB-1', 'register_listed')]) },
    { name: 'told this caller not to call', at: NOW, events: [objection(SELLER, EARLIER)], expect: denied(['objected'], [fail('GB-1', 'objected')]) },
    { name: 'told another caller not to call', at: NOW, events: [objection(OTHER, EARLIER)], expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'listed and objected', at: NOW, registers: [tps()], events: [objection(SELLER, EARLIER)], expect: denied(['objected', 'register_listed']) },
    {
      name: 'no TPS copy loaded: the engine cannot check and denies',
      at: NOW,
      registers: [],
      expect: denied(['register_stale'], [fail('GB-1', 'register_missing')]),
    },
    { name: 'a sole trader is checked against the TPS', at: NOW, registers: [tps(), ctps({ listed: false })], q: { subscriberType: 'sole_trader' }, expect: denied(['register_listed']) },
    { name: 'a business is checked against the CTPS', at: NOW, registers: [tps({ listed: false }), ctps()], q: { subscriberType: 'business' }, expect: denied(['register_listed']) },
    {
      // The subscriber type is the caller's word; a TPS listing says the subscriber is an individual.
      name: 'a number in the TPS called as a business: still listed',
      at: NOW,
      registers: [tps(), ctps({ listed: false })],
      q: { subscriberType: 'business' },
      expect: denied(['register_listed'], [fail('GB-1', 'register_listed'), pass('GB-1', 'register_not_listed')]),
    },
    { name: 'a number in the CTPS called as a consumer: still listed', at: NOW, registers: [tps({ listed: false }), ctps()], expect: denied(['register_listed'], [fail('GB-1', 'register_listed')]) },
    { name: 'a number in the CTPS called as a consumer who consented: the consent overrides it', at: NOW, registers: [tps({ listed: false }), ctps()], events: [consent(SELLER, EARLIER)], expect: allowed('consent', ['show_caller_id'], [pass('GB-3', 'register_overridden')]) },
    { name: 'a business, the TPS copy not loaded: only the CTPS is needed', at: NOW, registers: [ctps({ listed: false })], q: { subscriberType: 'business' }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'a business with no CTPS copy loaded', at: NOW, registers: [tps({ listed: false })], q: { subscriberType: 'business' }, expect: denied(['register_stale']) },
    {
      name: 'a recorded-message call needs consent (the opt-out rule covers live calls only)',
      at: NOW,
      q: { prerecorded: true },
      expect: denied(['consent_required'], [fail('GB-1', 'recorded_message')]),
    },
    {
      name: 'a recorded-message call with consent',
      at: NOW,
      q: { prerecorded: true },
      events: [consent(SELLER, EARLIER)],
      expect: allowed('consent', ['show_caller_id']),
    },
    { name: 'an autodialed live call is a live call', at: NOW, q: { autodialed: true }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'a service call is out of scope, even when listed', at: NOW, registers: [tps()], q: { purpose: 'service' }, expect: allowed(null, ['show_caller_id'], [pass('GB-1', 'service_call')]) },
    {
      name: 'an objection by the previous holder of a reassigned number no longer counts',
      at: NOW,
      events: [objection(SELLER, EARLIER)],
      reassignments: [reassignment('2026-06-01T00:00:00Z')],
      expect: allowed('opt_out_regime', ['show_caller_id'], [pass('GB-1', 'number_reassigned')]),
    },
    {
      name: 'a TPS copy older than 28 days cannot show a listing that protects the number: denied',
      at: NOW,
      registers: [tps({ listed: false, asOf: '2026-09-01T00:00:00Z' })],
      expect: denied(['register_stale'], [fail('GB-2', 'register_copy_old')]),
    },
    {
      name: 'a TPS copy 28 days old: a listing since then does not protect the number yet',
      at: '2026-11-27T23:00:00Z',
      registers: [tps({ listed: false, asOf: '2026-10-30T00:00:00Z' })],
      expect: allowed('opt_out_regime', ['show_caller_id']),
    },
    {
      name: 'a TPS copy 29 days old',
      at: '2026-11-28T00:30:00Z',
      registers: [tps({ listed: false, asOf: '2026-10-30T00:00:00Z' })],
      expect: denied(['register_stale'], [fail('GB-2', 'register_copy_old')]),
    },
    {
      name: 'consent to this caller: an old copy does not matter',
      at: NOW,
      registers: [tps({ listed: false, asOf: '2026-09-01T00:00:00Z' })],
      events: [consent(SELLER, EARLIER)],
      expect: allowed('consent', ['show_caller_id']),
    },
    {
      name: 'a call judged with a copy from after it: the copy cannot show the listing then',
      at: '2026-10-01T10:00:00Z',
      registers: [tps({ listed: false })],
      expect: denied(['register_stale'], [fail('GB-1', 'register_copy_after_call')]),
    },
  ]);
});

describe('dates in the reasons', () => {
  it('are the dates of the London calendar', () => {
    // 00:30 British summer time is still the previous day in UTC.
    const d = run({ at: NOW, events: [objection(SELLER, '2026-06-01T00:30:00+01:00')] });
    expect(d.reasons.find((r) => r.code === 'objected')?.detail).toContain('2026-06-01');
  });
});

describe('GB-2 a listing protects the number from 28 days after registration', () => {
  // Listed on 2026-10-30 (start of day UTC): protected from 2026-11-27 00:00 UTC.
  const LISTED = '2026-10-30T00:00:00Z';
  const cases: Case[] = [
    { name: '27 days and 23:59 after listing: not yet protected', at: '2026-11-26T23:59:00Z', registers: [tps({ listedAt: LISTED })], expect: allowed('opt_out_regime', ['show_caller_id'], [pass('GB-2', 'register_listed_recently')]) },
    { name: 'exactly 28 days after listing: protected', at: '2026-11-27T00:00:00Z', registers: [tps({ listedAt: LISTED })], expect: denied(['register_listed'], [fail('GB-1', 'register_listed')]) },
    { name: '28 days and more', at: '2026-12-15T10:00:00Z', registers: [tps({ listedAt: LISTED })], expect: denied(['register_listed']) },
    { name: 'CTPS: 27 days after listing', at: '2026-11-26T12:00:00Z', registers: [ctps({ listedAt: LISTED })], q: { subscriberType: 'business' }, expect: allowed('opt_out_regime', ['show_caller_id']) },
    { name: 'CTPS: 28 days after listing', at: '2026-11-27T12:00:00Z', registers: [ctps({ listedAt: LISTED })], q: { subscriberType: 'business' }, expect: denied(['register_listed']) },
    {
      name: 'listed after the call, judged with that newer copy: it cannot show the number was not listed then',
      at: '2026-10-01T10:00:00Z',
      registers: [tps({ listedAt: LISTED })],
      expect: denied(['register_stale'], [pass('GB-2', 'register_not_yet_listed'), fail('GB-1', 'register_copy_after_call')]),
    },
    {
      name: 'British summer time: 00:30 on the 28th day in London (still the 27th in UTC) is protected',
      at: '2026-10-25T00:30:00+01:00',
      registers: [tps({ listedAt: '2026-09-27T00:00:00Z', asOf: '2026-10-20T00:00:00Z' })],
      expect: denied(['register_listed']),
    },
    {
      name: 'summer time: 28 days counted across the October clock change',
      at: '2026-10-25T12:00:00+00:00',
      registers: [tps({ listedAt: '2026-09-27T00:00:00Z', asOf: '2026-10-20T00:00:00Z' })],
      expect: denied(['register_listed']),
    },
    {
      name: 'summer time: one day short across the October clock change',
      at: '2026-10-24T22:30:00+01:00',
      registers: [tps({ listedAt: '2026-09-27T00:00:00Z', asOf: '2026-10-20T00:00:00Z' })],
      expect: allowed('opt_out_regime', ['show_caller_id']),
    },
  ];
  table(cases);
});

describe('GB-3 consent to this caller overrides the listing, for this caller only', () => {
  table([
    {
      name: 'listed, consent to this caller',
      at: NOW,
      registers: [tps()],
      events: [consent(SELLER, EARLIER)],
      expect: allowed('consent', ['show_caller_id'], [pass('GB-3', 'consent_valid'), pass('GB-3', 'register_overridden')]),
    },
    {
      name: 'listed, consent to another caller',
      at: NOW,
      registers: [tps()],
      events: [consent(OTHER, EARLIER)],
      expect: denied(['register_listed'], [fail('GB-3', 'consent_other_entity')]),
    },
    {
      name: 'listed, consent withdrawn: the listing applies again and the person told the caller not to call',
      at: NOW,
      registers: [tps()],
      events: [consent(SELLER, EARLIER), withdrawal(SELLER, '2026-06-01T00:00:00Z')],
      expect: denied(['objected', 'register_listed'], [fail('GB-3', 'consent_withdrawn')]),
    },
    {
      name: 'not listed, consent withdrawn: withdrawing says "do not call"',
      at: NOW,
      events: [consent(SELLER, EARLIER), withdrawal(SELLER, '2026-06-01T00:00:00Z')],
      expect: denied(['objected'], [fail('GB-3', 'objected')]),
    },
    {
      name: 'withdrawn, later consented again',
      at: NOW,
      registers: [tps()],
      events: [withdrawal(SELLER, '2026-01-01T00:00:00Z'), consent(SELLER, EARLIER)],
      expect: allowed('consent', ['show_caller_id'], [pass('GB-3', 'objection_overridden')]),
    },
    {
      name: 'no TPS copy, but consent to this caller',
      at: NOW,
      registers: [],
      events: [consent(SELLER, EARLIER)],
      expect: allowed('consent', ['show_caller_id'], [pass('GB-3', 'register_not_needed')]),
    },
    { name: 'objected, later consented', at: NOW, registers: [tps()], events: [objection(SELLER, '2026-01-01T00:00:00Z'), consent(SELLER, EARLIER)], expect: allowed('consent', ['show_caller_id'], [pass('GB-3', 'objection_overridden')]) },
    { name: 'consented, later objected', at: NOW, events: [consent(SELLER, EARLIER), objection(SELLER, '2026-06-01T00:00:00Z')], expect: denied(['objected']) },
    { name: 'consent for e-mail only', at: NOW, registers: [tps()], events: [consent(SELLER, EARLIER, { channel: 'email' })], expect: denied(['register_listed'], [fail('GB-3', 'consent_wrong_channel')]) },
  ]);
});

describe('GB-4 claims management and pensions need consent (pensions also an existing client relationship)', () => {
  const pensionsClient = (o: Parameters<typeof relationship>[2] = {}) => relationship(SELLER, '2024-04-01T00:00:00Z', { productCategory: 'pensions', ...o });
  table([
    { name: 'claims management without consent', at: NOW, q: { productCategory: 'claims_management' }, expect: denied(['consent_required'], [fail('GB-4', 'consent_only_category')]) },
    {
      name: 'claims management without consent to a TPS number: both denials, as the reasons say',
      at: NOW,
      q: { productCategory: 'claims_management' },
      registers: [tps(), ctps({ listed: false })],
      expect: denied(['consent_required', 'register_listed'], [fail('GB-4', 'consent_only_category'), fail('GB-1', 'register_listed')]),
    },
    {
      name: 'claims management with consent to such calls',
      at: NOW,
      q: { productCategory: 'claims_management' },
      events: [consent(SELLER, EARLIER, { products: ['claims_management'] })],
      expect: allowed('consent', ['show_caller_id'], [pass('GB-4', 'consent_valid'), pass('GB-4', 'consent_only_category')], [fail('GB-4', 'consent_only_category')]),
    },
    ...['mis-sold pension claims', 'pension claims', 'claim pension'].map(
      (productCategory): Case => ({
        name: `"${productCategory}" is a claims call (the stricter rule): a pensions client relationship does not serve`,
        at: NOW,
        q: { productCategory },
        events: [pensionsClient()],
        expect: denied(['consent_required'], [fail('GB-4', 'consent_only_category')]),
      }),
    ),
    {
      name: 'pensions: an existing client meets the need for consent or a client relationship',
      at: NOW,
      q: { productCategory: 'pensions' },
      events: [pensionsClient()],
      expect: allowed('customer_relationship', ['offer_right_to_object', 'show_caller_id'], [pass('GB-4', 'consent_only_category'), pass('GB-4', 'pension_client')]),
    },
    {
      name: 'pensions by recorded message: a client relationship does not serve – a recorded message needs consent',
      at: NOW,
      q: { productCategory: 'pensions', prerecorded: true },
      events: [pensionsClient()],
      expect: denied(['consent_required'], [pass('GB-4', 'consent_only_category'), fail('GB-1', 'recorded_message')]),
    },
    {
      name: 'a recorded message with consent: the need is met',
      at: NOW,
      q: { prerecorded: true },
      events: [consent(SELLER, EARLIER)],
      expect: allowed('consent', ['show_caller_id'], [pass('GB-1', 'recorded_message')], [fail('GB-1', 'recorded_message')]),
    },
    ...([
      ['pension', 'pensions'],
      ['Pensions', 'pension transfer'],
      ['Claims Management', 'claims_management'],
    ] as const).map(
      ([named, called]): Case => ({
        name: `a consent naming "${named}" is consent to "${called}" calls (GB-4 reads categories by their words)`,
        at: NOW,
        q: { productCategory: called },
        events: [consent(SELLER, EARLIER, { products: [named] })],
        expect: allowed('consent', ['show_caller_id'], [pass('GB-4', 'consent_valid')]),
      }),
    ),
    // Words run together or inside other words make a call need consent (stricter), but grant nothing.
    ...([
      ['pensions', { consent: 'car_suspension' }, null],
      ['pensions', { consent: 'pensioner_discounts' }, null],
      ['claims_management', { consent: 'disclaimer_printing' }, null],
      ['reclaimed_furniture', { consent: 'claims_management' }, 'listed'],
      ['car_suspension', { consent: 'pensions' }, 'listed'],
      ['pensions', { relationship: 'car_suspension' }, null],
    ] as const).map(
      ([called, fact, listed]): Case => ({
        name: `a call about "${called}" is not allowed by ${'consent' in fact ? `a consent for "${fact.consent}"` : `a relationship about "${fact.relationship}"`}${listed ? ' (TPS-listed)' : ''}`,
        at: NOW,
        q: { productCategory: called },
        ...(listed ? { registers: [tps(), ctps({ listed: false })] } : {}),
        events: ['consent' in fact ? consent(SELLER, EARLIER, { products: [fact.consent] }) : pensionsClient({ productCategory: fact.relationship })],
        expect: { allowed: false, basis: null },
      }),
    ),
    {
      name: 'a consent to pensions calls is not consent to claims calls, even about pensions',
      at: NOW,
      q: { productCategory: 'pension claims' },
      events: [consent(SELLER, EARLIER, { products: ['pensions'] })],
      expect: denied(['consent_required'], [fail('GB-4', 'consent_product_mismatch')]),
    },
    {
      name: 'claims management: a consent to calls that names no product is not consent to such calls',
      at: NOW,
      q: { productCategory: 'claims_management' },
      events: [consent(SELLER, EARLIER)],
      expect: denied(['consent_required'], [fail('GB-4', 'consent_not_specific')]),
    },
    ...['Claims Management', 'claims-management', 'personal injury claims', 'PPI claim', 'ClaimsManagement', 'claimsmanagement'].map(
      (productCategory): Case => ({
        name: `claims management spelt "${productCategory}" needs consent all the same`,
        at: NOW,
        q: { productCategory },
        expect: denied(['consent_required'], [fail('GB-4', 'consent_only_category')]),
      }),
    ),
    ...['Pensions', 'pension', 'pension transfer', 'PensionTransfer'].map(
      (productCategory): Case => ({
        name: `pensions spelt "${productCategory}" needs consent or a client relationship all the same`,
        at: NOW,
        q: { productCategory },
        expect: denied(['consent_required'], [fail('GB-4', 'consent_only_category'), fail('GB-4', 'no_client_relationship')]),
      }),
    ),
    {
      name: 'claims management: a client relationship does not serve',
      at: NOW,
      q: { productCategory: 'claims_management' },
      events: [relationship(SELLER, '2024-04-01T00:00:00Z', { productCategory: 'claims_management' })],
      expect: denied(['consent_required']),
    },
    { name: 'pensions without consent or relationship', at: NOW, q: { productCategory: 'pensions' }, expect: denied(['consent_required'], [fail('GB-4', 'no_client_relationship')]) },
    { name: 'pensions with consent to such calls', at: NOW, q: { productCategory: 'pensions' }, events: [consent(SELLER, EARLIER, { products: ['pensions'] })], expect: allowed('consent', ['show_caller_id']) },
    {
      name: 'pensions: an existing client offered a refusal at collection',
      at: NOW,
      q: { productCategory: 'pensions' },
      events: [pensionsClient()],
      expect: allowed('customer_relationship', ['offer_right_to_object', 'show_caller_id'], [pass('GB-4', 'pension_client'), pass('GB-4', 'offer_refusal')]),
    },
    { name: 'pensions: a subscription client', at: NOW, q: { productCategory: 'pensions' }, events: [pensionsClient({ kind: 'subscription' })], expect: allowed('customer_relationship', ['offer_right_to_object', 'show_caller_id']) },
    {
      name: 'pensions: no refusal offered at collection',
      at: NOW,
      q: { productCategory: 'pensions' },
      events: [pensionsClient({ optOutOfferedAtCollection: false })],
      expect: denied(['consent_required'], [fail('GB-4', 'client_no_refusal_offered')]),
    },
    {
      // "Where such calls are expected": the client was not told at collection that pensions calls would follow.
      name: 'pensions: a client not told at collection that such calls would follow',
      at: NOW,
      q: { productCategory: 'pensions' },
      events: [pensionsClient({ informedAtCollection: false })],
      expect: denied(['consent_required'], [fail('GB-4', 'client_not_expecting_calls')]),
    },
    { name: 'pensions: the relationship ended', at: NOW, q: { productCategory: 'pensions' }, events: [pensionsClient({ endedAt: '2026-06-01T00:00:00Z' })], expect: denied(['consent_required'], [fail('GB-4', 'client_ended')]) },
    {
      name: 'pensions: a client for another product',
      at: NOW,
      q: { productCategory: 'pensions' },
      events: [relationship(SELLER, '2024-04-01T00:00:00Z', { productCategory: 'energy' })],
      expect: denied(['consent_required'], [fail('GB-4', 'client_other_product')]),
    },
    { name: 'pensions: a quote request is no client relationship', at: NOW, q: { productCategory: 'pensions' }, events: [pensionsClient({ kind: 'quote_request' })], expect: denied(['consent_required'], [fail('GB-4', 'client_no_transaction')]) },
    { name: "pensions: another entity's client", at: NOW, q: { productCategory: 'pensions' }, events: [relationship(OTHER, '2024-04-01T00:00:00Z', { productCategory: 'pensions' })], expect: denied(['consent_required']) },
    { name: 'pensions client who objected', at: NOW, q: { productCategory: 'pensions' }, events: [pensionsClient(), objection(SELLER, EARLIER)], expect: denied(['objected', 'consent_required']) },
    {
      name: 'pensions client listed in the TPS: the relationship does not override the listing',
      at: NOW,
      q: { productCategory: 'pensions' },
      registers: [tps()],
      events: [pensionsClient()],
      expect: denied(['register_listed']),
    },
    { name: 'pensions client, no TPS copy loaded: cannot be checked', at: NOW, q: { productCategory: 'pensions' }, registers: [], events: [pensionsClient()], expect: denied(['register_stale']) },
    { name: 'pensions consent overrides the TPS listing', at: NOW, q: { productCategory: 'pensions' }, registers: [tps()], events: [consent(SELLER, EARLIER, { products: ['pensions'] })], expect: allowed('consent', ['show_caller_id']) },
    { name: 'another product is under the opt-out regime', at: NOW, q: { productCategory: 'energy' }, expect: allowed('opt_out_regime', ['show_caller_id']) },
  ]);
});
