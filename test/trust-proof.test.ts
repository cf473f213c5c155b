/**
 * Proof of consent: the dossier, the Kantara Consent Receipt v1.1 and ISO/IEC TS 27560 exports
 * checked field by field against their lists (shared/law/records.md), the PDF opened and read
 * back, chain positions matching the stored history, and scope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api.js';
import { freshDb, storeNames } from './helpers/stores.js';
import { pdfText } from './helpers/pdf.js';

const NOW = Date.parse('2026-11-27T10:00:00Z');
const DE = '+4915112345678';
const DE2 = '+4917612345678';

type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'string[]';

/** Every listed field present with its type; `?` marks a field that may be absent or null. */
function expectFields(obj: unknown, fields: Record<string, FieldType>, where: string): void {
  expect(obj, where).toBeTypeOf('object');
  const o = obj as Record<string, unknown>;
  for (const [rawName, type] of Object.entries(fields)) {
    const optional = rawName.endsWith('?');
    const name = optional ? rawName.slice(0, -1) : rawName;
    const v = o[name];
    if (optional && v == null) continue;
    expect(v, `${where}.${name} is missing`).not.toBeUndefined();
    expect(v, `${where}.${name} is null`).not.toBeNull();
    switch (type) {
      case 'integer':
        expect(Number.isInteger(v), `${where}.${name} should be an integer`).toBe(true);
        break;
      case 'array':
        expect(Array.isArray(v), `${where}.${name} should be an array`).toBe(true);
        break;
      case 'string[]':
        expect(Array.isArray(v) && (v as unknown[]).every((x) => typeof x === 'string'), `${where}.${name} should be an array of strings`).toBe(true);
        break;
      case 'object':
        expect(typeof v === 'object' && !Array.isArray(v), `${where}.${name} should be an object`).toBe(true);
        break;
      default:
        expect(typeof v, `${where}.${name} should be a ${type}`).toBe(type);
    }
  }
}

// Kantara Consent Receipt v1.1: the receipt, its controllers, services and purposes.
const KANTARA_RECEIPT: Record<string, FieldType> = {
  version: 'string',
  jurisdiction: 'string',
  consentTimestamp: 'integer',
  collectionMethod: 'string',
  consentReceiptID: 'string',
  'language?': 'string',
  piiPrincipalId: 'string',
  piiControllers: 'array',
  policyUrl: 'string',
  services: 'array',
  sensitive: 'boolean',
  spiCat: 'string[]',
};
const KANTARA_CONTROLLER: Record<string, FieldType> = { piiController: 'string', 'onBehalf?': 'boolean', contact: 'string', address: 'object', email: 'string', phone: 'string', 'piiControllerUrl?': 'string' };
const KANTARA_SERVICE: Record<string, FieldType> = { service: 'string', purposes: 'array' };
const KANTARA_PURPOSE: Record<string, FieldType> = {
  purpose: 'string',
  purposeCategory: 'string[]',
  consentType: 'string',
  piiCategory: 'string[]',
  'primaryPurpose?': 'boolean',
  termination: 'string',
  thirdPartyDisclosure: 'boolean',
  'thirdPartyName?': 'string',
};

function checkKantara(r: Record<string, unknown>, where: string) {
  expectFields(r, KANTARA_RECEIPT, where);
  expect(r.version).toBe('KI-CR-v1.1.0');
  for (const [i, c] of (r.piiControllers as unknown[]).entries()) expectFields(c, KANTARA_CONTROLLER, `${where}.piiControllers[${i}]`);
  expect((r.piiControllers as unknown[]).length).toBeGreaterThan(0);
  for (const [i, s] of (r.services as Array<{ purposes: unknown[] }>).entries()) {
    expectFields(s, KANTARA_SERVICE, `${where}.services[${i}]`);
    expect(s.purposes.length).toBeGreaterThan(0);
    for (const [j, p] of s.purposes.entries()) {
      expectFields(p, KANTARA_PURPOSE, `${where}.services[${i}].purposes[${j}]`);
      if ((p as { thirdPartyDisclosure: boolean }).thirdPartyDisclosure) expect(typeof (p as { thirdPartyName?: string }).thirdPartyName).toBe('string');
    }
  }
}

// ISO/IEC TS 27560: header, processing (with its purposes), parties, events.
const ISO_HEADER: Record<string, FieldType> = { schema_version: 'string', record_id: 'string', pii_principal_id: 'string' };
const ISO_PROCESSING: Record<string, FieldType> = { privacy_notice: 'object', language: 'string', purposes: 'array' };
const ISO_PURPOSE: Record<string, FieldType> = {
  purpose: 'string',
  'purpose_type?': 'string',
  lawful_basis: 'string',
  pii_information: 'array',
  pii_controllers: 'string[]',
  collection_method: 'string',
  'processing_method?': 'string',
  'retention_period?': 'string',
  jurisdiction: 'string',
  withdrawal_method: 'string',
};
const ISO_PARTY: Record<string, FieldType> = { party_id: 'string', party_name: 'string', party_type: 'string', party_role: 'string' };
const ISO_EVENT: Record<string, FieldType> = { event_time: 'string', event_type: 'string', event_state: 'string', 'event_by?': 'string' };

function checkIso(r: Record<string, unknown>, where: string) {
  expectFields(r, { header: 'object', processing: 'object', parties: 'array', events: 'array' }, where);
  expectFields(r.header, ISO_HEADER, `${where}.header`);
  expectFields(r.processing, ISO_PROCESSING, `${where}.processing`);
  const p = r.processing as { purposes: unknown[]; privacy_notice: Record<string, unknown> };
  expect(p.purposes.length).toBeGreaterThan(0);
  for (const [i, x] of p.purposes.entries()) expectFields(x, ISO_PURPOSE, `${where}.processing.purposes[${i}]`);
  for (const [i, x] of (r.parties as unknown[]).entries()) expectFields(x, ISO_PARTY, `${where}.parties[${i}]`);
  const controllers = (p.purposes as Array<{ pii_controllers: string[] }>).flatMap((x) => x.pii_controllers);
  for (const id of controllers) expect((r.parties as Array<{ party_id: string }>).some((x) => x.party_id === id), `controller ${id} is a party`).toBe(true);
  for (const [i, e] of (r.events as unknown[]).entries()) {
    expectFields(e, ISO_EVENT, `${where}.events[${i}]`);
    expect(Number.isNaN(Date.parse((e as { event_time: string }).event_time))).toBe(false);
  }
  expect((r.events as unknown[]).length).toBeGreaterThan(0);
}

