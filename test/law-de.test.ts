/**
 * The German law table, row by row (shared/law/de.md, UWG §7 and §7a, DE-1 … DE-6): every case
 * is built from a row and runs the pure engine on facts built directly. §7a (DE-4) applies from
 * 2021-10-01, Berlin local midnight.
 */
import { describe, expect, it } from 'vitest';
import type { Decision, Obligation } from '../src/law/index.js';
import {
  consent,
  contactRequest,
  makeEntity,
  objection,
  phone,
  presumedConsent,
  reassignment,
  relationship,
  withdrawal,
} from './helpers/facts.js';
import { allowed, denied, fail, lawTable, pass, type Case } from './helpers/law-table.js';

const ENERGY = makeEntity({ id: 'de-energy', name: 'Strom GmbH', country: 'DE' });
const PARENT = makeEntity({ id: 'de-holding', name: 'Strom Holding AG', country: 'DE' });
const CHILD = makeEntity({ id: 'de-energy-sub', name: 'Strom Vertrieb GmbH', country: 'DE', parentId: ENERGY.id });

/** Well inside §7a (DE-4). */
const NOW = '2026-11-27T10:00:00+01:00';
const BEFORE = '2026-01-15T10:00:00+01:00';
/** DE-4 boundary: §7a in force from 2021-10-01 00:00 Berlin. */
const LAST_BEFORE_7A = '2021-09-30T23:59:00+02:00';
const FIRST_UNDER_7A = '2021-10-01T00:00:00+02:00';

/** A documented consent (DE-4) whose number is tied to the person (DE-3): given on a call, its wording recorded. */
const WORDING = 'Ja, die Strom GmbH darf mich zu Strom- und Gastarifen anrufen.';
const ENERGY_CONSENT = (at = BEFORE, o: Parameters<typeof consent>[2] = {}) =>
  consent(ENERGY, at, { products: ['energy'], ...o, source: { method: 'agent_call', wording: WORDING, ...o.source } });
const ON_CONSENT: Obligation[] = ['document_consent_use', 'show_caller_id'];

const { table, run } = lawTable(
  'DE',
  { entity: ENERGY, q: { productCategory: 'energy' } },
  (d: Decision) => {
    // DE-5: every allowed advertising call shows the caller number.
    if (d.allowed) {
      expect(d.obligations).toContain('show_caller_id');
      expect(d.reasons.some((r) => r.rule === 'DE-5' && r.passed)).toBe(true);
    }
    // DE-1: a customer relationship is never a basis for calls.
    expect(d.basis).not.toBe('customer_relationship');
  },
);

describe('DE-1 consumers need prior express consent; no customer-relationship exception', () => {
  table([
    { name: 'consumer, nothing on record', at: NOW, expect: denied(['no_basis'], [pass('DE-1', 'consumer_opt_in'), fail('DE-3', 'no_consent'), fail('DE-6', 'fine_risk')]) },
    { name: 'consumer with a specific consent for the product', at: NOW, events: [ENERGY_CONSENT()], expect: allowed('consent', ON_CONSENT, [pass('DE-3', 'consent_valid')]) },
    {
      name: 'an ongoing customer relationship with the product is no basis',
      at: NOW,
      events: [relationship(ENERGY, '2024-01-01T00:00:00Z')],
      expect: denied(['no_basis'], [fail('DE-1', 'relationship_no_exception')]),
    },
    {
      name: 'a customer who also consented is called on the consent',
      at: NOW,
      events: [relationship(ENERGY, '2024-01-01T00:00:00Z'), ENERGY_CONSENT()],
      expect: allowed('consent', ON_CONSENT, [fail('DE-1', 'relationship_no_exception')]),
    },
    {
      name: 'a sole trader is treated as a consumer: a presumed-consent record does not help',
      at: NOW,
      events: [presumedConsent(ENERGY, BEFORE)],
      q: { subscriberType: 'sole_trader' },
      expect: denied(['no_basis'], [pass('DE-1', 'consumer_opt_in')], [pass('DE-2', 'presumed_consent')]),
    },
    {
      name: 'a request to be called is not a documented consent',
      at: NOW,
      events: [contactRequest(ENERGY, BEFORE, 'Stromtarif')],
      expect: denied(['no_basis'], [fail('DE-4', 'request_not_documented_consent')]),
    },
    {
      name: 'consent then objection: the objection wins',
      at: NOW,
      events: [ENERGY_CONSENT(), objection(ENERGY, '2026-06-01T00:00:00Z')],
      expect: denied(['objected'], [fail('DE-1', 'objected')]),
    },
    {
      name: 'objection then a newer consent: the consent wins',
      at: NOW,
      events: [objection(ENERGY, '2025-06-01T00:00:00Z'), ENERGY_CONSENT()],
      expect: allowed('consent', ON_CONSENT, [pass('DE-1', 'objection_overridden')]),
    },
    { name: 'a service call that advertises nothing is out of scope', at: NOW, q: { purpose: 'service' }, expect: allowed(null, ['show_caller_id'], [pass('DE-1', 'service_call')]) },
  ]);
});

