/**
 * The Dutch law table, row by row: every case is built from a row of shared/law/nl.md
 * (Telecommunicatiewet art. 11.7, NL-1 … NL-11) and runs the pure engine on facts built directly
 * (no store). Dates sit on both sides of the regime changes, which happen at Amsterdam local
 * midnight: 2021-07-01 (opt-in, Bel-me-niet Register abolished) and 2026-07-01 (the
 * customer-relationship exception narrows to charities, charity lotteries and publishers).
 *
 * The tests assert what a compliance officer relies on – allowed, basis, denials, obligations and
 * that a reason with the right rule id and passed flag is present – never the wording.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type {
  Basis,
  Decision,
  Entity,
  EntityFact,
  Obligation,
  Question,
  RegisterCheck,
} from '../src/law/index.js';
import {
  DAY_MS,
  call,
  consent,
  contactRequest,
  makeEntity,
  ms,
  objection,
  reassignment,
  registerCheck,
  relationship,
  withdrawal,
  type When,
} from './helpers/facts.js';
import { describeReasons, expectReason, expectWellFormed } from './helpers/decision.js';
import { allowed, denied, fail, lawTable, pass, type Case as TableCase } from './helpers/law-table.js';

/* ------------------------------------------------------------------ the calendar of the law */

/** Regime boundaries, Amsterdam local midnight, written out independently of the engine. */
const OPT_IN = ms('2021-07-01T00:00:00+02:00');
const NARROW = ms('2026-07-01T00:00:00+02:00');
const VERIFY = ms('2025-07-01T00:00:00+02:00');

const T = {
  /** Last minute of the opt-out regime. */
  optOutLast: '2021-06-30T23:59:00+02:00',
  /** First minute of opt-in. */
  optInFirst: '2021-07-01T00:00:00+02:00',
  /** Last minute of the wide customer-relationship exception. */
  wideLast: '2026-06-30T23:59:00+02:00',
  /** First minute of the narrowed exception. */
  narrowFirst: '2026-07-01T00:00:00+02:00',
  /** Ordinary moments well inside each regime. */
  pre: '2020-03-10T10:00:00+01:00',
  wide: '2023-05-10T10:00:00+02:00',
  narrow: '2027-03-10T10:00:00+01:00',
} as const;

const BOUNDARY_MOMENTS = [T.optOutLast, T.optInFirst, T.wideLast, T.narrowFirst] as const;
const isOptOutEra = (at: When): boolean => ms(at) < OPT_IN;

/* ------------------------------------------------------------------ the callers */

const ENERGY = makeEntity({ id: 'nl-energy', name: 'Stroom BV', kind: 'company' });
const RETAIL = makeEntity({ id: 'nl-energy-retail', name: 'Stroom Retail BV', kind: 'company', parentId: ENERGY.id });
const CHARITY = makeEntity({ id: 'nl-charity', name: 'Stichting Zeehond', kind: 'charity' });
const LOTTERY = makeEntity({ id: 'nl-lottery', name: 'Goede Doelen Loterij', kind: 'lottery' });
const PUBLISHER = makeEntity({ id: 'nl-publisher', name: 'Dagblad Uitgevers BV', kind: 'publisher' });
const SURVIVORS = [CHARITY, LOTTERY, PUBLISHER];

const BMN = 'nl-bel-me-niet';
const listedInBelMeNiet = (o: { listedAt?: When | null } = {}): RegisterCheck => registerCheck(BMN, 'NL', { listed: true, ...o });
const notListedInBelMeNiet = (): RegisterCheck => registerCheck(BMN, 'NL', { listed: false });

/* ------------------------------------------------------------------ obligations */

/** Before 2021-07-01 every call mentions the right to object and the register (NL-8, opt-out regime). */
const OBL_OPT_OUT_ERA: Obligation[] = ['offer_right_to_object', 'mention_bel_me_niet', 'show_caller_id'];
/** From 2021-07-01: every call but a requested one offers the right to object (NL-8). */
const OBL_STANDARD: Obligation[] = ['offer_right_to_object', 'show_caller_id'];
/** NL-7: the requested call names caller, offer and channel; no right-to-object offer, no register. */
const OBL_REQUESTED: Obligation[] = ['name_caller_offer_channel', 'show_caller_id'];
const oblFor = (at: When): Obligation[] => (isOptOutEra(at) ? OBL_OPT_OUT_ERA : OBL_STANDARD);

/* ------------------------------------------------------------------ the table format */

type Case = TableCase;

/** What every Dutch decision must satisfy beyond being well formed, whatever the case. */
function dutchShape(d: Decision, c: Pick<Case, 'at' | 'q'>): void {
  if (c.q?.purpose === 'service') return;
  expectReason(d, pass('NL-11', 'telemarketing_call'));
  expectReason(d, pass('NL-1'));
  if (!d.allowed) return;
  // NL-8: the caller's number is shown in every call.
  expect(d.obligations).toContain('show_caller_id');
  expectReason(d, pass('NL-8', 'caller_id'));
  if (d.basis === 'requested_communication') {
    // NL-7: the requested call names caller, offer and channel; no right-to-object offer.
    expect(d.obligations).toContain('name_caller_offer_channel');
    expect(d.obligations).not.toContain('offer_right_to_object');
    expect(d.obligations).not.toContain('mention_bel_me_niet');
  } else {
    // NL-8: every other call offers the right to object; before 2021-07-01 also the register.
    expect(d.obligations).toContain('offer_right_to_object');
    if (isOptOutEra(c.at)) expect(d.obligations).toContain('mention_bel_me_niet');
  }
  if (!isOptOutEra(c.at)) expect(d.obligations).not.toContain('mention_bel_me_niet');
}

/** What every Dutch decision must satisfy, whatever the case (for decisions made outside the table). */
function expectDutchShape(d: Decision, c: Pick<Case, 'at' | 'q'>): void {
  expectWellFormed(d, 'NL', { basisFree: c.q?.purpose === 'service' });
  dutchShape(d, c);
}

const { run, table } = lawTable('NL', { entity: ENERGY }, dutchShape);

/* ================================================================== NL-1 natural vs legal persons */

describe('NL-1 natural persons need a basis from 2021-07-01, legal persons stay opt-out', () => {
  const cases: Case[] = [];
  for (const at of BOUNDARY_MOMENTS) {
    const era = isOptOutEra(at);
    for (const subscriberType of ['consumer', 'sole_trader'] as const) {
      cases.push({
        name: `${subscriberType}, no facts, call ${at}`,
        at,
        q: { subscriberType },
        registers: [notListedInBelMeNiet()],
        expect: era
          ? allowed('opt_out_regime', OBL_OPT_OUT_ERA, [pass('NL-1', 'regime_opt_out'), pass('NL-9', 'register_not_listed'), pass('NL-8', 'no_objection')])
          : denied(['no_basis'], [pass('NL-1', 'natural_person'), fail('NL-2'), fail('NL-3'), fail('NL-7')]),
      });
      cases.push({
        name: `${subscriberType} with phone consent, call ${at}`,
        at,
        q: { subscriberType },
        events: [consent(ENERGY, '2020-01-15T12:00:00+01:00')],
        expect: allowed('consent', oblFor(at), [pass('NL-2', 'consent_valid')]),
      });
      cases.push({
        name: `${subscriberType} who objected, call ${at}`,
        at,
        q: { subscriberType },
        events: [objection(ENERGY, '2020-01-15T12:00:00+01:00')],
        registers: [notListedInBelMeNiet()],
        expect: denied(['objected'], [fail('NL-8', 'objected')]),
      });
    }
    cases.push({
      name: `business (legal person), no facts, call ${at}: opt-out regime`,
      at,
      q: { subscriberType: 'business' },
      registers: [notListedInBelMeNiet()],
      expect: allowed('opt_out_regime', oblFor(at), [pass('NL-1'), pass('NL-8', 'no_objection')]),
    });
    cases.push({
      name: `business that objected, call ${at}`,
      at,
      q: { subscriberType: 'business' },
      events: [objection(ENERGY, '2020-01-15T12:00:00+01:00')],
      registers: [notListedInBelMeNiet()],
      expect: denied(['objected'], [fail('NL-8', 'objected')]),
    });
    cases.push({
      name: `business that objected to another entity only, call ${at}`,
      at,
      q: { subscriberType: 'business' },
      events: [objection(RETAIL, '2020-01-15T12:00:00+01:00')],
      registers: [notListedInBelMeNiet()],
      expect: allowed('opt_out_regime', oblFor(at)),
    });
  }
  cases.push(
    {
      name: 'consumer, last millisecond of the opt-out regime',
      at: OPT_IN - 1,
      registers: [notListedInBelMeNiet()],
      expect: allowed('opt_out_regime', OBL_OPT_OUT_ERA),
    },
    { name: 'consumer, first millisecond of opt-in', at: OPT_IN, expect: denied(['no_basis']) },
    { name: 'consumer, inside the narrowed regime (2027)', at: T.narrow, expect: denied(['no_basis']) },
    {
      name: 'business, inside the narrowed regime (2027) with a used-up request: still opt-out',
      at: T.narrow,
      q: { subscriberType: 'business' },
      events: [contactRequest(ENERGY, '2027-01-10T10:00:00+01:00'), call(ENERGY, '2027-01-11T10:00:00+01:00')],
      expect: allowed('opt_out_regime', OBL_STANDARD),
    },
  );
  table(cases);
});

/* ================================================================== NL-9 Bel-me-niet Register */