describe.each(storeNames())('proof of consent on %s', (storeName) => {
  let api: TestApi;
  const tokens: Record<string, string> = {};
  let consentA = '';
  let consentB = '';
  let withdrawal = '';
  const calls: string[] = [];

  beforeAll(async () => {
    api = await startApi({ db: await freshDb(storeName), clock: () => NOW });
    const put = async (id: string, body: unknown) => expect((await api.call('PUT', `/v1/entities/${id}`, body)).statusCode).toBeLessThan(300);
    await put('kraft', {
      name: 'Kraftwerk Strom GmbH',
      kind: 'company',
      country: 'DE',
      controller: { contact: 'Datenschutz Kraftwerk', email: 'datenschutz@kraftwerk.example', phone: '+49301234567', address: 'Hauptstraße 1, 10115 Berlin', url: 'https://kraftwerk.example', policyUrl: 'https://kraftwerk.example/datenschutz', language: 'de' },
    });
    await put('kraft-solar', { name: 'Kraftwerk Solar GmbH', kind: 'company', country: 'DE', parentId: 'kraft' });
    const key = async (role: string, entityIds: string[]) => {
      const r = await api.call('POST', '/v1/keys', { role, entityIds });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().token as string;
    };
    tokens.compliance = await key('compliance', ['kraft']);
    tokens.solarCompliance = await key('compliance', ['kraft-solar']);
    tokens.agent = await key('agent', ['kraft']);
    tokens.supervisor = await key('supervisor', ['kraft']);

    const post = async (url: string, body: unknown) => {
      const r = await api.call('POST', url, body);
      expect(r.statusCode, r.body).toBeLessThan(300);
      return r.json();
    };
    consentA = (
      await post('/v1/consents', {
        entityId: 'kraft',
        channel: 'phone',
        status: 'granted',
        at: '2026-01-10T09:30:00+01:00',
        phone: DE,
        products: ['strom'],
        source: {
          method: 'agent_call',
          wording: 'Dürfen wir Sie zu unseren Stromtarifen anrufen? – Ja.',
          agentId: 'agent-0042',
          callId: 'CALL-7731',
          recordingRef: 'rec://2026/01/10/7731.wav',
          verifiedAt: '2026-01-10T10:00:00+01:00',
          verificationMethod: 'recorded_call',
        },
        person: { name: 'Jonas Weber', reference: 'KW-55120' },
      })
    ).id;
    // Two calls made on it, each with the decision the dialer got.
    for (const at of ['2026-02-02T10:00:00+01:00', '2026-03-02T10:00:00+01:00']) {
      const d = await post('/v1/decisions', { entityId: 'kraft', phone: DE, at, productCategory: 'strom' });
      expect(d.allowed, JSON.stringify(d.reasons)).toBe(true);
      expect(d.evidence).toEqual([consentA]);
      calls.push((await post('/v1/calls', { entityId: 'kraft', phone: DE, at, decisionId: d.decisionId })).id);
    }
    withdrawal = (await post('/v1/consents', { entityId: 'kraft', channel: 'phone', status: 'withdrawn', at: '2026-06-01T12:00:00+02:00', phone: DE, source: { method: 'agent_call', agentId: 'agent-0007' } })).id;
    consentB = (
      await post('/v1/consents', {
        entityId: 'kraft',
        channel: 'phone',
        status: 'granted',
        at: '2026-09-15T18:00:00+02:00',
        phone: DE,
        products: ['strom', 'gas'],
        source: {
          method: 'web_form',
          wording: 'Ja, Kraftwerk darf mich zu Strom und Gas anrufen.',
          ip: '203.0.113.9',
          url: 'https://kraftwerk.example/angebot',
          // DE-3: a web form's number is tied to the person by a confirmation that reaches the phone.
          verifiedAt: '2026-09-15T18:04:00+02:00',
          verificationMethod: 'sms',
        },
      })
    ).id;
    // Another entity's record for the same number stays out of kraft's proof.
    await post('/v1/objections', { entityId: 'kraft-solar', phone: DE, at: '2026-05-01T10:00:00+02:00' });
  });
  afterAll(async () => api.close());

  const proof = (query: string, token?: string | null) => api.call('GET', `/v1/proof?${query}`, undefined, token);

  it('gathers each consent with its capture, uses and withdrawal into the dossier', async () => {
    const r = await proof(`phone=${encodeURIComponent(DE)}&entityId=kraft`, tokens.compliance);
    expect(r.statusCode, r.body).toBe(200);
    const d = r.json();
    expect(d).toMatchObject({ format: 'optline-proof/1', subject: { phone: DE, jurisdiction: 'DE' }, query: { entityId: 'kraft' } });
    expect(d.entities.map((e: { id: string }) => e.id)).toEqual(['kraft']);
    const a = d.consents.find((c: { id: string }) => c.id === consentA);
    expect(a).toMatchObject({
      status: 'granted',
      channel: 'phone',
      products: ['strom'],
      state: 'withdrawn',
      withdrawnBy: { id: withdrawal },
      source: { method: 'agent_call', agentId: 'agent-0042', callId: 'CALL-7731', recordingRef: 'rec://2026/01/10/7731.wav', verifiedAt: '2026-01-10T09:00:00.000Z', bundled: false },
    });
    expect(a.source.wording).toContain('Stromtarifen');
    expect(a.uses.map((u: { callEventId: string }) => u.callEventId)).toEqual(calls);
    expect(a.uses.every((u: { decisionId: string | null; basis: string }) => u.decisionId && u.basis === 'consent')).toBe(true);
    // DE-4: proof kept 5 years after the last use (the second call).
    expect(a.retention).toMatchObject({ country: 'DE', months: 60, rule: 'DE-4', lastUse: '2026-03-02T09:00:00.000Z', keepUntil: '2031-03-02T09:00:00.000Z' });
    expect(a.person).toEqual({ name: 'Jonas Weber', reference: 'KW-55120' });
    expect(a.source.verificationMethod).toBe('recorded_call');
    // Recorded here ten months after it was given (the test's clock): DE-4 wants it documented when given.
    expect(a.gaps).toEqual(['documentation: recorded 321 days after it was given; §7a UWG requires documenting a consent when it is given (DE-4)']);
    const b = d.consents.find((c: { id: string }) => c.id === consentB);
    expect(b).toMatchObject({ state: 'active', withdrawnBy: null, uses: [], source: { method: 'web_form', ip: '203.0.113.9' } });
    // NL-10's verification is asked of Dutch consents given from 2025-07-01, not of a German one.
    expect(b.gaps.some((g: string) => g.startsWith('verification'))).toBe(false);
    const w = d.consents.find((c: { id: string }) => c.id === withdrawal);
    expect(w).toMatchObject({ status: 'withdrawn', state: 'withdrawal', withdraws: [consentA] });
    expect(d.calls.map((c: { id: string }) => c.id)).toEqual(calls);
    expect(d.objections).toEqual([]);
    // The engine's answer now, for each product consent B names (DE-3: a call is about a product).
    expect(d.decisions.map((x: { productCategory: string }) => x.productCategory).sort()).toEqual(['gas', 'strom']);
    for (const x of d.decisions) expect(x).toMatchObject({ entityId: 'kraft', jurisdiction: 'DE', allowed: true, basis: 'consent', evidence: [consentB] });
    expect(d.integrity).toMatchObject({ ok: true, problems: [] });
    expect(d.integrity.events).toBe(5);
  });

  it("does not call a consent in force that the person's later objection overrides", async () => {
    const phone = '+4915112340077';
    const c = await api.call('POST', '/v1/consents', { entityId: 'kraft', channel: 'phone', status: 'granted', at: '2026-01-05T10:00:00+01:00', phone, products: ['strom'], source: { method: 'web_form', ip: '203.0.113.7', wording: 'Ja.', verifiedAt: '2026-01-05T10:02:00+01:00', verificationMethod: 'sms' } });
    expect(c.statusCode, c.body).toBe(201);
    const before = (await proof(`phone=${encodeURIComponent(phone)}&entityId=kraft`, tokens.compliance)).json();
    expect(before.consents[0].state).toBe('active');
    await api.call('POST', '/v1/objections', { entityId: 'kraft', phone, at: '2026-02-01T10:00:00+01:00' });
    const d = (await proof(`phone=${encodeURIComponent(phone)}&entityId=kraft`, tokens.compliance)).json();
    expect(d.consents[0].state).toBe('objected');
    const iso = (await proof(`phone=${encodeURIComponent(phone)}&entityId=kraft&format=iso27560`, tokens.compliance)).json();
    expect(JSON.stringify(iso)).toContain('"record_status":"objected"');
  });

  it('gives every event its chain position as stored, and the history verifies', async () => {
    const d = (await proof(`phone=${encodeURIComponent(DE)}&entityId=kraft`, tokens.compliance)).json();
    const events = [...d.consents, ...d.calls];
    const rows = await api.app.store.db.selectFrom('events').select(['id', 'chain', 'chain_seq', 'hash', 'prev_hash', 'content_hash', 'personal_hash']).where('id', 'in', events.map((e: { id: string }) => e.id)).execute();
    for (const e of events) {
      const row = rows.find((x) => x.id === e.id)!;
      expect(e.chain).toEqual({ chain: 'kraft', seq: Number(row.chain_seq), hash: row.hash, prevHash: row.prev_hash, contentHash: row.content_hash, personalHash: row.personal_hash, contentOk: true, linkOk: true, nextOk: true });
    }
    const v = await api.call('GET', '/v1/audit/verify', undefined, tokens.compliance);
    expect(v.json()).toMatchObject({ ok: true, problems: [] });
    // A scoped key's check covers the shared chain too: reassigned numbers, which its decisions read.
    expect(v.json().heads.map((h: { chain: string }) => h.chain)).toContain('-');
    const shared = await api.app.store.db.selectFrom('events').select(['id', 'at']).where('chain', '=', '-').orderBy('chain_seq').executeTakeFirstOrThrow();
    await api.app.store.db.updateTable('events').set({ at: '2020-01-01T00:00:00.000Z' }).where('id', '=', shared.id).execute();
    const edited = (await api.call('GET', '/v1/audit/verify', undefined, tokens.compliance)).json();
    expect(edited).toMatchObject({ ok: false, problems: [expect.objectContaining({ chain: '-', eventId: shared.id, problem: 'changed' })] });
    await api.app.store.db.updateTable('events').set({ at: shared.at }).where('id', '=', shared.id).execute();
    // Moved to another client's entity: the scoped key hears that, not which one.
    await api.app.store.db.updateTable('events').set({ entity_id: 'secret-client' }).where('id', '=', shared.id).execute();
    const moved = (await api.call('GET', '/v1/audit/verify', undefined, tokens.compliance)).json();
    expect(moved.problems).toEqual([expect.objectContaining({ chain: '-', eventId: shared.id, problem: 'changed', detail: 'the event names an entity but sits in this chain: it was edited' })]);
    expect((await api.call('GET', '/v1/audit/verify')).json().problems[0].detail).toContain('entity secret-client'); // the admin's key for every entity
    await api.app.store.db.updateTable('events').set({ entity_id: null }).where('id', '=', shared.id).execute();
  });

  it('calls a consent in force only when the law lets it carry a call, and counts calls recorded without a decision as uses', async () => {
    const post = async (url: string, body: unknown) => {
      const r = await api.call('POST', url, body);
      expect(r.statusCode, r.body).toBeLessThan(300);
      return r.json();
    };
    await api.call('PUT', '/v1/entities/tulp-proof', { name: 'Tulp B.V.', kind: 'company', country: 'NL', requireVerifiedConsent: true });
    await api.call('PUT', '/v1/entities/roos-proof', { name: 'Roos B.V.', kind: 'company', country: 'NL' });
    const consent = (entityId: string, phone: string, at: string, extra: Record<string, unknown>) =>
      post('/v1/consents', { entityId, phone, at, channel: 'phone', status: 'granted', ...extra });
    // DE-3: captured by e-mail, or naming no product: no call can rest on it.
    const byEmail = (await consent('kraft', '+4915112340001', '2026-02-01T10:00:00+01:00', { products: ['strom'], source: { method: 'email' } })).id;
    const noProducts = (await consent('kraft', '+4915112340002', '2026-02-01T10:00:00+01:00', { source: { method: 'agent_call', agentId: 'a1', callId: 'c1' } })).id;
    // DE-3, DE-4: a web form confirmed by e-mail only, and a call consent without its wording.
    const emailConfirmed = (
      await consent('kraft', '+4915112340008', '2026-02-01T10:00:00+01:00', { products: ['strom'], source: { method: 'web_form', wording: 'Ja.', verifiedAt: '2026-02-01T10:05:00+01:00', verificationMethod: 'email' } })
    ).id;
    const undocumented = (await consent('kraft', '+4915112340009', '2026-02-01T10:00:00+01:00', { products: ['strom'], source: { method: 'agent_call', agentId: 'a1', callId: 'c1' } })).id;
    // NL-10 with requireVerifiedConsent: not verified.
    const unverified = (await consent('tulp-proof', '+31612349003', '2026-02-01T10:00:00+01:00', { source: { method: 'agent_call', agentId: 'a1', callId: 'c1' } })).id;
    // Verified, but only after the first call made on it.
    const late = (await consent('roos-proof', '+31612349004', '2026-11-01T10:00:00+01:00', { source: { method: 'agent_call', agentId: 'a1', callId: 'c1', verifiedAt: '2026-11-10T10:00:00+01:00' } })).id;
    await post('/v1/calls', { entityId: 'roos-proof', phone: '+31612349004', at: '2026-11-05T10:00:00+01:00' });
    const state = async (phone: string, entityId: string, id: string) => {
      const d = (await api.call('GET', `/v1/proof?phone=${encodeURIComponent(phone)}&entityId=${entityId}`)).json();
      return d.consents.find((c: { id: string }) => c.id === id);
    };
    expect((await state('+4915112340001', 'kraft', byEmail)).state).toBe('not_valid');
    expect((await state('+4915112340002', 'kraft', noProducts)).state).toBe('not_valid');
    const confirmedByEmail = await state('+4915112340008', 'kraft', emailConfirmed);
    expect(confirmedByEmail.state).toBe('not_valid');
    expect(confirmedByEmail.gaps).toContain(
      'number: it was given by web form and was confirmed by e-mail only – a double opt-in by e-mail proves the e-mail address, not the phone number, so it does not tie the number to the person (DE-3)',
    );
    const notDocumented = await state('+4915112340009', 'kraft', undocumented);
    expect(notDocumented.state).toBe('not_valid');
    expect(notDocumented.gaps.some((g: string) => g.startsWith('documentation: it records neither the wording') && g.endsWith('(DE-4)'))).toBe(true);
    expect((await state('+31612349003', 'tulp-proof', unverified)).state).toBe('not_valid');
    const lateOne = await state('+31612349004', 'roos-proof', late);
    expect(lateOne.uses).toHaveLength(1);
    expect(lateOne.gaps.some((g: string) => /after the first call/.test(g))).toBe(true);
    // Confirmed before it was given: that confirms something else, and with requireVerifiedConsent no call rests on it.
    const early = (await consent('tulp-proof', '+31612349005', '2026-02-01T10:00:00+01:00', { source: { method: 'web_form', verifiedAt: '2026-01-20T10:00:00+01:00', verificationMethod: 'sms' } })).id;
    const earlyOne = await state('+31612349005', 'tulp-proof', early);
    expect(earlyOne.state).toBe('not_valid');
    expect(earlyOne.gaps.some((g: string) => /before the consent was given .* so it does not confirm this consent \(NL-10\)/.test(g))).toBe(true);

    // DE-4: a call recorded without a decision but with its product is a use of the consent.
    const sun = (await consent('kraft', '+4915112340005', '2026-02-01T10:00:00+01:00', { products: ['solar'], source: { method: 'agent_call', agentId: 'a1', callId: 'c1', wording: 'Ja.', verifiedAt: '2026-02-01T10:05:00+01:00' } })).id;
    await post('/v1/calls', { entityId: 'kraft', phone: '+4915112340005', at: '2026-11-02T10:00:00+01:00', productCategory: 'solar' });
    const used = await state('+4915112340005', 'kraft', sun);
    expect(used.uses).toHaveLength(1);
    // "May the entity call now?" is answered for the product the consent names, where it is allowed.
    const now = (await api.call('GET', `/v1/proof?phone=${encodeURIComponent('+4915112340005')}&entityId=kraft`)).json().decisions;
    expect(now).toEqual([expect.objectContaining({ entityId: 'kraft', productCategory: 'solar', allowed: true, basis: 'consent', evidence: [sun] })]);
    expect(used.retention.lastUse).toBe('2026-11-02T09:00:00.000Z');

    // A withdrawal of one of two products: calls about the other still rest on the consent.
    const two = (await consent('kraft', '+4915112340003', '2026-02-01T10:00:00+01:00', { products: ['solar', 'heat_pump'], source: { method: 'agent_call', agentId: 'a1', callId: 'c1', wording: 'Ja.' } })).id;
    const partly = (await post('/v1/consents', { entityId: 'kraft', phone: '+4915112340003', at: '2026-03-01T10:00:00+01:00', channel: 'phone', status: 'withdrawn', products: ['Solar'] })).id;
    const twoNow = await state('+4915112340003', 'kraft', two);
    expect(twoNow).toMatchObject({ state: 'active', withdrawnBy: null });
    expect(twoNow.gaps.some((g: string) => g.includes('partly withdrawn') && g.endsWith('it covers only heat_pump now'))).toBe(true);
    expect((await state('+4915112340003', 'kraft', partly)).withdraws).toEqual([two]);
    expect(twoNow.partlyWithdrawn).toEqual([{ id: partly, at: '2026-03-01T09:00:00.000Z', products: ['Solar'] }]);
    // Both exports say it: ISO 27560 as an event and in the purpose, Kantara in the consent's state.
    const twoIso = (await api.call('GET', `/v1/consents/${two}/proof?format=iso27560`)).json();
    expect(twoIso.events).toContainEqual(expect.objectContaining({ event_id: partly, event_type: 'consent_partly_withdrawn', event_state: 'dpv:ConsentGiven', withdrawn_products: ['Solar'] }));
    expect(twoIso.processing.purposes[0]).toMatchObject({ products: ['solar', 'heat_pump'], products_withdrawn: ['Solar'] });
    const kantara = (await api.call('GET', `/v1/proof?phone=${encodeURIComponent('+4915112340003')}&entityId=kraft&format=kantara`)).json();
    expect(kantara.states[two]).toEqual({ state: 'active', withdrawnAt: null, partlyWithdrawn: [{ at: '2026-03-01T09:00:00.000Z', products: ['Solar'] }] });
    const ofWithdrawal = (await api.call('GET', `/v1/consents/${partly}/proof`)).json();
    expect(ofWithdrawal.consents.map((c: { id: string }) => c.id).sort()).toEqual([two, partly].sort());
    expect((await api.call('POST', '/v1/decisions', { entityId: 'kraft', phone: '+4915112340003', productCategory: 'heat_pump' })).json()).toMatchObject({ allowed: true, evidence: [two] });
    // A consent for every product, withdrawn for one: still in force for the others, as the engine decides.
    const all = (await consent('roos-proof', '+31612349006', '2026-02-01T10:00:00+01:00', { source: { method: 'agent_call', agentId: 'a1', callId: 'c1', recordingRef: 'rec-6' } })).id;
    await post('/v1/consents', { entityId: 'roos-proof', phone: '+31612349006', at: '2026-03-01T10:00:00+01:00', channel: 'phone', status: 'withdrawn', products: ['gas'] });
    expect((await api.call('POST', '/v1/decisions', { entityId: 'roos-proof', phone: '+31612349006', productCategory: 'stroom' })).json()).toMatchObject({ allowed: true, evidence: [all] });
    const allNow = await state('+31612349006', 'roos-proof', all);
    expect(allNow).toMatchObject({ state: 'active', withdrawnBy: null });
    expect(allNow.gaps.some((g: string) => g.endsWith('for gas: it covers every product but gas now'))).toBe(true);

    // An erasure that keeps the request as a suppression entry: the consent is not in force any more.
    await post('/v1/erasures', { phone: '+4915112340005', entityId: 'kraft', keepRequiredProof: true });
    expect((await state('+4915112340005', 'kraft', sun)).state).toBe('objected');

    // Erased whole (German proof too, on purpose): asked without an entity, the proof still names who holds the suppression entry.
    await post('/v1/erasures', { phone: '+4915112340001', entityId: 'kraft', keepRequiredProof: false });
    const erased = (await api.call('GET', `/v1/proof?phone=${encodeURIComponent('+4915112340001')}`)).json();
    expect(erased.consents).toEqual([]);
    expect(erased.entities.map((e: { id: string }) => e.id)).toEqual(['kraft']);
    expect(erased.suppressions).toEqual([expect.objectContaining({ entityId: 'kraft' })]);
    expect(erased.decisions).toEqual([expect.objectContaining({ entityId: 'kraft', allowed: false, denials: ['objected'] })]);
  });

  it('ties a consent to the person, says how it was verified, and names what its record lacks (records.md)', async () => {
    const put = async (id: string, body: unknown) => expect((await api.call('PUT', `/v1/entities/${id}`, body)).statusCode).toBeLessThan(300);
    await put('linde-proof', { name: 'Linde B.V.', kind: 'company', country: 'NL' });
    await put('eik-proof', { name: 'Eik B.V.', kind: 'company', country: 'NL', requireVerifiedConsent: true });
    const consent = async (entityId: string, phone: string, at: string, extra: Record<string, unknown>) => {
      const r = await api.call('POST', '/v1/consents', { entityId, phone, at, channel: 'phone', status: 'granted', products: ['energy'], ...extra });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().id as string;
    };
    const dossier = async (phone: string, entityId: string) => (await api.call('GET', `/v1/proof?phone=${encodeURIComponent(phone)}&entityId=${entityId}`)).json();
    const form = { method: 'web_form', wording: 'Ja, Linde mag mij bellen over energie.', url: 'https://linde.example/form', ip: '198.51.100.7' };
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0';

    // Complete: who, how (with the browser), verified by SMS before any call.
    const full = await consent('linde-proof', '+31612349101', '2026-11-20T10:00:00+01:00', {
      source: { ...form, userAgent: ua, verifiedAt: '2026-11-20T10:04:00+01:00', verificationMethod: 'sms' },
      person: { name: ' Ayşe Şahin ', reference: 'CRM-1' },
    });
    const d1 = await dossier('+31612349101', 'linde-proof');
    expect(d1.consents[0]).toMatchObject({ id: full, state: 'active', gaps: [], person: { name: 'Ayşe Şahin', reference: 'CRM-1' }, source: { userAgent: ua, verificationMethod: 'sms' } });
    const iso = (await api.call('GET', `/v1/consents/${full}/proof?format=iso27560`)).json();
    expect(iso.parties).toContainEqual(expect.objectContaining({ party_id: 'CRM-1', party_name: 'Ayşe Şahin', party_role: 'pii_principal' }));
    expect(iso.extension.optline).toMatchObject({ verification_method: 'sms', user_agent: ua });
    expect(iso.events.find((e: { event_type: string }) => e.event_type === 'consent_verified').event_by).toBe('pii_principal (sms)');
    const pdf = (await pdfText((await api.call('GET', `/v1/consents/${full}/proof?format=pdf`)).rawPayload)).pages.join('\n');
    // Printed as written: the PDF embeds fonts beyond Windows-1252 (ş, Ş).
    for (const needle of ['Ayşe Şahin, reference CRM-1', 'by SMS', 'Firefox/133.0']) expect(pdf, needle).toContain(needle);

    // Only the number, no browser, verified without saying how.
    await consent('linde-proof', '+31612349102', '2026-11-20T10:00:00+01:00', { source: { ...form, verifiedAt: '2026-11-20T10:04:00+01:00' } });
    expect((await dossier('+31612349102', 'linde-proof')).consents[0].gaps).toEqual([
      'person: only the number is on record, not who gave the consent (a name or a customer reference); the proof must be tied to the person called (NL-10)',
      "user agent: the browser's User-Agent is not on record",
      'verification: how it was confirmed (SMS, e-mail, app, recorded call or letter) is not on record (NL-10)',
    ]);

    // The proof's "state now" reads NL-10 as the engine does, for a caller requiring verified consent:
    // a recorded call verifies, and a consent from before 2025-07-01 needs no verification.
    const recorded = await consent('eik-proof', '+31612349103', '2026-11-20T10:00:00+01:00', { source: { method: 'agent_call', agentId: 'a7', recordingRef: 'rec://eik/1' }, person: { name: 'K. Mulder' } });
    const older = await consent('eik-proof', '+31612349104', '2024-03-01T10:00:00+01:00', { source: { method: 'agent_call', agentId: 'a7', callId: 'c-2' }, person: { reference: 'EIK-9' } });
    const unverified = await consent('eik-proof', '+31612349105', '2026-11-20T10:00:00+01:00', { source: { method: 'agent_call', agentId: 'a7', callId: 'c-3' }, person: { name: 'L. Smit' } });
    for (const [phone, id, state] of [['+31612349103', recorded, 'active'], ['+31612349104', older, 'active'], ['+31612349105', unverified, 'not_valid']] as const) {
      const d = await dossier(phone, 'eik-proof');
      expect(d.consents[0], phone).toMatchObject({ id, state });
      expect(d.consents[0].gaps.some((g: string) => g.startsWith('verification')), phone).toBe(phone === '+31612349105');
      const engine = (await api.call('POST', '/v1/decisions', { entityId: 'eik-proof', phone, at: '2026-11-27T11:00:00+01:00', productCategory: 'energy' })).json();
      expect(engine.allowed, phone).toBe(state === 'active');
    }

    // DE-4: documented when given – not a day later; a copy imported from a lead supplier was documented there.
    const de = async (phone: string, at: string, method: string) => {
      await consent('kraft', phone, at, { products: ['strom'], source: { method, agentId: 'a1', callId: 'c1', wording: 'Ja.' }, person: { name: 'P. Braun' } });
      return (await dossier(phone, 'kraft')).consents[0].gaps;
    };
    expect(await de('+4915112349106', '2026-11-01T10:00:00+01:00', 'agent_call')).toEqual(['documentation: recorded 26 days after it was given; §7a UWG requires documenting a consent when it is given (DE-4)']);
    // … but its number is not tied to the person until confirmed on the phone (DE-3).
    expect(await de('+4915112349107', '2026-11-01T10:00:00+01:00', 'import')).toEqual([
      'number: it was given by import and was never confirmed on the phone (by SMS or a recorded call), so it does not tie the number to the person (DE-3)',
    ]);
    expect(await de('+4915112349108', '2026-11-27T09:30:00+01:00', 'agent_call')).toEqual([]);

    // Bad input: a verification method with no moment, a person with no name or reference, an unknown field.
    for (const [status, extra] of [
      [422, { source: { method: 'web_form', verificationMethod: 'sms' } }],
      [400, { person: { name: '' } }],
      [400, { person: { name: 'X', birthday: '1970-01-01' } }],
      [400, { source: { method: 'web_form', verifiedAt: '2026-11-20T10:04:00+01:00', verificationMethod: 'fax' } }],
    ] as const) {
      const r = await api.call('POST', '/v1/consents', { entityId: 'linde-proof', phone: '+31612349109', at: '2026-11-20T10:00:00+01:00', channel: 'phone', status: 'granted', ...extra });
      expect(r.statusCode, JSON.stringify(extra)).toBe(status);
      expect(r.headers['content-type']).toContain('application/problem+json');
    }

    // A recorded call is its own verification; a person may be given as null.
    for (const extra of [{ source: { method: 'agent_call', recordingRef: 'rec://linde/9', verificationMethod: 'recorded_call' } }, { person: null }]) {
      const r = await api.call('POST', '/v1/consents', { entityId: 'linde-proof', phone: '+31612349109', at: '2026-11-20T10:00:00+01:00', channel: 'phone', status: 'granted', ...extra });
      expect(r.statusCode, JSON.stringify(extra)).toBe(201);
    }

    // An erasure takes the person's name and reference with the rest of the record.
    expect((await api.call('POST', '/v1/erasures', { phone: '+31612349101', entityId: 'linde-proof' })).statusCode).toBeLessThan(300);
    const left = await api.app.store.db.selectFrom('events').select('payload').where('id', '=', full).executeTakeFirstOrThrow();
    expect(left.payload).not.toContain('ahin');
    expect(left.payload).not.toContain('CRM-1');
  });

  it('gives the times of other grounds as RFC 3339, and prints when a relationship ended', async () => {
    const phone = '+4915112349120';
    const r = await api.call('POST', '/v1/relationships', { phone, entityId: 'kraft', kind: 'purchase', productCategory: 'strom', startedAt: '2025-01-10T10:00:00+01:00', endedAt: '2025-03-01T00:00:00+01:00', informedAtCollection: true, optOutOfferedAtCollection: true });
    expect(r.statusCode, r.body).toBe(201);
    const d = (await proof(`phone=${encodeURIComponent(phone)}&entityId=kraft`, tokens.compliance)).json();
    expect(d.otherGrounds[0].data).toMatchObject({ startedAt: '2025-01-10T09:00:00.000Z', endedAt: '2025-02-28T23:00:00.000Z' });
    const pdf = await proof(`phone=${encodeURIComponent(phone)}&entityId=kraft&format=pdf`, tokens.compliance);
    expect((await pdfText(pdf.rawPayload)).pages.join(' ')).toContain('customer relationship (purchase, strom) ended 2025-02-28 23:00:00 UTC');
  });

  it('says which elements of prior express written consent a US record does not show (US-1, US-6), and calls a spoken one not valid', async () => {
    expect((await api.call('PUT', '/v1/entities/sunny-proof', { name: 'Sunny Solar Inc.', kind: 'company', country: 'US' })).statusCode).toBe(201);
    const give = async (phone: string, source: Record<string, unknown>) => {
      const r = await api.call('POST', '/v1/consents', { entityId: 'sunny-proof', phone, at: '2026-10-01T10:00:00-04:00', channel: 'phone', status: 'granted', source, person: { name: 'J. Doe' } });
      expect(r.statusCode, r.body).toBe(201);
      const d = (await api.call('GET', `/v1/proof?phone=${encodeURIComponent(phone)}&entityId=sunny-proof`)).json();
      return d.consents.find((c: { id: string }) => c.id === r.json().id);
    };
    const spoken = await give('+12125550171', { method: 'agent_call', agentId: 'a1', callId: 'c1', wording: 'Yes, call me.' });
    expect(spoken.state).toBe('not_valid');
    expect(spoken.gaps).toContain('written: taken by an agent on a call, so spoken, not written – no prior express written consent for telemarketing (US-1, US-6)');
    const noCondition = await give('+12125550172', { method: 'web_form', url: 'https://sunny.example/form', ip: '192.0.2.1', userAgent: 'UA', wording: 'I agree that Sunny Solar may call me at the number above with offers, using an autodialer.' });
    expect(noCondition.state).toBe('active');
    expect(noCondition.gaps).toContain('written agreement: the wording on record does not say that consent is no condition of purchase (US-6)');
    // The regulation's own words (47 CFR 64.1200(f)(9)(i)(B)) say it too.
    const regulation = await give('+12125550174', { method: 'web_form', url: 'https://sunny.example/form', ip: '192.0.2.1', userAgent: 'UA', wording: 'I agree to be called at the number above; I am not required to sign this agreement as a condition of purchasing any property, goods, or services.' });
    expect(regulation.gaps.some((g: string) => g.includes('US-6'))).toBe(false);
    const full = await give('+12125550173', { method: 'web_form', url: 'https://sunny.example/form', ip: '192.0.2.1', userAgent: 'UA', wording: 'I agree that Sunny Solar may call me at the number above. Consent is not a condition of purchase.' });
    expect(full.state).toBe('active');
    expect(full.gaps.some((g: string) => g.includes('US-6'))).toBe(false);
    // No controller e-mail set up: the receipt offers no withdrawal by e-mail.
    const receipt = (await api.call('GET', `/v1/consents/${full.id}/proof?format=kantara`)).json();
    expect(receipt.services[0].purposes[0].termination).toBe('Until withdrawn at any time by telling Sunny Solar Inc. (on a call or in writing)');
  });

  it('shows a call made although the engine refused it, with why and by which agent, in the dossier and the PDF', async () => {
    const phone = '+4915112349121';
    // No consent on record: the check refuses, the agent calls all the same.
    const check = (await api.call('POST', '/v1/decisions', { phone, entityId: 'kraft', at: '2026-11-02T10:00:00+01:00', productCategory: 'strom' })).json();
    expect(check).toMatchObject({ allowed: false, denials: ['no_basis'] });
    const made = await api.call('POST', '/v1/calls', { phone, entityId: 'kraft', at: '2026-11-02T10:01:00+01:00', decisionId: check.decisionId, agentId: 'agent-7' });
    expect(made.statusCode, made.body).toBe(201);
    const d = (await proof(`phone=${encodeURIComponent(phone)}&entityId=kraft`, tokens.compliance)).json();
    expect(d.calls).toEqual([expect.objectContaining({ allowed: false, denials: ['no_basis'], agentId: 'agent-7', refusedAtCall: false, purpose: 'marketing', decisionId: check.decisionId })]);
    const pdf = await proof(`phone=${encodeURIComponent(phone)}&entityId=kraft&format=pdf`, tokens.compliance);
    expect((await pdfText(pdf.rawPayload)).pages.join(' ').replace(/\s+/g, ' ')).toContain('MADE ALTHOUGH NOT ALLOWED (no_basis): call by');
  });

  it('compares the history with an earlier answer kept as a checkpoint', async () => {
    const before = (await api.call('GET', '/v1/audit/verify', undefined, tokens.compliance)).json();
    expect(before.heads.map((h: { chain: string }) => h.chain)).toContain('kraft');
    const again = await api.call('POST', '/v1/audit/verify', { checkpoint: before.heads }, tokens.compliance);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ ok: true, problems: [], checkpointChains: before.heads.length });
    // The earlier answer as it was kept, sent back whole.
    const kept = await api.call('POST', '/v1/audit/verify', before, tokens.compliance);
    expect(kept.statusCode, kept.body).toBe(200);
    expect(kept.json()).toMatchObject({ ok: true, checkpointChains: before.heads.length });
    // A checkpoint of a large deployment (5,000 chains, ~0.5 MB) fits the route's body limit; chains it
    // names beyond the key's entities are left out.
    const many = [...before.heads, ...Array.from({ length: 5000 }, (_, i) => ({ chain: `other-${i}`, seq: 3, hash: 'a'.repeat(64) }))];
    const large = await api.call('POST', '/v1/audit/verify', { checkpoint: many }, tokens.compliance);
    expect(large.statusCode, large.body.slice(0, 200)).toBe(200);
    expect(large.json().checkpointChains).toBe(before.heads.length);
    expect((await api.call('POST', '/v1/audit/verify', { checkpoint: before.heads, extra: 1 }, tokens.compliance)).statusCode).toBe(400);
    // A link that is not the one recorded: the history up to it was rewritten.
    const forged = before.heads.map((h: { chain: string }) => (h.chain === 'kraft' ? { ...h, hash: 'f'.repeat(64) } : h));
    const r = (await api.call('POST', '/v1/audit/verify', { checkpoint: forged }, tokens.compliance)).json();
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ chain: 'kraft', problem: 'rewritten' })]);
    const bad = await api.call('POST', '/v1/audit/verify', { checkpoint: [{ chain: 'kraft', seq: 0, hash: 'abc' }] }, tokens.compliance);
    expect(bad.statusCode).toBeGreaterThanOrEqual(400);
    expect(bad.statusCode).toBeLessThan(500);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json().errors.map((e: { path: string }) => e.path).join(' ')).toMatch(/checkpoint/);
  });

  it('notices in the dossier an event edited in the database', async () => {
    const row = await api.app.store.db.selectFrom('events').select(['id', 'payload']).where('id', '=', consentB).executeTakeFirstOrThrow();
    await api.app.store.db.updateTable('events').set({ payload: row.payload.replace('203.0.113.9', '203.0.113.99') }).where('id', '=', consentB).execute();
    try {
      const d = (await proof(`phone=${encodeURIComponent(DE)}&entityId=kraft`, tokens.compliance)).json();
      expect(d.integrity.ok).toBe(false);
      expect(d.integrity.problems).toEqual([expect.objectContaining({ eventId: consentB })]);
      expect(d.consents.find((c: { id: string }) => c.id === consentB).chain.contentOk).toBe(false);
    } finally {
      await api.app.store.db.updateTable('events').set({ payload: row.payload }).where('id', '=', consentB).execute();
    }
  });

  it('exports Kantara Consent Receipts v1.1 with every field of the list, typed', async () => {
    const r = await proof(`phone=${encodeURIComponent(DE)}&entityId=kraft&format=kantara`, tokens.compliance);
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.receipts).toHaveLength(2); // the two consents given; a withdrawal is no receipt
    // Beside the receipts, whether each consent still holds: A was withdrawn, B is in force.
    expect(body.states[consentA]).toMatchObject({ state: 'withdrawn', withdrawnAt: expect.any(String) });
    expect(body.states[consentB]).toEqual({ state: 'active', withdrawnAt: null, partlyWithdrawn: [] });
    for (const [i, receipt] of body.receipts.entries()) checkKantara(receipt, `receipts[${i}]`);
    const a = body.receipts.find((x: { consentReceiptID: string }) => x.consentReceiptID === consentA);
    expect(a).toMatchObject({
      jurisdiction: 'DE',
      consentTimestamp: Date.parse('2026-01-10T09:30:00+01:00') / 1000,
      piiPrincipalId: DE,
      policyUrl: 'https://kraftwerk.example/datenschutz',
      language: 'de',
      sensitive: false,
      spiCat: [],
    });
    expect(a.piiControllers[0]).toMatchObject({ piiController: 'Kraftwerk Strom GmbH', email: 'datenschutz@kraftwerk.example', piiControllerUrl: 'https://kraftwerk.example' });
    expect(a.collectionMethod).toContain('agent agent-0042');
    expect(a.services[0].purposes[0]).toMatchObject({ purposeCategory: ['6 - Marketing'], consentType: 'EXPLICIT', piiCategory: ['2 - Contact'], primaryPurpose: true, thirdPartyDisclosure: false });
    expect(a.piiControllers[0].address).toEqual({ streetAddress: 'Hauptstraße 1, 10115 Berlin', addressCountry: 'DE' });
    // Withdrawal by e-mail is offered only where the controller gives an address.
    expect(a.services[0].purposes[0].termination).toContain('by e-mail to datenschutz@kraftwerk.example');
    expect(a.services[0].purposes[0].purpose).toContain('strom');

    const one = await api.call('GET', `/v1/consents/${consentA}/proof?format=kantara`, undefined, tokens.compliance);
    expect(one.statusCode, one.body).toBe(200);
    checkKantara(one.json(), 'receipt');
    expect(one.json().consentReceiptID).toBe(consentA);
  });

  it('exports ISO/IEC TS 27560 records with the mandatory fields and the consent\'s events', async () => {
    const r = await proof(`phone=${encodeURIComponent(DE)}&entityId=kraft&format=iso27560`, tokens.compliance);
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.records).toHaveLength(2);
    for (const [i, rec] of body.records.entries()) checkIso(rec, `records[${i}]`);

    const one = await api.call('GET', `/v1/consents/${consentA}/proof?format=iso27560`, undefined, tokens.compliance);
    expect(one.statusCode, one.body).toBe(200);
    const rec = one.json();
    checkIso(rec, 'record');
    expect(rec.header).toMatchObject({ record_id: consentA, pii_principal_id: DE, record_status: 'withdrawn' });
    expect(rec.processing.language).toBe('de');
    expect(rec.processing.privacy_notice.text).toContain('Stromtarifen');
    expect(rec.processing.purposes[0]).toMatchObject({ jurisdiction: 'DE', pii_controllers: ['kraft'] });
    expect(rec.processing.purposes[0].lawful_basis).toContain('DE-1');
    expect(rec.processing.purposes[0].retention_period).toContain('DE-4');
    expect(rec.events.map((e: { event_type: string }) => e.event_type)).toEqual(['consent_given', 'consent_verified', 'consent_used', 'consent_used', 'consent_withdrawn']);
    expect(rec.events.map((e: { event_state: string }) => e.event_state)).toEqual(['dpv:ConsentGiven', 'dpv:ConsentGiven', 'dpv:ConsentGiven', 'dpv:ConsentGiven', 'dpv:ConsentWithdrawn']);
    expect(rec.events[2].event_id).toBe(calls[0]);
    expect(rec.events[2].chain).toMatchObject({ chain: 'kraft', linkOk: true });
    expect(rec.parties.map((p: { party_role: string }) => p.party_role)).toContain('pii_controller');
  });

  it('renders a PDF dossier that opens and reads back', async () => {
    const r = await proof(`phone=${encodeURIComponent(DE)}&entityId=kraft&format=pdf`, tokens.compliance);
    expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    expect(r.headers['content-type']).toBe('application/pdf');
    expect(r.headers['content-disposition']).toContain('attachment; filename="proof-_4915112345678-kraft.pdf"');
    const bytes = r.rawPayload;
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const { pages, info } = await pdfText(bytes);
    expect(info.Title).toBe(`Proof of consent ${DE}`);
    const all = pages.join('\n');
    for (const needle of [
      'Proof of consent - dossier',
      DE,
      'Kraftwerk Strom GmbH',
      consentA,
      consentB,
      'Dürfen wir Sie zu unseren Stromtarifen anrufen?',
      'agent-0042',
      'CALL-7731',
      'rec://2026/01/10/7731.wav',
      'Jonas Weber, reference KW-55120',
      'by a recorded call',
      '203.0.113.9',
      'https://kraftwerk.example/angebot',
      'withdrawn',
      calls[0]!,
      'DE-4',
      'GET /v1/audit/verify',
      'Integrity of the history',
    ]) {
      expect(all, `the PDF should contain "${needle}"`).toContain(needle);
    }
    const hash = (await api.app.store.db.selectFrom('events').select('hash').where('id', '=', consentA).executeTakeFirstOrThrow()).hash!;
    expect(all).toContain(hash);
    expect(pages[pages.length - 1]).toContain(`page ${pages.length} of ${pages.length}`);
  });

  it('exports one consent as PDF and JSON; a withdrawal has no receipt of its own', async () => {
    const pdf = await api.call('GET', `/v1/consents/${consentB}/proof?format=pdf`, undefined, tokens.compliance);
    expect(pdf.statusCode).toBe(200);
    const { pages } = await pdfText(pdf.rawPayload);
    expect(pages.join(' ')).toContain(consentB);
    expect(pages.join(' ')).not.toContain(consentA);
    const json = (await api.call('GET', `/v1/consents/${consentA}/proof`, undefined, tokens.compliance)).json();
    expect(json.consents.map((c: { id: string }) => c.id)).toEqual([consentA, withdrawal]);
    expect(json.calls).toHaveLength(2);
    const w = await api.call('GET', `/v1/consents/${withdrawal}/proof?format=kantara`, undefined, tokens.compliance);
    expect(w.statusCode).toBe(422);
  });

  it('keeps to the key\'s entities and roles', async () => {
    // A subsidiary's compliance key cannot ask for the parent's proof …
    expect((await proof(`phone=${encodeURIComponent(DE)}&entityId=kraft`, tokens.solarCompliance)).statusCode).toBe(403);
    // (another entity's consent is answered as unknown: its id does not confirm that it exists)
    expect((await api.call('GET', `/v1/consents/${consentA}/proof`, undefined, tokens.solarCompliance)).statusCode).toBe(404);
    // … and without an entity sees only its own records.
    const own = (await proof(`phone=${encodeURIComponent(DE)}`, tokens.solarCompliance)).json();
    expect(own.entities.map((e: { id: string }) => e.id)).toEqual(['kraft-solar']);
    expect(own.consents).toEqual([]);
    expect(own.objections).toHaveLength(1);
    expect(own.decisions[0]).toMatchObject({ entityId: 'kraft-solar', allowed: false });
    // Agents and supervisors do not export proof.
    for (const t of [tokens.agent, tokens.supervisor]) {
      expect((await proof(`phone=${encodeURIComponent(DE)}&entityId=kraft`, t)).statusCode).toBe(403);
      expect((await api.call('GET', `/v1/consents/${consentA}/proof`, undefined, t)).statusCode).toBe(403);
    }
    expect((await proof(`phone=${encodeURIComponent(DE)}`, null)).statusCode).toBe(401);
  });

  it('answers bad input with problem+json', async () => {
    const bad = await proof(`phone=${encodeURIComponent(DE)}&format=docx`, tokens.compliance);
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect((await proof('phone=12', tokens.compliance)).statusCode).toBe(422);
    expect((await api.call('GET', '/v1/consents/nope/proof', undefined, tokens.compliance)).statusCode).toBe(404);
    // A number with nothing on record: an empty dossier, not an error.
    const empty = (await proof(`phone=${encodeURIComponent(DE2)}&entityId=kraft`, tokens.compliance)).json();
    expect(empty).toMatchObject({ consents: [], calls: [], integrity: { ok: true, events: 0 } });
    expect(empty.decisions[0]).toMatchObject({ allowed: false, denials: ['no_basis'] });
  });
});