describe('DE-2 businesses need at least presumed consent, on a recorded justification', () => {
  const business = { subscriberType: 'business' as const };
  table([
    {
      name: 'business, nothing recorded: the engine asks for a justification',
      at: NOW,
      q: business,
      expect: denied(['no_basis'], [pass('DE-2', 'business_presumed_consent'), fail('DE-2', 'presumed_consent_not_recorded')]),
    },
    {
      name: 'business with a recorded justification',
      at: NOW,
      q: business,
      events: [presumedConsent(ENERGY, BEFORE)],
      expect: allowed('presumed_consent', ['show_caller_id'], [pass('DE-2', 'presumed_consent')], [pass('DE-4', 'document_consent_use')]),
    },
    // UWG §7(2) no. 3: an automated calling machine needs express consent from businesses too.
    {
      name: 'business with a recorded justification, called with a recorded message: express consent needed',
      at: NOW,
      q: { ...business, prerecorded: true },
      events: [presumedConsent(ENERGY, BEFORE)],
      expect: denied(['consent_required'], [pass('DE-2', 'presumed_consent'), fail('DE-2', 'recorded_message'), fail('DE-6', 'fine_risk')]),
    },
    {
      name: "business's express consent allows a recorded message",
      at: NOW,
      q: { ...business, prerecorded: true },
      events: [ENERGY_CONSENT(BEFORE), presumedConsent(ENERGY, BEFORE)],
      expect: allowed('consent', ON_CONSENT, [], [fail('DE-2', 'recorded_message')]),
    },
    {
      name: 'business justification for the product offered',
      at: NOW,
      q: business,
      events: [presumedConsent(ENERGY, BEFORE, { productCategory: 'energy' })],
      expect: allowed('presumed_consent', ['show_caller_id']),
    },
    {
      name: "the business withdrew its consent: the caller's later presumption does not beat its no",
      at: NOW,
      q: business,
      events: [withdrawal(ENERGY, '2026-03-01T10:00:00+01:00'), presumedConsent(ENERGY, '2026-05-01T10:00:00+02:00')],
      expect: denied(['no_basis'], [fail('DE-1', 'withdrawal_beats_older')], [pass('DE-1', 'no_objection')]),
    },
    {
      name: 'a withdrawal with nothing newer stands, and no "no objection" is said beside it',
      at: NOW,
      events: [ENERGY_CONSENT('2026-01-01T10:00:00+01:00'), withdrawal(ENERGY, '2026-03-01T10:00:00+01:00')],
      expect: denied(['no_basis'], [fail('DE-1', 'withdrawal_beats_older')], [pass('DE-1', 'no_objection')]),
    },
    {
      name: 'a withdrawal followed by a new consent of its own: the consent counts',
      at: NOW,
      q: business,
      events: [withdrawal(ENERGY, '2026-03-01T10:00:00+01:00'), ENERGY_CONSENT('2026-05-01T10:00:00+02:00')],
      expect: allowed('consent', ON_CONSENT),
    },
    {
      name: 'business justification for another product',
      at: NOW,
      q: { ...business, productCategory: 'telecom' },
      events: [presumedConsent(ENERGY, BEFORE, { productCategory: 'energy' })],
      expect: denied(['no_basis'], [fail('DE-2', 'presumed_consent_product_mismatch')]),
    },
    {
      name: 'business justification without text',
      at: NOW,
      q: business,
      events: [presumedConsent(ENERGY, BEFORE, { justification: '  ' })],
      expect: denied(['no_basis'], [fail('DE-2', 'presumed_consent_no_justification')]),
    },
    {
      name: "another entity's justification does not count",
      at: NOW,
      q: business,
      events: [presumedConsent(PARENT, BEFORE)],
      expect: denied(['no_basis'], [fail('DE-2', 'presumed_consent_not_recorded')]),
    },
    {
      name: 'business with a consent and a justification: consent is preferred',
      at: NOW,
      q: business,
      events: [presumedConsent(ENERGY, BEFORE), ENERGY_CONSENT()],
      expect: allowed('consent', ON_CONSENT),
    },
    {
      name: 'a business that objected cannot be presumed to consent, even with a later justification',
      at: NOW,
      q: business,
      events: [objection(ENERGY, '2025-06-01T00:00:00Z'), presumedConsent(ENERGY, BEFORE)],
      expect: denied(['objected'], [fail('DE-1', 'objected')]),
    },
    {
      name: 'a justification recorded after the call does not count for it',
      at: NOW,
      q: business,
      events: [presumedConsent(ENERGY, '2026-11-27T10:00:01+01:00')],
      expect: denied(['no_basis']),
    },
  ]);
});