describe('NL-9 the Bel-me-niet Register applies before 2021-07-01 and is consulted for nothing after', () => {
  table([
    // A copy from after the call cannot show the number was not listed then (a registration may have ended since).
    {
      name: 'consumer, not in a copy taken the day after the call: denied register_stale',
      at: '2020-03-10T10:00:00+01:00',
      registers: [registerCheck(BMN, 'NL', { listed: false, asOf: '2020-03-11T00:00:00+01:00' })],
      expect: denied(['register_stale'], [fail('NL-9', 'register_copy_after_call')]),
    },
    {
      name: 'consumer, not in a copy taken on the day of the call: allowed under the opt-out rules',
      at: '2020-03-10T10:00:00+01:00',
      registers: [registerCheck(BMN, 'NL', { listed: false, asOf: '2020-03-10T00:00:00+01:00' })],
      expect: allowed('opt_out_regime', OBL_OPT_OUT_ERA, [pass('NL-9', 'register_not_listed')], [fail('NL-9', 'register_copy_after_call')]),
    },
    {
      name: 'consumer listed since before the call in a later copy: register_listed, not stale',
      at: '2020-03-10T10:00:00+01:00',
      registers: [registerCheck(BMN, 'NL', { listed: true, listedAt: '2019-01-01T00:00:00+01:00', asOf: '2021-06-30T00:00:00+02:00' })],
      expect: denied(['register_listed'], [fail('NL-9', 'register_listed')]),
    },
    {
      name: 'consumer with phone consent, not in a copy from after the call: the consent carries the call',
      at: '2020-03-10T10:00:00+01:00',
      registers: [registerCheck(BMN, 'NL', { listed: false, asOf: '2021-06-30T00:00:00+02:00' })],
      events: [consent(ENERGY, '2020-01-15T12:00:00+01:00')],
      expect: allowed('consent', OBL_OPT_OUT_ERA, [fail('NL-9', 'register_copy_after_call')]),
    },
    // No copy loaded (its data was deleted in 2021): the opt-out basis cannot be shown, so deny.
    {
      name: 'consumer, no register copy loaded, before 2021: denied register_stale',
      at: T.pre,
      expect: denied(['register_stale'], [fail('NL-9', 'register_unavailable'), pass('NL-8', 'no_objection')]),
    },
    {
      name: 'business, no register copy loaded, last minute of the opt-out regime: denied register_stale',
      at: T.optOutLast,
      q: { subscriberType: 'business' },
      expect: denied(['register_stale'], [fail('NL-9', 'register_unavailable')]),
    },
    {
      name: 'consumer who objected, no register copy loaded, before 2021: both denials',
      at: T.pre,
      events: [objection(ENERGY, '2019-05-01T10:00:00+02:00')],
      expect: denied(['objected', 'register_stale'], [fail('NL-9', 'register_unavailable'), fail('NL-8', 'objected')]),
    },
    {
      name: 'consumer with phone consent, no register copy loaded, before 2021: the consent carries the call',
      at: T.pre,
      events: [consent(ENERGY, '2020-01-15T12:00:00+01:00')],
      expect: allowed('consent', OBL_OPT_OUT_ERA, [pass('NL-2', 'consent_valid'), fail('NL-9', 'register_unavailable')]),
    },
    {
      name: 'consumer who asked to be called, no register copy loaded, before 2021: the request carries the call',
      at: T.optOutLast,
      events: [contactRequest(ENERGY, '2021-06-30T10:00:00+02:00')],
      expect: allowed('requested_communication', OBL_REQUESTED, [fail('NL-9', 'register_unavailable')]),
    },
    {
      name: 'business, no register copy loaded, first minute of opt-in: the register is no longer needed',
      at: T.optInFirst,
      q: { subscriberType: 'business' },
      expect: allowed('opt_out_regime', OBL_STANDARD, [], [fail('NL-9')]),
    },
    {
      name: 'consumer listed, last minute of the opt-out regime: denied register_listed',
      at: T.optOutLast,
      registers: [listedInBelMeNiet({ listedAt: '2015-03-01T10:00:00+01:00' })],
      expect: denied(['register_listed'], [fail('NL-9', 'register_listed')]),
    },
    {
      name: 'consumer listed (no listing date), last millisecond of the opt-out regime',
      at: OPT_IN - 1,
      registers: [listedInBelMeNiet()],
      expect: denied(['register_listed'], [fail('NL-9')]),
    },
    {
      name: 'business listed, last minute of the opt-out regime: denied register_listed',
      at: T.optOutLast,
      q: { subscriberType: 'business' },
      registers: [listedInBelMeNiet()],
      expect: denied(['register_listed'], [fail('NL-9', 'register_listed')]),
    },
    {
      name: 'consumer listed and objected before 2021: both denials',
      at: T.pre,
      events: [objection(ENERGY, '2019-05-01T10:00:00+02:00')],
      registers: [listedInBelMeNiet()],
      expect: denied(['objected', 'register_listed'], [fail('NL-9'), fail('NL-8')]),
    },
    {
      name: 'consumer not listed before 2021: allowed under the opt-out regime',
      at: T.pre,
      registers: [notListedInBelMeNiet()],
      expect: allowed('opt_out_regime', OBL_OPT_OUT_ERA, [pass('NL-9', 'register_not_listed')]),
    },
    {
      name: 'listing dated after the call does not count for that call',
      at: T.pre,
      registers: [listedInBelMeNiet({ listedAt: '2020-05-01T10:00:00+02:00' })],
      expect: allowed('opt_out_regime', OBL_OPT_OUT_ERA),
    },
    {
      name: 'a listing holds from its date in Amsterdam: at 00:30 that day (23:30 UTC the day before) the number is listed',
      at: '2021-03-01T00:30:00+01:00',
      registers: [listedInBelMeNiet({ listedAt: '2021-03-01T00:00:00Z' })],
      expect: denied(['register_listed'], [fail('NL-9', 'register_listed')]),
    },
    {
      name: 'a listing dated the next day does not count yet at 23:30',
      at: '2021-02-28T23:30:00+01:00',
      registers: [listedInBelMeNiet({ listedAt: '2021-03-01T00:00:00Z' })],
      expect: allowed('opt_out_regime', OBL_OPT_OUT_ERA, [pass('NL-9', 'register_not_listed')]),
    },
    {
      name: 'consumer listed, first minute of opt-in, with consent: listing ignored (reason visible)',
      at: T.optInFirst,
      events: [consent(ENERGY, '2021-05-01T10:00:00+02:00')],
      registers: [listedInBelMeNiet()],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-9', 'register_abolished')], [fail('NL-9')]),
    },
    {
      name: 'consumer listed, first millisecond of opt-in, no basis: denied no_basis, not register_listed',
      at: OPT_IN,
      registers: [listedInBelMeNiet()],
      expect: denied(['no_basis'], [pass('NL-9', 'register_abolished')], [fail('NL-9')]),
    },
    {
      name: 'business listed, first minute of opt-in: opt-out regime, listing ignored (reason visible)',
      at: T.optInFirst,
      q: { subscriberType: 'business' },
      registers: [listedInBelMeNiet()],
      expect: allowed('opt_out_regime', OBL_STANDARD, [pass('NL-9', 'register_abolished')], [fail('NL-9')]),
    },
    {
      name: 'consumer listed, 2027, with consent: listing ignored',
      at: T.narrow,
      events: [consent(ENERGY, '2026-09-01T10:00:00+02:00', { source: { verifiedAt: ms('2026-09-01T10:05:00+02:00') } })],
      registers: [listedInBelMeNiet()],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-9', 'register_abolished')], [fail('NL-9')]),
    },
  ]);
});

/* ================================================================== NL-2 consent */

describe('NL-2 consent: phone channel, unbundled, unexpired, not withdrawn, this legal entity, its products', () => {
  const given = '2022-02-01T10:00:00+01:00';
  table([
    {
      name: 'phone consent (2021-2026 regime)',
      at: T.wide,
      events: [consent(ENERGY, given)],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'phone consent (narrowed regime, company)',
      at: T.narrow,
      events: [consent(ENERGY, given)],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')], [fail('NL-3', 'relationship_exception_ended')]),
    },
    {
      name: 'phone consent before 2021: basis consent, register still to be mentioned',
      at: T.pre,
      events: [consent(ENERGY, '2019-06-01T10:00:00+02:00')],
      registers: [notListedInBelMeNiet()],
      expect: allowed('consent', OBL_OPT_OUT_ERA, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'e-mail consent does not cover phone',
      at: T.wide,
      events: [consent(ENERGY, given, { channel: 'email' })],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_wrong_channel')], [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'sms consent does not cover phone',
      at: T.wide,
      events: [consent(ENERGY, given, { channel: 'sms' })],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_wrong_channel')]),
    },
    {
      name: 'bundled consent (one tick box for phone and e-mail) is not valid',
      at: T.wide,
      events: [consent(ENERGY, given, { source: { bundled: true } })],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_bundled')], [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'consent expired a day before the call',
      at: T.wide,
      events: [consent(ENERGY, given, { expiresAt: ms(T.wide) - DAY_MS })],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_expired')]),
    },
    {
      name: 'consent expiring a day after the call still counts',
      at: T.wide,
      events: [consent(ENERGY, given, { expiresAt: ms(T.wide) + DAY_MS })],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'consent withdrawn later',
      at: T.wide,
      events: [consent(ENERGY, given), withdrawal(ENERGY, '2023-01-10T10:00:00+01:00')],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_withdrawn')], [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'withdrawal older than a newer consent: the newer consent counts',
      at: T.wide,
      events: [consent(ENERGY, '2021-09-01T10:00:00+02:00'), withdrawal(ENERGY, '2022-01-10T10:00:00+01:00'), consent(ENERGY, given)],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'withdrawing e-mail consent does not withdraw phone consent',
      at: T.wide,
      events: [consent(ENERGY, given), withdrawal(ENERGY, '2023-01-10T10:00:00+01:00', { channel: 'email' })],
      expect: allowed('consent', OBL_STANDARD),
    },
    {
      name: 'withdrawal after the call does not count for that call',
      at: T.wide,
      events: [consent(ENERGY, given), withdrawal(ENERGY, '2023-06-10T10:00:00+02:00')],
      expect: allowed('consent', OBL_STANDARD),
    },
    {
      name: 'consent given to the parent does not count for the subsidiary',
      at: T.wide,
      entity: RETAIL,
      events: [consent(ENERGY, given)],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_other_entity')]),
    },
    {
      name: 'consent given to the subsidiary does not count for the parent',
      at: T.wide,
      entity: ENERGY,
      events: [consent(RETAIL, given)],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_other_entity')]),
    },
    {
      name: 'consent naming energy covers a call about energy',
      at: T.wide,
      q: { productCategory: 'energy' },
      events: [consent(ENERGY, given, { products: ['energy'] })],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'consent naming energy does not cover a call about solar panels',
      at: T.wide,
      q: { productCategory: 'solar' },
      events: [consent(ENERGY, given, { products: ['energy'] })],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_product_mismatch')]),
    },
    {
      name: 'consent naming energy does not cover a call that names no product',
      at: T.wide,
      events: [consent(ENERGY, given, { products: ['energy'] })],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_product_mismatch')]),
    },
    {
      name: 'consent naming no product covers any product',
      at: T.wide,
      q: { productCategory: 'solar' },
      events: [consent(ENERGY, given)],
      expect: allowed('consent', OBL_STANDARD),
    },
    {
      name: 'withdrawal for solar leaves a call about energy allowed',
      at: T.wide,
      q: { productCategory: 'energy' },
      events: [consent(ENERGY, given), withdrawal(ENERGY, '2023-01-10T10:00:00+01:00', { products: ['solar'] })],
      expect: allowed('consent', OBL_STANDARD),
    },
    {
      name: 'withdrawal for solar denies a call about solar',
      at: T.wide,
      q: { productCategory: 'solar' },
      events: [consent(ENERGY, given), withdrawal(ENERGY, '2023-01-10T10:00:00+01:00', { products: ['solar'] })],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_withdrawn')]),
    },
    {
      name: 'newer consent beats an older objection',
      at: T.wide,
      events: [objection(ENERGY, '2021-10-01T10:00:00+02:00'), consent(ENERGY, given)],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid'), pass('NL-8', 'objection_overridden')]),
    },
    {
      name: 'objection newer than the consent beats it',
      at: T.wide,
      events: [consent(ENERGY, given), objection(ENERGY, '2023-01-10T10:00:00+01:00')],
      expect: denied(['objected'], [fail('NL-8', 'objected')]),
    },
    {
      name: 'consent given after the call does not count for that call',
      at: T.wide,
      events: [consent(ENERGY, '2023-05-10T10:00:01+02:00')],
      expect: denied(['no_basis'], [fail('NL-2', 'no_consent')]),
    },
  ]);
});

/* ================================================================== NL-3 customer relationship */

describe('NL-3 customer relationship: all five conditions, and the 2026-07-01 narrowing', () => {
  const started = '2022-02-01T10:00:00+01:00';
  const energyCall: Partial<Question> = { productCategory: 'energy' };
  const REL_OK = [
    pass('NL-3', 'relationship_transaction'),
    pass('NL-3', 'relationship_informed'),
    pass('NL-3', 'relationship_opt_out_offered'),
    pass('NL-3', 'relationship_same_product'),
    pass('NL-5', 'relationship_ongoing'),
  ];
  const cases: Case[] = [
    {
      name: 'all five conditions hold (purchase)',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, started)],
      expect: allowed('customer_relationship', OBL_STANDARD, REL_OK),
    },
    {
      name: 'all five conditions hold (subscription)',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, started, { kind: 'subscription' })],
      expect: allowed('customer_relationship', OBL_STANDARD),
    },
    {
      name: '(a) a quote request is no financial transaction',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, started, { kind: 'quote_request' })],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_no_transaction')]),
    },
    {
      name: '(b) relationship with the parent does not count for the subsidiary',
      at: T.wide,
      entity: RETAIL,
      q: energyCall,
      events: [relationship(ENERGY, started)],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_other_entity')]),
    },
    {
      name: '(b) relationship with the subsidiary does not count for the parent',
      at: T.wide,
      entity: ENERGY,
      q: energyCall,
      events: [relationship(RETAIL, started)],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_other_entity')]),
    },
    {
      name: '(c) not told at collection that the number would be used for telephone marketing',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, started, { informedAtCollection: false })],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_not_informed')]),
    },
    {
      name: '(d) no opt-out offered at collection (customer acquired 2022)',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, started, { optOutOfferedAtCollection: false })],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_no_opt_out_offered')]),
    },
    {
      name: '(e) the call offers another product category',
      at: T.wide,
      q: { productCategory: 'insurance' },
      events: [relationship(ENERGY, started)],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_product_mismatch')]),
    },
    {
      name: '(e) the call names no product, so similarity cannot be shown',
      at: T.wide,
      events: [relationship(ENERGY, started)],
      expect: denied(['no_basis'], [fail('NL-3')]),
    },
    {
      name: 'relationship that started after the call does not count for that call',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, '2023-05-10T10:00:01+02:00')],
      expect: denied(['no_basis'], [fail('NL-3', 'no_relationship')]),
    },
    {
      name: 'company, last minute before the narrowing: allowed',
      at: T.wideLast,
      q: energyCall,
      events: [relationship(ENERGY, started)],
      expect: allowed('customer_relationship', OBL_STANDARD, REL_OK),
    },
    {
      name: 'company, last millisecond before the narrowing: allowed',
      at: NARROW - 1,
      q: energyCall,
      events: [relationship(ENERGY, started)],
      expect: allowed('customer_relationship', OBL_STANDARD),
    },
    {
      name: 'company, first minute of the narrowing: the exception has ended',
      at: T.narrowFirst,
      q: energyCall,
      events: [relationship(ENERGY, started)],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_exception_ended')]),
    },
    {
      name: 'company, first millisecond of the narrowing: the exception has ended',
      at: NARROW,
      q: energyCall,
      events: [relationship(ENERGY, started)],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_exception_ended')]),
    },
    {
      name: 'company, 2027, customer relationship and consent: consent carries the call',
      at: T.narrow,
      q: energyCall,
      events: [relationship(ENERGY, started), consent(ENERGY, started)],
      expect: allowed('consent', OBL_STANDARD, [fail('NL-3', 'relationship_exception_ended')]),
    },
  ];
  for (const e of SURVIVORS) {
    for (const at of [T.wideLast, T.narrowFirst, T.narrow]) {
      cases.push({
        name: `${e.kind}, call ${at}: the exception survives`,
        at,
        entity: e,
        q: { productCategory: 'membership' },
        events: [relationship(e, started, { kind: e.kind === 'charity' ? 'donation' : 'subscription', productCategory: 'membership' })],
        expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-3', 'relationship_transaction')], [fail('NL-3')]),
      });
    }
    // After the narrowing the five conditions still apply to the survivors.
    cases.push(
      {
        name: `${e.kind}, 2027: a quote request still gives no relationship`,
        at: T.narrow,
        entity: e,
        q: { productCategory: 'membership' },
        events: [relationship(e, started, { kind: 'quote_request', productCategory: 'membership' })],
        expect: denied(['no_basis'], [fail('NL-3', 'relationship_no_transaction')]),
      },
      {
        name: `${e.kind}, 2027: not informed at collection`,
        at: T.narrow,
        entity: e,
        q: { productCategory: 'membership' },
        events: [relationship(e, started, { kind: 'subscription', productCategory: 'membership', informedAtCollection: false })],
        expect: denied(['no_basis'], [fail('NL-3', 'relationship_not_informed')]),
      },
      {
        name: `${e.kind}, 2027: another product category`,
        at: T.narrow,
        entity: e,
        q: { productCategory: 'insurance' },
        events: [relationship(e, started, { kind: 'subscription', productCategory: 'membership' })],
        expect: denied(['no_basis'], [fail('NL-3', 'relationship_product_mismatch')]),
      },
    );
  }
  table(cases);
});

/* ================================================================== NL-4 transitional rule */

describe('NL-4 customers acquired before 2021-07-01 need no opt-out offered at collection', () => {
  const energyCall: Partial<Question> = { productCategory: 'energy' };
  table([
    {
      name: 'acquired in the last minute before 2021-07-01 without opt-out: counts',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, T.optOutLast, { optOutOfferedAtCollection: false })],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-4', 'relationship_transitional')]),
    },
    {
      name: 'acquired in the last millisecond before 2021-07-01 without opt-out: counts',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, OPT_IN - 1, { optOutOfferedAtCollection: false })],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-4')]),
    },
    {
      name: 'acquired in the first minute of 2021-07-01 without opt-out: does not count',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, T.optInFirst, { optOutOfferedAtCollection: false })],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_no_opt_out_offered')], [pass('NL-4')]),
    },
    {
      name: 'acquired on 2021-07-01 with opt-out offered: counts',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, T.optInFirst)],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-3', 'relationship_opt_out_offered')]),
    },
    {
      name: 'acquired 2019 without opt-out, called on the first minute of opt-in',
      at: T.optInFirst,
      q: energyCall,
      events: [relationship(ENERGY, '2019-04-01T10:00:00+02:00', { optOutOfferedAtCollection: false })],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-4')]),
    },
    {
      name: 'the transitional rule relieves only (d): acquired 2019, not informed',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, '2019-04-01T10:00:00+02:00', { optOutOfferedAtCollection: false, informedAtCollection: false })],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_not_informed')]),
    },
    {
      name: 'charity donor acquired 2019 without opt-out, called 2027: counts',
      at: T.narrow,
      entity: CHARITY,
      q: { productCategory: 'fundraising' },
      events: [relationship(CHARITY, '2019-04-01T10:00:00+02:00', { kind: 'donation', productCategory: 'fundraising', optOutOfferedAtCollection: false })],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-4')]),
    },
    {
      name: 'company customer acquired 2019 without opt-out, called 2027: the exception has ended',
      at: T.narrow,
      q: energyCall,
      events: [relationship(ENERGY, '2019-04-01T10:00:00+02:00', { optOutOfferedAtCollection: false })],
      expect: denied(['no_basis'], [fail('NL-3', 'relationship_exception_ended')]),
    },
  ]);
});