it('DE-6: a call denied for an undocumented consent states the fine for missing documentation too', () => {
  const d = run({ at: NOW, events: [ENERGY_CONSENT(FIRST_UNDER_7A, { source: { wording: null } })] });
  const fine = d.reasons.find((r) => r.code === 'fine_risk')!;
  expect(fine.detail).toMatch(/300[.,]000/);
  expect(fine.detail).toMatch(/50[.,]000 more \(DE-4\)/);
  expect(run({ at: NOW, events: [] }).reasons.find((r) => r.code === 'fine_risk')!.detail).not.toMatch(/DE-4/);
});

describe('DE-3 consent must be specific, unbundled, to this entity, and tie the number to the person', () => {
  table([
    { name: 'consent that names no products', at: NOW, events: [consent(ENERGY, BEFORE)], expect: denied(['no_basis'], [fail('DE-3', 'consent_not_specific')]) },
    {
      name: 'consent for another product',
      at: NOW,
      events: [ENERGY_CONSENT()],
      q: { productCategory: 'telecom' },
      expect: denied(['no_basis'], [fail('DE-3', 'consent_product_mismatch')]),
    },
    { name: 'the call names no product', at: NOW, events: [ENERGY_CONSENT()], q: { productCategory: null }, expect: denied(['no_basis'], [fail('DE-3', 'consent_product_mismatch')]) },
    {
      name: 'a consent withdrawn whole is said to be withdrawn, not to lack the call\'s product',
      at: NOW,
      events: [ENERGY_CONSENT(), withdrawal(ENERGY, '2026-03-01T10:00:00+01:00')],
      q: { productCategory: null },
      expect: denied(['no_basis'], [fail('DE-3', 'consent_withdrawn')], [fail('DE-3', 'consent_product_mismatch')]),
    },
    {
      name: 'a consent withdrawn one product at a time is withdrawn whole once the last goes',
      at: NOW,
      events: [ENERGY_CONSENT(BEFORE, { products: ['energy', 'gas'] }), withdrawal(ENERGY, '2026-03-01T10:00:00+01:00', { products: ['gas'] }), withdrawal(ENERGY, '2026-04-01T10:00:00+02:00', { products: ['energy'] })],
      q: { productCategory: null },
      expect: denied(['no_basis'], [fail('DE-3', 'consent_withdrawn')], [fail('DE-3', 'consent_product_mismatch')]),
    },
    {
      name: 'a consent withdrawn for each of its products is withdrawn too',
      at: NOW,
      events: [ENERGY_CONSENT(), withdrawal(ENERGY, '2026-03-01T10:00:00+01:00', { products: ['energy'] })],
      q: { productCategory: null },
      expect: denied(['no_basis'], [fail('DE-3', 'consent_withdrawn')], [fail('DE-3', 'consent_product_mismatch')]),
    },
    {
      name: 'consent bundled into a prize draw',
      at: NOW,
      events: [ENERGY_CONSENT(BEFORE, { source: { bundled: true } })],
      expect: denied(['no_basis'], [fail('DE-3', 'consent_bundled')]),
    },
    {
      name: 'e-mail double opt-in does not prove phone consent',
      at: NOW,
      events: [ENERGY_CONSENT(BEFORE, { source: { method: 'email' } })],
      expect: denied(['no_basis'], [fail('DE-3', 'consent_method_not_proof')]),
    },
    ...(['agent_call', 'paper', 'sms'] as const).map(
      (method): Case => ({ name: `consent captured by ${method} ties the number to the person`, at: NOW, events: [ENERGY_CONSENT(BEFORE, { source: { method } })], expect: allowed('consent', ON_CONSENT) }),
    ),
    ...(['web_form', 'import'] as const).map(
      (method): Case => ({
        name: `consent captured by ${method}, never confirmed on the phone: anybody can type anybody's number`,
        at: NOW,
        events: [ENERGY_CONSENT(BEFORE, { source: { method } })],
        expect: denied(['no_basis'], [fail('DE-3', 'consent_number_not_tied'), fail('DE-6', 'fine_risk')]),
      }),
    ),
    ...(['sms', 'recorded_call', 'letter'] as const).map(
      (verificationMethod): Case => ({
        name: `web form consent confirmed by ${verificationMethod} before the call`,
        at: NOW,
        events: [ENERGY_CONSENT(BEFORE, { source: { method: 'web_form', verifiedAt: Date.parse('2026-01-15T10:05:00+01:00'), verificationMethod } })],
        expect: allowed('consent', ON_CONSENT, [pass('DE-3', 'consent_valid')]),
      }),
    ),
    ...(['email', 'app'] as const).map(
      (verificationMethod): Case => ({
        name: `web form consent confirmed by ${verificationMethod} only: that does not reach the phone`,
        at: NOW,
        events: [ENERGY_CONSENT(BEFORE, { source: { method: 'web_form', verifiedAt: Date.parse('2026-01-15T10:05:00+01:00'), verificationMethod } })],
        expect: denied(['no_basis'], [fail('DE-3', 'consent_number_not_tied')]),
      }),
    ),
    {
      name: 'an SMS confirmation dated before the web form consent was given confirms something else',
      at: NOW,
      events: [ENERGY_CONSENT(BEFORE, { source: { method: 'web_form', verifiedAt: Date.parse(BEFORE) - 60_000, verificationMethod: 'sms' } })],
      expect: denied(['no_basis'], [fail('DE-3', 'consent_number_not_tied')]),
    },
    {
      name: 'a blank recording reference names no recording',
      at: NOW,
      events: [ENERGY_CONSENT(BEFORE, { source: { method: 'import', recordingRef: ' ' } })],
      expect: denied(['no_basis'], [fail('DE-3', 'consent_number_not_tied')]),
    },
    {
      name: 'web form consent confirmed by SMS only after the call',
      at: '2026-01-15T10:03:00+01:00',
      events: [ENERGY_CONSENT(BEFORE, { source: { method: 'web_form', verifiedAt: Date.parse('2026-01-15T10:05:00+01:00'), verificationMethod: 'sms' } })],
      expect: denied(['no_basis'], [fail('DE-3', 'consent_number_not_tied')]),
    },
    {
      name: "a lead supplier's consent with the recording of the call it was given on",
      at: NOW,
      events: [ENERGY_CONSENT(BEFORE, { source: { method: 'import', recordingRef: 'lead-42.wav' } })],
      expect: allowed('consent', ON_CONSENT),
    },
    {
      name: 'consent for e-mail marketing does not cover calls',
      at: NOW,
      events: [ENERGY_CONSENT(BEFORE, { channel: 'email' })],
      expect: denied(['no_basis'], [fail('DE-3', 'consent_wrong_channel')]),
    },
    {
      name: "the parent company's consent does not count for the subsidiary",
      at: NOW,
      entity: CHILD,
      events: [ENERGY_CONSENT()],
      expect: denied(['no_basis'], [fail('DE-3', 'consent_other_entity')]),
    },
    {
      name: 'expired consent',
      at: NOW,
      events: [ENERGY_CONSENT(BEFORE, { expiresAt: '2026-11-01T00:00:00+01:00' })],
      expect: denied(['no_basis'], [fail('DE-3', 'consent_expired')]),
    },
    {
      name: 'withdrawn consent',
      at: NOW,
      events: [ENERGY_CONSENT(), withdrawal(ENERGY, '2026-03-01T00:00:00Z')],
      expect: denied(['no_basis'], [fail('DE-3', 'consent_withdrawn')]),
    },
    {
      name: 'a new consent after a withdrawal',
      at: NOW,
      events: [withdrawal(ENERGY, '2026-01-01T00:00:00Z'), ENERGY_CONSENT('2026-02-01T00:00:00Z')],
      expect: allowed('consent', ON_CONSENT),
    },
    {
      name: 'consent of the previous holder of a reassigned number',
      at: NOW,
      events: [ENERGY_CONSENT()],
      reassignments: [reassignment('2026-05-01T00:00:00Z')],
      expect: denied(['no_basis'], [pass('DE-3', 'number_reassigned')]),
    },
    { name: 'consent given after the call does not count for it', at: BEFORE, events: [ENERGY_CONSENT('2026-01-15T10:00:01+01:00')], expect: denied(['no_basis']) },
    { name: 'consent given the second before the call counts', at: BEFORE, events: [ENERGY_CONSENT('2026-01-15T09:59:59+01:00')], expect: allowed('consent', ON_CONSENT) },
  ]);
});