/* ================================================================== NL-5 term */

describe('NL-5 the relationship counts for a per-entity term after it ended (default 36 months)', () => {
  const energyCall: Partial<Question> = { productCategory: 'energy' };
  it('names the dates on the Dutch calendar', () => {
    const d = run({ at: '2024-02-29T12:00:00+01:00', q: energyCall, events: [relationship(ENERGY, '2019-01-01T00:30:00+01:00', { endedAt: '2021-03-01T00:00:00+01:00' })] });
    expect(d.reasons.find((r) => r.code === 'relationship_in_term')?.detail).toBe('The relationship ended on 2021-03-01 and still counts until the end of 2024-02-29 (36 months).');
    expect(d.reasons.find((r) => r.code === 'relationship_transaction')?.detail).toContain('on 2019-01-01');
  });

  const started = '2019-01-10T10:00:00+01:00';
  const ended = '2022-03-15T12:00:00Z';
  const endsAfter36 = ms('2025-03-15T12:00:00Z');
  const endsAfter12 = ms('2023-03-15T12:00:00Z');
  const ended2022 = [relationship(ENERGY, started, { endedAt: ended })];
  const withTerm = (months: number): Entity => ({ ...ENERGY, relationshipTermMonths: months });
  table([
    {
      name: 'default 36 months: one day before the term ends',
      at: endsAfter36 - DAY_MS,
      q: energyCall,
      events: ended2022,
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-5', 'relationship_in_term')]),
    },
    {
      name: 'default 36 months: one millisecond before the term ends',
      at: endsAfter36 - 1,
      q: energyCall,
      events: ended2022,
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-5', 'relationship_in_term')]),
    },
    {
      name: 'default 36 months: the moment the term ends',
      at: endsAfter36,
      q: energyCall,
      events: ended2022,
      expect: denied(['no_basis'], [fail('NL-5', 'relationship_expired')]),
    },
    {
      name: 'default 36 months: one day after the term ended',
      at: endsAfter36 + DAY_MS,
      q: energyCall,
      events: ended2022,
      expect: denied(['no_basis'], [fail('NL-5', 'relationship_expired')]),
    },
    {
      name: 'entity term 12 months: one millisecond before it ends',
      at: endsAfter12 - 1,
      entity: withTerm(12),
      q: energyCall,
      events: ended2022,
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-5', 'relationship_in_term')]),
    },
    {
      name: 'entity term 12 months: the moment it ends',
      at: endsAfter12,
      entity: withTerm(12),
      q: energyCall,
      events: ended2022,
      expect: denied(['no_basis'], [fail('NL-5', 'relationship_expired')]),
    },
    {
      name: 'entity term 12 months: a call the default term would allow is denied',
      at: '2024-01-10T10:00:00+01:00',
      entity: withTerm(12),
      q: energyCall,
      events: ended2022,
      expect: denied(['no_basis'], [fail('NL-5', 'relationship_expired')]),
    },
    {
      name: 'default term: a call 3 months past 36 months is denied',
      at: '2025-06-15T10:00:00+02:00',
      q: energyCall,
      events: ended2022,
      expect: denied(['no_basis'], [fail('NL-5', 'relationship_expired')]),
    },
    {
      name: 'entity term 60 months: the same call is allowed',
      at: '2025-06-15T10:00:00+02:00',
      entity: withTerm(60),
      q: energyCall,
      events: ended2022,
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-5', 'relationship_in_term')]),
    },
    // The term on the Dutch calendar: a contract that ended at midnight starting 1 March 2021
    // (28 February 23:00 UTC) counts to midnight starting 1 March 2024 – the leap day included.
    {
      name: 'ended at Amsterdam midnight on 1 March 2021: counts on 29 February 2024',
      at: '2024-02-29T12:00:00+01:00',
      q: energyCall,
      events: [relationship(ENERGY, '2019-01-01T10:00:00+01:00', { endedAt: '2021-03-01T00:00:00+01:00' })],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-5', 'relationship_in_term')]),
    },
    {
      name: 'ended at Amsterdam midnight on 1 March 2021: expired on 1 March 2024',
      at: '2024-03-01T00:00:00+01:00',
      q: energyCall,
      events: [relationship(ENERGY, '2019-01-01T10:00:00+01:00', { endedAt: '2021-03-01T00:00:00+01:00' })],
      expect: denied(['no_basis'], [fail('NL-5', 'relationship_expired')]),
    },
    {
      name: 'the term runs from the end, not from the start (started 2015, ended 2022)',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, '2015-01-10T10:00:00+01:00', { endedAt: '2022-01-10T10:00:00+01:00' })],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-5', 'relationship_in_term')]),
    },
    {
      name: 'ongoing relationship started 2015 (transitional), last minute of the wide exception',
      at: T.wideLast,
      q: energyCall,
      events: [relationship(ENERGY, '2015-01-10T10:00:00+01:00', { optOutOfferedAtCollection: false })],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-5', 'relationship_ongoing')]),
    },
    {
      name: 'relationship that ends after the call is ongoing at the call',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, '2022-01-10T10:00:00+01:00', { endedAt: '2024-01-10T10:00:00+01:00' })],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-5', 'relationship_ongoing')]),
    },
    {
      name: 'charity donor, ended 2025-01, called 2027: within 36 months',
      at: T.narrow,
      entity: CHARITY,
      q: { productCategory: 'fundraising' },
      events: [relationship(CHARITY, '2022-01-10T10:00:00+01:00', { kind: 'donation', productCategory: 'fundraising', endedAt: '2025-01-10T10:00:00+01:00' })],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-5', 'relationship_in_term')]),
    },
    {
      name: 'charity donor, ended 2023-01, called 2027: term expired',
      at: T.narrow,
      entity: CHARITY,
      q: { productCategory: 'fundraising' },
      events: [relationship(CHARITY, '2022-01-10T10:00:00+01:00', { kind: 'donation', productCategory: 'fundraising', endedAt: '2023-01-10T10:00:00+01:00' })],
      expect: denied(['no_basis'], [fail('NL-5', 'relationship_expired')]),
    },
  ]);
});

/* ================================================================== NL-6 charities */

describe("NL-6 charities' donors, volunteers and event visitors are customers", () => {
  const cases: Case[] = [];
  const fundraising: Partial<Question> = { productCategory: 'fundraising' };
  for (const kind of ['donation', 'volunteer', 'event'] as const) {
    for (const at of [T.wide, T.narrowFirst, T.narrow]) {
      cases.push({
        name: `charity, ${kind}, call ${at}: counts`,
        at,
        entity: CHARITY,
        q: fundraising,
        events: [relationship(CHARITY, '2022-04-01T10:00:00+02:00', { kind, productCategory: 'fundraising' })],
        expect: allowed('customer_relationship', OBL_STANDARD, kind === 'donation' ? [pass('NL-3', 'relationship_transaction')] : [pass('NL-6', 'relationship_charity_supporter')]),
      });
    }
  }
  for (const kind of ['volunteer', 'event'] as const) {
    for (const e of [ENERGY, LOTTERY, PUBLISHER]) {
      cases.push({
        name: `${e.kind}, ${kind}, call ${T.wide}: does not count`,
        at: T.wide,
        entity: e,
        q: fundraising,
        events: [relationship(e, '2022-04-01T10:00:00+02:00', { kind, productCategory: 'fundraising' })],
        expect: denied(['no_basis'], [fail('NL-6', 'relationship_no_transaction')]),
      });
    }
  }
  cases.push({
    name: 'charity volunteer still needs the other conditions (not informed)',
    at: T.wide,
    entity: CHARITY,
    q: fundraising,
    events: [relationship(CHARITY, '2022-04-01T10:00:00+02:00', { kind: 'volunteer', productCategory: 'fundraising', informedAtCollection: false })],
    expect: denied(['no_basis'], [fail('NL-3', 'relationship_not_informed')]),
  });
  table(cases);
});

/* ================================================================== NL-3 ideological organisations (unconfirmed: a setting) */

describe('NL-3 (unconfirmed) ideological organisations keep the exception only with their setting', () => {
  // A party set up as a company of kind `company`: the table's unconfirmed reading is configuration, off by default.
  const PARTY = makeEntity({ id: 'nl-party', name: 'Partij voor de Duinen', kind: 'company' });
  const CLAIMED = { ...PARTY, ideologicalOrganisation: true };
  const members: Partial<Question> = { productCategory: 'membership' };
  const member = (kind: 'subscription' | 'volunteer' | 'event') => [relationship(PARTY, '2022-04-01T10:00:00+02:00', { kind, productCategory: 'membership' })];
  const cases: Case[] = [];
  for (const at of [T.wideLast, T.narrowFirst, T.narrow]) {
    const narrowed = ms(at) >= NARROW;
    cases.push(
      {
        name: `without the setting, a member called ${at}: ${narrowed ? 'the exception has ended' : 'counts'}`,
        at,
        entity: PARTY,
        q: members,
        events: member('subscription'),
        expect: narrowed ? denied(['no_basis'], [fail('NL-3', 'relationship_exception_ended')]) : allowed('customer_relationship', OBL_STANDARD),
      },
      {
        name: `with the setting, a member called ${at}: counts${narrowed ? ', said to rest on the unconfirmed reading' : ''}`,
        at,
        entity: CLAIMED,
        q: members,
        events: member('subscription'),
        expect: allowed('customer_relationship', OBL_STANDARD, narrowed ? [pass('NL-3', 'relationship_exception_ideological')] : [], [fail('NL-3')]),
      },
    );
  }
  // NL-6: its volunteers and event visitors count as customers, as a charity's do; without the setting they do not.
  for (const kind of ['volunteer', 'event'] as const) {
    cases.push(
      { name: `with the setting, a ${kind} counts (NL-6)`, at: T.wide, entity: CLAIMED, q: members, events: member(kind), expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-6', 'relationship_charity_supporter')]) },
      { name: `without the setting, a ${kind} does not count`, at: T.wide, entity: PARTY, q: members, events: member(kind), expect: denied(['no_basis'], [fail('NL-6', 'relationship_no_transaction')]) },
    );
  }
  table(cases);

  it('names the unconfirmed reading and the setting in the reason', () => {
    const d = run({ at: T.narrow, entity: CLAIMED, q: members, events: member('subscription') });
    const r = d.reasons.find((x) => x.code === 'relationship_exception_ideological');
    expect(r?.detail).toMatch(/unconfirmed.*ideologicalOrganisation/);
  });
});

/* ================================================================== product categories are codes, not spellings */

describe('product categories match whatever their case and spaces (NL-2, NL-3)', () => {
  table([
    {
      name: 'a consent for "Energie" covers a call about " energie "',
      at: T.narrow,
      q: { productCategory: ' energie ' },
      events: [consent(ENERGY, '2026-01-05T10:00:00+01:00', { products: ['Energie'], source: { recordingRef: 'rec-1' } })],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'a consent for "Energie" does not cover a call about "telecom"',
      at: T.narrow,
      q: { productCategory: 'telecom' },
      events: [consent(ENERGY, '2026-01-05T10:00:00+01:00', { products: ['Energie'], source: { recordingRef: 'rec-1' } })],
      expect: denied(['no_basis']),
    },
    {
      name: 'a relationship about "ENERGY" counts for a call about "energy"',
      at: T.wide,
      q: { productCategory: 'energy' },
      events: [relationship(ENERGY, '2022-04-01T10:00:00+02:00', { productCategory: 'ENERGY' })],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-3', 'relationship_same_product')]),
    },
  ]);
});

/* ================================================================== NL-7 requested communication */

describe('NL-7 requested communication: exactly one call, unless there is consent', () => {
  const asked = '2023-05-01T10:00:00+02:00';
  table([
    {
      name: 'the person asked to be called: one call allowed',
      at: T.wide,
      events: [contactRequest(ENERGY, asked)],
      expect: allowed('requested_communication', OBL_REQUESTED, [pass('NL-7', 'request_open')]),
    },
    {
      name: 'a request about a product allows one call about it',
      at: T.wide,
      q: { productCategory: 'Solar ' },
      events: [contactRequest(ENERGY, asked, 'solar panels for a terraced house', 'solar')],
      expect: allowed('requested_communication', OBL_REQUESTED, [pass('NL-7', 'request_open')]),
    },
    {
      name: 'a request about one product does not allow a call about another',
      at: T.wide,
      q: { productCategory: 'energy' },
      events: [contactRequest(ENERGY, asked, 'solar panels for a terraced house', 'solar')],
      expect: denied(['no_basis'], [fail('NL-7', 'request_other_offer')]),
    },
    {
      name: 'a request about a product, and a call that names none: say which product',
      at: T.wide,
      events: [contactRequest(ENERGY, asked, 'solar panels for a terraced house', 'solar')],
      expect: denied(['no_basis'], [fail('NL-7', 'request_other_offer')]),
    },
    {
      name: 'two open requests about different products: a call about the older one\'s product is its one call',
      at: T.wide,
      q: { productCategory: 'energy' },
      events: [contactRequest(ENERGY, asked, 'a cheaper energy contract', 'energy'), contactRequest(ENERGY, '2023-05-03T10:00:00+02:00', 'solar panels', 'solar')],
      expect: allowed('requested_communication', OBL_REQUESTED, [pass('NL-7', 'request_open')]),
    },
    {
      name: 'a call made after both requests uses them up',
      at: T.wide,
      q: { productCategory: 'energy' },
      events: [contactRequest(ENERGY, asked, 'a cheaper energy contract', 'energy'), contactRequest(ENERGY, '2023-05-03T10:00:00+02:00', 'solar panels', 'solar'), call(ENERGY, '2023-05-04T10:00:00+02:00')],
      expect: denied(['no_basis'], [fail('NL-7', 'request_used')]),
    },
    {
      name: 'a recorded call after the request uses it up',
      at: T.wide,
      events: [contactRequest(ENERGY, asked), call(ENERGY, '2023-05-02T10:00:00+02:00')],
      expect: denied(['no_basis'], [fail('NL-7', 'request_used')]),
    },
    {
      name: 'NL-11: a service call after the request does not use it up – the one requested call is a telemarketing call',
      at: T.wide,
      events: [contactRequest(ENERGY, asked), { ...call(ENERGY, '2023-05-02T10:00:00+02:00'), purpose: 'service' }],
      expect: allowed('requested_communication', OBL_REQUESTED, [pass('NL-7', 'request_open')]),
    },
    {
      name: 'a call before the request does not use it up',
      at: T.wide,
      events: [call(ENERGY, '2023-04-01T10:00:00+02:00'), contactRequest(ENERGY, asked)],
      expect: allowed('requested_communication', OBL_REQUESTED, [pass('NL-7', 'request_open')]),
    },
    {
      name: "another entity's call does not use up the request",
      at: T.wide,
      events: [contactRequest(ENERGY, asked), call(RETAIL, '2023-05-02T10:00:00+02:00')],
      expect: allowed('requested_communication', OBL_REQUESTED),
    },
    {
      name: 'audit of the requested call itself (recorded at the moment of the call): lawful',
      at: '2023-05-02T10:00:00+02:00',
      events: [contactRequest(ENERGY, asked), call(ENERGY, '2023-05-02T10:00:00+02:00')],
      expect: allowed('requested_communication', OBL_REQUESTED),
    },
    {
      name: 'audit of the requested call a minute before it was recorded: lawful',
      at: '2023-05-02T09:59:00+02:00',
      events: [contactRequest(ENERGY, asked), call(ENERGY, '2023-05-02T10:00:00+02:00')],
      expect: allowed('requested_communication', OBL_REQUESTED),
    },
    {
      name: 'a new request after the used one allows one more call',
      at: T.wide,
      events: [contactRequest(ENERGY, '2023-04-01T10:00:00+02:00'), call(ENERGY, '2023-04-02T10:00:00+02:00'), contactRequest(ENERGY, asked)],
      expect: allowed('requested_communication', OBL_REQUESTED),
    },
    {
      name: 'with consent as well, the one-call limit does not apply',
      at: T.wide,
      events: [consent(ENERGY, asked), contactRequest(ENERGY, asked), call(ENERGY, '2023-05-02T10:00:00+02:00'), call(ENERGY, '2023-05-03T10:00:00+02:00')],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'request and consent: consent is the preferred basis',
      at: T.wide,
      events: [consent(ENERGY, asked), contactRequest(ENERGY, asked)],
      expect: allowed('consent', OBL_STANDARD),
    },
    {
      name: 'request made after the call does not count for that call',
      at: T.wide,
      events: [contactRequest(ENERGY, '2023-05-11T10:00:00+02:00')],
      expect: denied(['no_basis'], [fail('NL-7', 'no_request')]),
    },
    {
      name: 'request to the parent does not allow the subsidiary to call',
      at: T.wide,
      entity: RETAIL,
      events: [contactRequest(ENERGY, asked)],
      expect: denied(['no_basis'], [fail('NL-7', 'no_request')]),
    },
    {
      name: 'before 2021: requested call needs neither the right to object nor the register',
      at: T.optOutLast,
      events: [contactRequest(ENERGY, '2021-06-30T10:00:00+02:00')],
      registers: [notListedInBelMeNiet()],
      expect: allowed('requested_communication', OBL_REQUESTED, [pass('NL-7', 'request_open')]),
    },
    {
      name: 'first minute of opt-in: requested call',
      at: T.optInFirst,
      events: [contactRequest(ENERGY, '2021-06-30T10:00:00+02:00')],
      expect: allowed('requested_communication', OBL_REQUESTED),
    },
    {
      name: 'company after the narrowing: requested call still allowed',
      at: T.narrow,
      events: [contactRequest(ENERGY, '2027-03-01T10:00:00+01:00')],
      expect: allowed('requested_communication', OBL_REQUESTED),
    },
    {
      name: 'sole trader: requested call, then used up',
      at: T.wide,
      q: { subscriberType: 'sole_trader' },
      events: [contactRequest(ENERGY, asked), call(ENERGY, '2023-05-02T10:00:00+02:00')],
      expect: denied(['no_basis'], [fail('NL-7', 'request_used')]),
    },
  ]);
});

/* ================================================================== NL-8 objection, right to object, caller id */

describe('NL-8 an objection beats every older permission; every other call offers the right to object', () => {
  const objected = '2023-03-01T10:00:00+01:00';
  const energyCall: Partial<Question> = { productCategory: 'energy' };
  table([
    {
      name: 'objection beats an older consent',
      at: T.wide,
      events: [consent(ENERGY, '2022-01-10T10:00:00+01:00'), objection(ENERGY, objected)],
      expect: denied(['objected'], [fail('NL-8', 'objected')]),
    },
    {
      name: 'objection beats an older customer relationship',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, '2022-01-10T10:00:00+01:00'), objection(ENERGY, objected)],
      expect: denied(['objected'], [fail('NL-8', 'objected')]),
    },
    {
      name: 'objection beats an older request',
      at: T.wide,
      events: [contactRequest(ENERGY, '2023-02-01T10:00:00+01:00'), objection(ENERGY, objected)],
      expect: denied(['objected'], [fail('NL-8', 'objected')]),
    },
    {
      name: 'objection beats the opt-out regime (consumer, before 2021)',
      at: T.optOutLast,
      events: [objection(ENERGY, '2021-01-10T10:00:00+01:00')],
      registers: [notListedInBelMeNiet()],
      expect: denied(['objected'], [fail('NL-8', 'objected')]),
    },
    {
      name: 'objection beats the opt-out regime (legal person, 2027)',
      at: T.narrow,
      q: { subscriberType: 'business' },
      events: [objection(ENERGY, objected)],
      expect: denied(['objected'], [fail('NL-8', 'objected')]),
    },
    {
      name: 'objection beats a charity donor relationship after the narrowing',
      at: T.narrow,
      entity: CHARITY,
      q: { productCategory: 'fundraising' },
      events: [relationship(CHARITY, '2022-01-10T10:00:00+01:00', { kind: 'donation', productCategory: 'fundraising' }), objection(CHARITY, objected)],
      expect: denied(['objected'], [fail('NL-8', 'objected')]),
    },
    {
      name: 'a newer purchase does not lift an objection (no more calls from that entity)',
      at: T.wide,
      q: energyCall,
      events: [objection(ENERGY, '2022-01-10T10:00:00+01:00'), relationship(ENERGY, objected)],
      expect: denied(['objected'], [fail('NL-8', 'objected')]),
    },
    {
      name: "the person's own newer request lifts the objection for one call",
      at: T.wide,
      events: [objection(ENERGY, '2022-01-10T10:00:00+01:00'), contactRequest(ENERGY, objected)],
      expect: allowed('requested_communication', OBL_REQUESTED, [pass('NL-8', 'objection_overridden')]),
    },
    {
      name: 'an objection to the parent does not stop the subsidiary',
      at: T.wide,
      entity: RETAIL,
      events: [consent(RETAIL, '2022-01-10T10:00:00+01:00'), objection(ENERGY, objected)],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-8', 'no_objection')]),
    },
    {
      name: 'objection made after the call does not count for that call',
      at: T.wide,
      events: [consent(ENERGY, '2022-01-10T10:00:00+01:00'), objection(ENERGY, '2023-05-10T10:00:01+02:00')],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-8', 'no_objection')]),
    },
    {
      name: 'consent call offers the right to object and shows the caller id',
      at: T.wide,
      events: [consent(ENERGY, '2022-01-10T10:00:00+01:00')],
      expect: allowed('consent', ['offer_right_to_object', 'show_caller_id'], [pass('NL-8', 'caller_id')]),
    },
    {
      name: 'relationship call offers the right to object and shows the caller id',
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, '2022-01-10T10:00:00+01:00')],
      expect: allowed('customer_relationship', ['offer_right_to_object', 'show_caller_id'], [pass('NL-8', 'caller_id')]),
    },
    {
      name: 'opt-out call to a legal person offers the right to object and shows the caller id',
      at: T.wide,
      q: { subscriberType: 'business' },
      expect: allowed('opt_out_regime', ['offer_right_to_object', 'show_caller_id'], [pass('NL-8', 'caller_id')]),
    },
  ]);
});