describe('DE-4 §7a: document each use of a consent, from 2021-10-01', () => {
  const early = '2020-05-01T00:00:00Z';
  table([
    {
      name: 'last minute before §7a: no documentation duty',
      at: LAST_BEFORE_7A,
      events: [ENERGY_CONSENT(early)],
      expect: allowed('consent', ['show_caller_id'], [], [pass('DE-4', 'document_consent_use')]),
    },
    {
      name: 'first minute of §7a: the call must be documented',
      at: FIRST_UNDER_7A,
      events: [ENERGY_CONSENT(early)],
      expect: allowed('consent', ON_CONSENT, [pass('DE-4', 'document_consent_use')]),
    },
  ]);
  table([
    {
      name: 'consent given on the last day before §7a without its wording: no duty to document it then',
      at: NOW,
      events: [ENERGY_CONSENT('2021-09-30T23:59:00+02:00', { source: { wording: null } })],
      expect: allowed('consent', ON_CONSENT),
    },
    {
      name: 'consent given on the first day of §7a without its wording or a recording is not documented',
      at: NOW,
      events: [ENERGY_CONSENT(FIRST_UNDER_7A, { source: { wording: null } })],
      expect: denied(['no_basis'], [fail('DE-4', 'consent_not_documented'), fail('DE-6', 'fine_risk')]),
    },

    {
      name: 'a blank wording documents nothing',
      at: NOW,
      events: [ENERGY_CONSENT(BEFORE, { source: { wording: '  ' } })],
      expect: denied(['no_basis'], [fail('DE-4', 'consent_not_documented')]),
    },
    {
      name: 'the recording of the call documents the consent without its wording',
      at: NOW,
      events: [ENERGY_CONSENT(BEFORE, { source: { wording: null, recordingRef: 'call-7.wav' } })],
      expect: allowed('consent', ON_CONSENT),
    },
  ]);
  it('names the dates of the Berlin calendar, as the agent and the person know them', () => {
    // 00:30 in Berlin is still the previous day in UTC.
    const d = run({ at: NOW, events: [ENERGY_CONSENT('2026-07-01T00:30:00+02:00'), objection(ENERGY, '2026-06-01T00:30:00+02:00')] });
    expect(d.allowed).toBe(true);
    const text = d.reasons.map((r) => r.detail).join('\n');
    expect(d.reasons.find((x) => x.code === 'document_consent_use')?.detail).toContain('2026-07-01');
    expect(d.reasons.find((x) => x.code === 'objection_overridden')?.detail).toContain('2026-06-01');
    expect(text).not.toContain('2026-06-30');
    expect(text).not.toContain('2026-05-31');
  });
  it('names the consent whose proof the call extends', () => {
    const c = ENERGY_CONSENT();
    const d = run({ at: NOW, events: [c] });
    const r = d.reasons.find((x) => x.code === 'document_consent_use');
    expect(r?.detail).toContain('2026-01-15');
  });
});

describe('DE-5 caller number and DE-6 fines', () => {
  table([
    { name: 'an allowed call obliges showing the caller number', at: NOW, events: [ENERGY_CONSENT()], expect: allowed('consent', ON_CONSENT, [pass('DE-5', 'caller_id')]) },
    { name: 'a denied call for lack of consent states the fine risk', at: NOW, expect: denied(['no_basis'], [fail('DE-6', 'fine_risk')], [pass('DE-5', 'caller_id')]) },
  ]);
});

describe('the law of the called number decides, not the caller\'s country', () => {
  it('a Dutch entity calling a German number gets a German decision', () => {
    const nlEntity = makeEntity({ id: 'nl-caller', name: 'Beller BV', country: 'NL' });
    const d = run({ at: NOW, entity: nlEntity, q: { phone: phone('+4930123456') } });
    expect(d.jurisdiction).toBe('DE');
    expect(d.denials).toEqual(['no_basis']);
  });
});