/* ================================================================== NL-10 proof and verification */

describe('NL-10 consent given from 2025-07-01 is expected to be verified before the call', () => {
  const callAt = '2025-10-01T10:00:00+02:00';
  const strict = { ...ENERGY, requireVerifiedConsent: true };
  const verifiedBefore = { verifiedAt: ms('2025-08-01T10:05:00+02:00') };
  table([
    {
      name: 'unverified consent given on 2025-07-01: warning, still allowed by default',
      at: callAt,
      events: [consent(ENERGY, '2025-07-01T00:00:00+02:00')],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid'), fail('NL-10', 'consent_unverified')]),
    },
    {
      name: 'unverified consent given in the first millisecond of 2025-07-01: warning',
      at: callAt,
      events: [consent(ENERGY, VERIFY)],
      expect: allowed('consent', OBL_STANDARD, [fail('NL-10', 'consent_unverified')]),
    },
    {
      name: 'unverified consent given the last minute before 2025-07-01: no warning',
      at: callAt,
      events: [consent(ENERGY, '2025-06-30T23:59:00+02:00')],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')], [fail('NL-10')]),
    },
    {
      name: 'requireVerifiedConsent: unverified consent from 2025-07-01 blocks',
      at: callAt,
      entity: strict,
      events: [consent(strict, '2025-08-01T10:00:00+02:00')],
      expect: denied(['no_basis'], [fail('NL-10', 'consent_unverified')]),
    },
    {
      name: 'requireVerifiedConsent: unverified consent of the first millisecond of 2025-07-01 blocks',
      at: callAt,
      entity: strict,
      events: [consent(strict, VERIFY)],
      expect: denied(['no_basis'], [fail('NL-10', 'consent_unverified')]),
    },
    {
      name: 'requireVerifiedConsent: unverified consent before 2025-07-01 still counts, no warning',
      at: callAt,
      entity: strict,
      events: [consent(strict, VERIFY - 1)],
      expect: allowed('consent', OBL_STANDARD, [], [fail('NL-10')]),
    },
    {
      name: 'requireVerifiedConsent: consent confirmed (verifiedAt) before the call passes',
      at: callAt,
      entity: strict,
      events: [consent(strict, '2025-08-01T10:00:00+02:00', { source: { method: 'web_form', ...verifiedBefore } })],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-10', 'consent_verified')], [fail('NL-10')]),
    },
    {
      name: 'requireVerifiedConsent: consent given in a recorded call passes',
      at: callAt,
      entity: strict,
      events: [consent(strict, '2025-08-01T10:00:00+02:00', { source: { method: 'agent_call', recordingRef: 'rec-2025-08-01-0042' } })],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-10', 'consent_verified')], [fail('NL-10')]),
    },
    {
      name: 'requireVerifiedConsent: confirmation that arrives only after the call does not count for it',
      at: callAt,
      entity: strict,
      events: [consent(strict, '2025-08-01T10:00:00+02:00', { source: { verifiedAt: ms('2025-10-01T10:00:01+02:00') } })],
      expect: denied(['no_basis'], [fail('NL-10', 'consent_unverified')]),
    },
    {
      name: 'requireVerifiedConsent: a confirmation dated before the consent was given confirms something else',
      at: callAt,
      entity: strict,
      events: [consent(strict, '2025-09-01T10:00:00+02:00', { source: { method: 'web_form', verifiedAt: ms('2025-08-01T10:00:00+02:00') } })],
      expect: denied(['no_basis'], [fail('NL-10', 'consent_unverified')], [pass('NL-10', 'consent_verified')]),
    },
    {
      name: 'requireVerifiedConsent: a confirmation in the same millisecond as the consent counts',
      at: callAt,
      entity: strict,
      events: [consent(strict, '2025-09-01T10:00:00+02:00', { source: { method: 'web_form', verifiedAt: ms('2025-09-01T10:00:00+02:00') } })],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-10', 'consent_verified')], [fail('NL-10')]),
    },
    {
      name: 'requireVerifiedConsent: a blank recording reference names no recording',
      at: callAt,
      entity: strict,
      events: [consent(strict, '2025-08-01T10:00:00+02:00', { source: { method: 'agent_call', recordingRef: '   ' } })],
      expect: denied(['no_basis'], [fail('NL-10', 'consent_unverified')]),
    },
    {
      name: 'default: verified consent shows no warning',
      at: callAt,
      events: [consent(ENERGY, '2025-08-01T10:00:00+02:00', { source: verifiedBefore })],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-10', 'consent_verified')], [fail('NL-10')]),
    },
    {
      name: 'requireVerifiedConsent: blocked consent, customer relationship still carries the call',
      at: callAt,
      entity: strict,
      q: { productCategory: 'energy' },
      events: [relationship(strict, '2024-01-10T10:00:00+01:00'), consent(strict, '2025-08-01T10:00:00+02:00')],
      expect: allowed('customer_relationship', OBL_STANDARD, [fail('NL-10', 'consent_unverified')]),
    },
    {
      // NL-2: a consent counts until it expires or is withdrawn. Giving a second, unverified consent
      // neither withdraws nor taints the first, verified one.
      name: 'requireVerifiedConsent: an older verified consent still counts after a newer unverified one',
      at: callAt,
      entity: strict,
      events: [
        consent(strict, '2025-08-01T10:00:00+02:00', { source: verifiedBefore }),
        consent(strict, '2025-09-01T10:00:00+02:00'),
      ],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'requireVerifiedConsent: an older consent from before 2025-07-01 still counts after a newer unverified one',
      at: callAt,
      entity: strict,
      events: [consent(strict, '2024-03-01T10:00:00+01:00'), consent(strict, '2025-09-01T10:00:00+02:00')],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'requireVerifiedConsent: an older verified consent overtaken by an objection does not come back',
      at: callAt,
      entity: strict,
      events: [
        consent(strict, '2025-08-01T10:00:00+02:00', { source: verifiedBefore }),
        objection(strict, '2025-08-15T10:00:00+02:00'),
        consent(strict, '2025-09-01T10:00:00+02:00'),
      ],
      expect: denied(['objected'], [fail('NL-8', 'objected'), fail('NL-10', 'consent_unverified')]),
    },
  ]);
});

/* ================================================================== NL-11 service calls */

describe('NL-11 service calls need no basis', () => {
  const service: Partial<Question> = { purpose: 'service' };
  const cases: Case[] = [T.optOutLast, T.optInFirst, T.wide, T.narrowFirst].map((at) => ({
    name: `service call, no facts, ${at}`,
    at,
    q: service,
    expect: { allowed: true, basis: null, denials: [], reasons: [pass('NL-11', 'service_call')], noReasons: [pass('NL-11', 'telemarketing_call')] },
  }));
  cases.push(
    {
      name: 'service call after an objection to telemarketing',
      at: T.wide,
      q: service,
      events: [objection(ENERGY, '2022-01-10T10:00:00+01:00')],
      expect: { allowed: true, basis: null, denials: [], reasons: [pass('NL-11', 'service_call')] },
    },
    {
      name: 'service call to a number in the Bel-me-niet Register before 2021',
      at: T.pre,
      q: service,
      registers: [listedInBelMeNiet()],
      expect: { allowed: true, basis: null, denials: [], reasons: [pass('NL-11', 'service_call')] },
    },
    {
      name: 'the same facts, marketing call: denied',
      at: T.wide,
      events: [objection(ENERGY, '2022-01-10T10:00:00+01:00')],
      expect: denied(['objected'], [pass('NL-11', 'telemarketing_call')]),
    },
  );
  table(cases);
});

/* ================================================================== time: now and then, reassignment */

describe('facts after the moment of the call are ignored: the same facts answer "now" and "then"', () => {
  const timeline: EntityFact[] = [
    consent(ENERGY, '2022-01-10T10:00:00+01:00'),
    objection(ENERGY, '2023-01-10T10:00:00+01:00'),
    contactRequest(ENERGY, '2023-09-01T10:00:00+02:00'),
    call(ENERGY, '2023-09-02T10:00:00+02:00'),
    consent(ENERGY, '2024-01-10T10:00:00+01:00'),
    withdrawal(ENERGY, '2025-01-10T10:00:00+01:00'),
  ];
  const moments: Array<{ at: When; allowed: boolean; basis: Basis | null }> = [
    { at: '2021-12-01T10:00:00+01:00', allowed: false, basis: null },
    { at: '2022-06-01T10:00:00+02:00', allowed: true, basis: 'consent' },
    { at: '2023-06-01T10:00:00+02:00', allowed: false, basis: null },
    { at: '2023-09-01T18:00:00+02:00', allowed: true, basis: 'requested_communication' },
    { at: '2023-10-01T10:00:00+02:00', allowed: false, basis: null },
    { at: '2024-06-01T10:00:00+02:00', allowed: true, basis: 'consent' },
    { at: '2025-06-01T10:00:00+02:00', allowed: false, basis: null },
  ];
  it.each(moments)('call at $at: allowed=$allowed basis=$basis, and the decision equals the one made with only the facts known then', (m) => {
    const d = run({ at: m.at, events: timeline });
    expectDutchShape(d, { at: m.at });
    expect(d.allowed, describeReasons(d)).toBe(m.allowed);
    expect(d.basis).toBe(m.basis);
    const known = timeline.filter((e) => e.at <= ms(m.at));
    expect(run({ at: m.at, events: known })).toEqual(d);
  });
  it('the objection period is denied as objected', () => {
    const d = run({ at: '2023-06-01T10:00:00+02:00', events: timeline });
    expect(d.denials).toEqual(['objected']);
  });
});

describe('a reassigned number wipes what was recorded before it', () => {
  const reassigned = '2023-01-10T10:00:00+01:00';
  const energyCall: Partial<Question> = { productCategory: 'energy' };
  const cases: Case[] = [
    {
      name: "the previous holder's consent no longer counts",
      at: T.wide,
      events: [consent(ENERGY, '2022-01-10T10:00:00+01:00')],
      reassignments: [reassignment(reassigned)],
      expect: denied(['no_basis'], [fail('NL-2', 'no_consent')], [pass('NL-2', 'consent_valid')]),
    },
    {
      name: 'audit of a call made before the reassignment: the consent counted then',
      at: '2022-06-01T10:00:00+02:00',
      events: [consent(ENERGY, '2022-01-10T10:00:00+01:00')],
      reassignments: [reassignment(reassigned)],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: "the new holder's consent after the reassignment counts",
      at: T.wide,
      events: [consent(ENERGY, '2022-01-10T10:00:00+01:00'), consent(ENERGY, '2023-02-01T10:00:00+01:00')],
      reassignments: [reassignment(reassigned)],
      expect: allowed('consent', OBL_STANDARD, [pass('NL-2', 'consent_valid')]),
    },
    {
      name: "the previous holder's customer relationship no longer counts",
      at: T.wide,
      q: energyCall,
      events: [relationship(ENERGY, '2022-01-10T10:00:00+01:00')],
      reassignments: [reassignment(reassigned)],
      expect: denied(['no_basis'], [fail('NL-3', 'no_relationship')]),
    },
    {
      name: "the previous holder's request no longer counts",
      at: T.wide,
      events: [contactRequest(ENERGY, '2023-01-09T10:00:00+01:00')],
      reassignments: [reassignment(reassigned)],
      expect: denied(['no_basis'], [fail('NL-7', 'no_request')]),
    },
    {
      name: "the previous holder's objection no longer counts (legal person, opt-out)",
      at: T.wide,
      q: { subscriberType: 'business' },
      events: [objection(ENERGY, '2022-01-10T10:00:00+01:00')],
      reassignments: [reassignment(reassigned)],
      expect: allowed('opt_out_regime', OBL_STANDARD, [pass('NL-8', 'no_objection')]),
    },
    {
      name: "the new holder's objection after the reassignment counts",
      at: T.wide,
      q: { subscriberType: 'business' },
      events: [objection(ENERGY, '2023-02-01T10:00:00+01:00')],
      reassignments: [reassignment(reassigned)],
      expect: denied(['objected'], [fail('NL-8', 'objected')]),
    },
    {
      name: 'a reassignment after the call does not affect that call',
      at: T.wide,
      events: [consent(ENERGY, '2022-01-10T10:00:00+01:00')],
      reassignments: [reassignment('2023-06-01T10:00:00+02:00')],
      expect: allowed('consent', OBL_STANDARD),
    },
  ];
  table(cases);
  it('says that the number was reassigned, under an NL row', () => {
    const d = run({ at: T.wide, events: [consent(ENERGY, '2022-01-10T10:00:00+01:00')], reassignments: [reassignment(reassigned)] });
    const r = d.reasons.find((x) => x.code === 'number_reassigned');
    expect(r, describeReasons(d)).toBeDefined();
    expect(r!.rule).toMatch(/^NL-\d+$/);
  });
  it('names the day of the reassignment as it was in the Netherlands', () => {
    const d = run({ at: T.wide, events: [consent(ENERGY, '2022-01-10T10:00:00+01:00')], reassignments: [reassignment('2023-03-01T00:30:00+01:00')] });
    expect(d.reasons.find((x) => x.code === 'number_reassigned')!.detail).toMatch(/^The number passed to a new holder on 2023-03-01;/);
  });
});

/* ================================================================== scope and properties */

describe('scope', () => {
  it('a number of a country without rules is denied unsupported_jurisdiction under rule "scope"', () => {
    const d = run({ at: T.wide, q: { phone: { e164: '+32470123456', country: 'BE', lineType: 'mobile', timeZones: ['Europe/Brussels'] } } });
    expect(d.allowed).toBe(false);
    expect(d.basis).toBeNull();
    expect(d.jurisdiction).toBeNull();
    expect(d.denials).toEqual(['unsupported_jurisdiction']);
    for (const r of d.reasons) expect(r.rule).toMatch(/^(NL-\d+|scope)$/);
  });
});

describe('properties over random fact sets', () => {
  const START = ms('2019-01-01T00:00:00+01:00');
  const END = ms('2028-01-01T00:00:00+01:00');
  const instant = fc.integer({ min: START, max: END });
  const entityArb = fc.constantFrom(ENERGY, RETAIL, CHARITY);
  const product = fc.constantFrom('energy', 'solar', 'fundraising');
  const eventArb: fc.Arbitrary<EntityFact> = fc.oneof(
    fc
      .record({
        e: entityArb,
        at: instant,
        channel: fc.constantFrom('phone', 'phone', 'email', 'sms' as const),
        products: fc.subarray(['energy', 'solar']),
        bundled: fc.boolean(),
        verified: fc.boolean(),
        expires: fc.option(instant, { nil: null }),
      })
      .map((x) =>
        consent(x.e, x.at, {
          channel: x.channel,
          products: x.products,
          expiresAt: x.expires,
          source: { bundled: x.bundled, verifiedAt: x.verified ? x.at + 60_000 : null },
        }),
      ),
    fc.record({ e: entityArb, at: instant, products: fc.subarray(['energy', 'solar']) }).map((x) => withdrawal(x.e, x.at, { products: x.products })),
    fc.record({ e: entityArb, at: instant }).map((x) => objection(x.e, x.at)),
    fc
      .record({
        e: entityArb,
        at: instant,
        kind: fc.constantFrom('purchase', 'subscription', 'donation', 'quote_request', 'volunteer', 'event' as const),
        product,
        ended: fc.option(instant, { nil: null }),
        informed: fc.boolean(),
        optOut: fc.boolean(),
      })
      .map((x) =>
        relationship(x.e, x.at, {
          kind: x.kind,
          productCategory: x.product,
          endedAt: x.ended !== null && x.ended > x.at ? x.ended : null,
          informedAtCollection: x.informed,
          optOutOfferedAtCollection: x.optOut,
        }),
      ),
    fc.record({ e: entityArb, at: instant }).map((x) => contactRequest(x.e, x.at)),
    fc.record({ e: entityArb, at: instant }).map((x) => call(x.e, x.at)),
  );
  const scenario = fc.record({
    events: fc.array(eventArb, { maxLength: 12 }),
    reassignments: fc.array(instant.map((t) => reassignment(t)), { maxLength: 2 }),
    listed: fc.option(fc.boolean(), { nil: null }),
    entity: fc.constantFrom(ENERGY, CHARITY, { ...ENERGY, requireVerifiedConsent: true }, { ...CHARITY, relationshipTermMonths: 12 }),
    at: instant,
    subscriberType: fc.constantFrom('consumer', 'sole_trader', 'business' as const),
    productCategory: fc.option(product, { nil: null }),
    purpose: fc.constantFrom('marketing', 'marketing', 'marketing', 'service' as const),
  });

  it('every decision is well formed and cites NL rows only', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const c = {
          at: s.at,
          entity: s.entity,
          events: s.events,
          reassignments: s.reassignments,
          registers: s.listed === null ? [] : [registerCheck(BMN, 'NL', { listed: s.listed })],
          q: { subscriberType: s.subscriberType, productCategory: s.productCategory, purpose: s.purpose },
        };
        expectDutchShape(run(c), c);
      }),
      { numRuns: 400 },
    );
  });

  it('adding facts dated after the call never changes the decision about it', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const base = {
          at: s.at,
          entity: s.entity,
          registers: s.listed === null ? [] : [registerCheck(BMN, 'NL', { listed: s.listed })],
          q: { subscriberType: s.subscriberType, productCategory: s.productCategory, purpose: s.purpose },
        };
        const all = run({ ...base, events: s.events, reassignments: s.reassignments });
        const known = run({
          ...base,
          events: s.events.filter((e) => e.at <= s.at),
          reassignments: s.reassignments.filter((r) => r.at <= s.at),
        });
        expect(known).toEqual(all);
      }),
      { numRuns: 400 },
    );
  });

  it('an objection by the person, after every other fact and before the call, denies every marketing call', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const before = s.events.filter((e) => e.at < s.at - 2 * DAY_MS);
        const c = {
          at: s.at,
          entity: s.entity,
          events: [...before, objection(s.entity, s.at - DAY_MS)],
          reassignments: s.reassignments.filter((r) => r.at < s.at - 2 * DAY_MS),
          q: { subscriberType: s.subscriberType, productCategory: s.productCategory },
        };
        const d = run(c);
        expectDutchShape(d, c);
        expect(d.allowed).toBe(false);
        expect(d.denials).toContain('objected');
      }),
      { numRuns: 300 },
    );
  });
});

/* ================================================================== decisions taken by the lead on the table's silences */

describe('withdrawals, registers and evidence', () => {
  table([
    {
      name: 'NL-8: a legal person who withdrew consent is not called under the opt-out rules (a withdrawal says "do not call")',
      at: T.narrowFirst,
      q: { subscriberType: 'business' },
      events: [consent(ENERGY, '2025-01-01T10:00:00+01:00'), withdrawal(ENERGY, '2025-06-01T10:00:00+02:00')],
      expect: denied(['objected'], [fail('NL-8', 'withdrawal_is_objection')], [pass('NL-8', 'no_objection')]),
    },
    {
      name: 'NL-8: before 2021-07-01 a withdrawal also stops opt-out calls to consumers',
      at: T.optOutLast,
      registers: [notListedInBelMeNiet()],
      events: [consent(ENERGY, '2020-01-01T10:00:00+01:00'), withdrawal(ENERGY, '2020-06-01T10:00:00+02:00')],
      expect: denied(['objected'], [fail('NL-8', 'withdrawal_is_objection')]),
    },
    {
      name: 'NL-2/NL-9: before 2021-07-01 the person\'s own consent to this caller allows a call although the number is in the Bel-me-niet Register',
      at: T.optOutLast,
      registers: [listedInBelMeNiet({ listedAt: '2015-01-01T00:00:00+01:00' })],
      events: [consent(ENERGY, '2020-01-01T10:00:00+01:00')],
      expect: allowed('consent', OBL_OPT_OUT_ERA),
    },
    {
      name: 'NL-7/NL-9: before 2021-07-01 the person\'s own request allows one call although the number is in the register',
      at: T.optOutLast,
      registers: [listedInBelMeNiet()],
      events: [contactRequest(ENERGY, '2021-06-20T10:00:00+02:00')],
      expect: allowed('requested_communication', OBL_REQUESTED),
    },
    {
      name: 'NL-3/NL-9: before 2021-07-01 a customer relationship does not allow calling a number in the Bel-me-niet Register (it applied to all callers)',
      at: T.optOutLast,
      q: { productCategory: 'energy' },
      registers: [listedInBelMeNiet()],
      events: [relationship(ENERGY, '2019-04-01T10:00:00+02:00')],
      expect: denied(['register_listed'], [fail('NL-3', 'relationship_before_opt_in'), fail('NL-9', 'register_listed')]),
    },
    {
      name: 'NL-3/NL-9: before 2021-07-01 a customer relationship is no basis without a register copy either',
      at: T.optOutLast,
      q: { productCategory: 'energy' },
      events: [relationship(ENERGY, '2019-04-01T10:00:00+02:00')],
      expect: denied(['register_stale'], [fail('NL-9', 'register_unavailable')]),
    },
    {
      name: 'NL-3: before 2021-07-01 a customer not in the register is called under the opt-out rules',
      at: T.optOutLast,
      q: { productCategory: 'energy' },
      registers: [notListedInBelMeNiet()],
      events: [relationship(ENERGY, '2019-04-01T10:00:00+02:00')],
      expect: allowed('opt_out_regime', OBL_OPT_OUT_ERA, [fail('NL-3', 'relationship_before_opt_in')]),
    },
    {
      name: 'NL-3: from 2021-07-01 the same customer is called on the relationship, whatever the abolished register said',
      at: T.optInFirst,
      q: { productCategory: 'energy' },
      registers: [listedInBelMeNiet()],
      events: [relationship(ENERGY, '2019-04-01T10:00:00+02:00')],
      expect: allowed('customer_relationship', OBL_STANDARD, [pass('NL-3', 'relationship_transaction'), pass('NL-9', 'register_abolished')]),
    },
    {
      name: 'NL-8: a withdrawal of consent also ends older permissions – it says "do not call"',
      at: T.narrowFirst,
      q: { productCategory: 'energy' },
      entity: CHARITY,
      events: [relationship(CHARITY, '2025-01-01T10:00:00+01:00', { kind: 'donation', productCategory: 'energy' }), consent(CHARITY, '2025-02-01T10:00:00+01:00'), withdrawal(CHARITY, '2025-03-01T10:00:00+01:00')],
      expect: denied(['no_basis'], [fail('NL-8', 'withdrawal_beats_older')]),
    },
    {
      name: 'NL-8: a withdrawal with nothing newer is said (a consumer from 2021: no call until a new consent or request)',
      at: '2026-11-02T10:00:00+01:00',
      events: [consent(ENERGY, '2026-01-01T10:00:00+01:00'), withdrawal(ENERGY, '2026-02-01T10:00:00+01:00')],
      expect: denied(['no_basis'], [fail('NL-2', 'consent_withdrawn'), fail('NL-8', 'withdrawal_beats_older')], [pass('NL-8', 'no_objection')]),
    },
    {
      name: 'NL-8: a customer relationship that began after the person withdrew consent does not count either – only their own newer word does (as after an objection)',
      at: '2023-05-10T10:00:00+02:00',
      q: { productCategory: 'energy' },
      events: [withdrawal(ENERGY, '2022-01-01T10:00:00+01:00'), relationship(ENERGY, '2022-06-01T10:00:00+02:00')],
      expect: denied(['no_basis'], [pass('NL-3', 'relationship_transaction'), fail('NL-8', 'withdrawal_beats_older')], [pass('NL-8', 'no_objection')]),
    },
    {
      name: 'NL-8: the same facts the other way round – a relationship, then the withdrawal – are denied alike',
      at: '2023-05-10T10:00:00+02:00',
      q: { productCategory: 'energy' },
      events: [relationship(ENERGY, '2022-01-01T10:00:00+01:00'), withdrawal(ENERGY, '2022-06-01T10:00:00+02:00')],
      expect: denied(['no_basis'], [fail('NL-8', 'withdrawal_beats_older')]),
    },
    {
      name: 'NL-2/NL-7: after a withdrawal the person\'s own new consent or request to be called counts',
      at: '2023-05-10T10:00:00+02:00',
      q: { productCategory: 'energy' },
      events: [withdrawal(ENERGY, '2022-01-01T10:00:00+01:00'), relationship(ENERGY, '2022-06-01T10:00:00+02:00'), contactRequest(ENERGY, '2023-05-01T10:00:00+02:00')],
      expect: allowed('requested_communication', OBL_REQUESTED, [fail('NL-8', 'withdrawal_beats_older'), pass('NL-8', 'no_objection')]),
    },
    {
      name: 'NL-8: a call request after an objection, then a withdrawal: the objection stands and is not said to be overridden',
      at: '2023-05-10T10:00:00+02:00',
      events: [objection(ENERGY, '2023-04-01T10:00:00+02:00'), contactRequest(ENERGY, '2023-05-01T10:00:00+02:00'), withdrawal(ENERGY, '2023-05-02T10:00:00+02:00')],
      expect: denied(['objected'], [fail('NL-8', 'objected'), fail('NL-8', 'withdrawal_beats_older')], [pass('NL-8', 'objection_overridden')]),
    },
    {
      name: 'NL-10: a reassignment is explained by the rule that consent belongs to the person, not the number',
      at: T.narrowFirst,
      events: [consent(ENERGY, '2025-01-01T10:00:00+01:00')],
      reassignments: [reassignment('2026-01-01T00:00:00+01:00')],
      expect: denied(['no_basis'], [pass('NL-10', 'number_reassigned')]),
    },
  ]);

  it('names the consent the call rests on as evidence', () => {
    const c = consent(ENERGY, '2025-01-01T10:00:00+01:00');
    const d = run({ at: T.narrowFirst, events: [c] });
    expect(d.basis).toBe('consent');
    expect(d.evidence).toEqual([c.id]);
    const none = run({ at: T.narrowFirst, events: [] });
    expect(none.evidence ?? []).toEqual([]);
  });
});
