/**
 * The retention job removes exactly what is due: DE-4 keeps proof of a consent 5 years after its
 * last use (given, or the last call made on it), to the millisecond; entity settings per country;
 * objections become hashed suppression entries and keep refusing; the chain still verifies.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api.js';
import { freshDb, storeNames } from './helpers/stores.js';
import { makeEntity } from './helpers/facts.js';
import { assess } from '../src/service/retention.js';
import { relationshipTermEnd } from '../src/law/nl.js';

const DE_A = '+4915112345601'; // consent given, never used
const DE_B = '+4915112345602'; // consent used by a later call
const DE_C = '+4915112345603'; // objection
const NL_A = '+31612345601';
const NL_B = '+31612345602';

describe.each(storeNames())('retention on %s', (storeName) => {
  let api: TestApi;
  let now = Date.parse('2021-06-01T12:00:00Z');
  const ids: Record<string, string> = {};
  let complianceDe = '';
  let complianceNl = '';
  let agent = '';

  const post = async (url: string, body: unknown, token?: string) => {
    const r = await api.call('POST', url, body, token);
    expect(r.statusCode, r.body).toBeLessThan(300);
    return r.json();
  };
  const run = async (body: Record<string, unknown>, token?: string) => {
    const r = await api.call('POST', '/v1/retention/run', body, token);
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  };
  const erasedIds = async () => (await api.app.store.db.selectFrom('events').select('id').where('erased_at', 'is not', null).execute()).map((r) => r.id).sort();

  beforeEach(async () => {
    now = Date.parse('2021-06-01T12:00:00Z');
    api = await startApi({ db: await freshDb(storeName), clock: () => now });
    expect((await api.call('PUT', '/v1/entities/kraft', { name: 'Kraftwerk GmbH', kind: 'company', country: 'DE' })).statusCode).toBe(201);
    expect((await api.call('PUT', '/v1/entities/tulp', { name: 'Tulp Energie B.V.', kind: 'company', country: 'NL', retention: { NL: { months: 12 } } })).statusCode).toBe(201);
    complianceDe = (await post('/v1/keys', { role: 'compliance', entityIds: ['kraft'] })).token;
    complianceNl = (await post('/v1/keys', { role: 'compliance', entityIds: ['tulp'] })).token;
    agent = (await post('/v1/keys', { role: 'agent', entityIds: ['kraft', 'tulp'] })).token;

    const consent = (entityId: string, phone: string, at: string, products: string[]) =>
      post('/v1/consents', { entityId, phone, at, channel: 'phone', status: 'granted', products, source: { method: 'agent_call', agentId: 'a1', callId: 'c1', wording: 'Ja.' } });
    ids.deA = (await consent('kraft', DE_A, '2020-03-15T10:00:00Z', ['strom'])).id;
    ids.deB = (await consent('kraft', DE_B, '2020-03-15T10:00:00Z', ['strom'])).id;
    const d = await post('/v1/decisions', { entityId: 'kraft', phone: DE_B, at: '2021-06-01T12:00:00Z', productCategory: 'strom' });
    expect(d.allowed, JSON.stringify(d.reasons)).toBe(true);
    ids.deBCall = (await post('/v1/calls', { entityId: 'kraft', phone: DE_B, at: '2021-06-01T12:00:00Z', decisionId: d.decisionId })).id;
    ids.deC = (await post('/v1/objections', { entityId: 'kraft', phone: DE_C, at: '2020-01-01T00:00:00Z' })).id;
    ids.nlA = (await consent('tulp', NL_A, '2020-04-30T10:00:00Z', [])).id;
    ids.nlB = (await consent('tulp', NL_B, '2020-06-30T10:00:00Z', [])).id;
    await api.app.decisions.flush();
  });
  afterEach(async () => api.close());

  it('drops answers kept for Idempotency-Key replays once they are a day old', async () => {
    const keyed = (key: string) =>
      api.server.inject({
        method: 'POST',
        url: '/v1/decisions',
        headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json', 'idempotency-key': key },
        payload: JSON.stringify({ entityId: 'kraft', phone: DE_A }),
      });
    expect((await keyed('old-retry')).statusCode).toBe(200);
    now += 24 * 3600_000 - 1000;
    expect((await keyed('new-retry')).statusCode).toBe(200);
    now += 2000;
    await run({ dryRun: true }, complianceDe);
    const keys = async () => (await api.app.store.db.selectFrom('idempotency').select('key').execute()).map((r) => r.key).sort();
    expect(await keys()).toEqual(['new-retry', 'old-retry']);
    await run({ dryRun: false, entityId: 'kraft' }, complianceDe);
    expect(await keys()).toEqual(['new-retry']);
    // A nightly job may send no body at all.
    const bare = await api.server.inject({ method: 'POST', url: '/v1/retention/run', headers: { authorization: `Bearer ${complianceDe}` } });
    expect(bare.statusCode, bare.body).toBe(200);
  });

  it('keeps a consent until 5 years after its last use, to the millisecond (DE-4)', async () => {
    // DE_A's consent is due on 2025-03-15T10:00Z, five years after it was given.
    now = Date.parse('2025-03-15T09:59:59.999Z');
    let r = await run({ dryRun: true, entityId: 'kraft' }, complianceDe);
    expect(r.entities[0].items.map((i: { eventId: string }) => i.eventId)).toEqual([ids.deC]); // the 2020-01-01 objection only
    now = Date.parse('2025-03-15T10:00:00.000Z');
    r = await run({ dryRun: true, entityId: 'kraft' }, complianceDe);
    expect(r.entities[0].items.map((i: { eventId: string }) => i.eventId).sort()).toEqual([ids.deA, ids.deC].sort());
    expect(r.entities[0].items.find((i: { eventId: string }) => i.eventId === ids.deA)).toMatchObject({ type: 'consent', country: 'DE', months: 60, lastUse: '2020-03-15T10:00:00.000Z', dueAt: '2025-03-15T10:00:00.000Z' });
    expect(r.dryRun).toBe(true);
    expect(await erasedIds()).toEqual([]); // a dry run changes nothing

    // DE_B's consent was used on 2021-06-01T12:00Z: it and that call are kept until 2026-06-01T12:00Z.
    now = Date.parse('2026-06-01T11:59:59.999Z');
    r = await run({ entityId: 'kraft' }, complianceDe);
    expect(r.dryRun).toBe(false);
    expect(r.entities[0]).toMatchObject({ entityId: 'kraft', events: { consent: 1, objection: 1 }, suppressions: 1 });
    expect(await erasedIds()).toEqual([ids.deA, ids.deC].sort());

    now = Date.parse('2026-06-01T12:00:00.000Z');
    r = await run({ entityId: 'kraft' }, complianceDe);
    expect(r.entities[0]).toMatchObject({ events: { consent: 1, call: 1 }, suppressions: 0 });
    expect(await erasedIds()).toEqual([ids.deA, ids.deB, ids.deBCall, ids.deC].sort());
    // Nothing is due twice.
    expect((await run({ entityId: 'kraft' }, complianceDe)).totals).toEqual({ events: 0, suppressions: 0, decisions: 0 });
  });

  it('redacts the rows, records the run in the history, and the chain still verifies', async () => {
    now = Date.parse('2026-06-01T12:00:00.000Z');
    const r = await run({ entityId: 'kraft' }, complianceDe);
    const rows = await api.app.store.db.selectFrom('events').selectAll().where('id', 'in', [ids.deA, ids.deB, ids.deBCall, ids.deC]).execute();
    for (const row of rows) expect(row).toMatchObject({ phone: null, email: null, payload: '{"erased":true}', erased_at: '2026-06-01T12:00:00.000Z' });
    const recorded = await api.app.store.db.selectFrom('events').selectAll().where('id', 'in', r.entities[0].recordedAs).execute();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ type: 'retention', entity_id: 'kraft', phone: null });
    const payload = JSON.parse(recorded[0]!.payload);
    expect(payload.erased.sort()).toEqual([ids.deA, ids.deB, ids.deBCall, ids.deC].sort());
    expect(recorded[0]!.payload).not.toContain('+49');
    expect(await api.app.store.verifyHistory()).toMatchObject({ ok: true, problems: [] });
    // The numbers are gone from the event log.
    for (const phone of [DE_A, DE_B, DE_C]) expect((await api.app.store.history(phone)).events).toEqual([]);
  });

  it('keeps an objection in force as a hashed suppression entry', async () => {
    const before = await post('/v1/decisions', { entityId: 'kraft', phone: DE_C, at: '2026-06-01T12:00:00Z' });
    expect(before.denials).toContain('objected');
    now = Date.parse('2026-06-01T12:00:00.000Z');
    await run({ entityId: 'kraft' }, complianceDe);
    const after = await post('/v1/decisions', { entityId: 'kraft', phone: DE_C, at: '2026-06-01T13:00:00Z' });
    expect(after.allowed).toBe(false);
    expect(after.denials).toContain('objected');
    expect(after.reasons.find((x: { code: string }) => x.code === 'objected').detail).toContain('2020-01-01');
    const rows = await api.app.store.db.selectFrom('suppressions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ entity_id: 'kraft', reason: 'objection', at: '2020-01-01T00:00:00.000Z' });
    expect(JSON.stringify(rows)).not.toContain(DE_C.slice(1));
  });

  it('keeps a withdrawal of some products as an entry for those products only', async () => {
    await post('/v1/consents', { entityId: 'tulp', phone: NL_B, at: '2020-07-01T10:00:00Z', channel: 'phone', status: 'withdrawn', products: ['gas'] });
    // The withdrawal is due (12 months) and replaced by its suppression entry, which names what it did.
    now = Date.parse('2021-07-02T12:00:00Z');
    await run({ entityId: 'tulp' }, complianceNl);
    const entry = (await api.app.store.db.selectFrom('suppressions').selectAll().where('reason', '=', 'withdrawal').execute())[0]!;
    expect(entry).toMatchObject({ entity_id: 'tulp', products: '["gas"]' });
    // The engine sees it as the withdrawal it was: of gas, not of every call.
    const [fact] = await api.app.suppressions.factsFor(NL_B);
    expect(fact).toMatchObject({ type: 'consent', status: 'withdrawn', channel: 'phone', products: ['gas'] });
  });

  it('applies the entity\'s own term per country', async () => {
    // tulp keeps NL data 12 months: NL_A (given 2020-04-30) is due on 2021-04-30, NL_B on 2021-06-30.
    now = Date.parse('2021-06-01T12:00:00Z');
    const r = await run({ entityId: 'tulp' }, complianceNl);
    expect(r.entities[0].months).toMatchObject({ NL: 12, DE: 60 });
    expect(await erasedIds()).toEqual([ids.nlA]);
    const entity = (await api.call('GET', '/v1/entities/tulp')).json();
    expect(entity.retention).toEqual({ NL: { months: 12 } });
  });

  it('refuses a German term shorter than DE-4\'s five years', async () => {
    const r = await api.call('PUT', '/v1/entities/kraft', { name: 'Kraftwerk GmbH', kind: 'company', country: 'DE', retention: { DE: { months: 59 } } });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors[0]).toMatchObject({ path: 'retention.DE.months' });
    expect(r.json().errors[0].message).toContain('DE-4');
    expect((await api.call('PUT', '/v1/entities/kraft', { name: 'Kraftwerk GmbH', kind: 'company', country: 'DE', retention: { DE: { months: 72 }, NL: { months: 6 } } })).statusCode).toBe(200);
  });

  it('erases the audit lines of look-ups past their term', async () => {
    const d = await post('/v1/decisions', { entityId: 'tulp', phone: NL_B, at: '2021-06-01T12:00:00Z' });
    await api.app.decisions.flush();
    now = Date.parse('2022-06-01T12:00:00Z');
    const r = await run({ entityId: 'tulp' }, complianceNl);
    expect(r.entities[0].decisions).toBe(1);
    const stored = await api.app.store.getDecision(d.decisionId);
    expect(stored).toMatchObject({ phone: null, request: { erased: true } });
    expect(JSON.stringify(stored!.response)).not.toContain(NL_B);
    const shown = await api.call('GET', `/v1/decisions/${d.decisionId}`);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ decisionId: d.decisionId, phone: null, allowed: d.allowed });
  });

  it('runs for compliance and admin keys, within their entities', async () => {
    now = Date.parse('2026-06-01T12:00:00.000Z');
    expect((await api.call('POST', '/v1/retention/run', { dryRun: true }, agent)).statusCode).toBe(403);
    expect((await api.call('POST', '/v1/retention/run', { dryRun: true, entityId: 'kraft' }, complianceNl)).statusCode).toBe(403);
    const own = await run({ dryRun: true }, complianceNl);
    expect(own.entities.map((e: { entityId: string }) => e.entityId)).toEqual(['tulp']);
    const all = await run({ dryRun: true });
    expect(all.entities.map((e: { entityId: string }) => e.entityId).sort()).toEqual(['kraft', 'tulp']);
    expect((await api.call('POST', '/v1/retention/run', { dryRun: 'yes' })).statusCode).toBe(400);
  });
});

describe('retention of a customer relationship (NL-5)', () => {
  it('keeps a relationship for as long as the engine counts it: months on Amsterdam\'s calendar, not UTC\'s', () => {
    // Ended at Amsterdam midnight on 1 March 2021: 36 months later is 1 March 2024 there
    // (2024-02-29T23:00Z); months added in UTC would end it on 2024-02-28T23:00Z, a day early.
    const ended = Date.parse('2021-02-28T23:00:00Z');
    const entity = makeEntity({ id: 'tulp', country: 'NL', relationshipTermMonths: 36, retention: { NL: { months: 12 } } });
    const row = { id: 'rel-1', type: 'relationship', phone: '+31612345603', email: null, at: '2020-01-10T10:00:00.000Z', payload: JSON.stringify({ kind: 'contract', startedAt: Date.parse('2020-01-10T10:00:00Z'), endedAt: ended }) };
    const termEnd = relationshipTermEnd(ended, 36);
    expect(new Date(termEnd).toISOString()).toBe('2024-02-29T23:00:00.000Z');
    const [early] = assess(entity, [row], Date.parse('2024-02-29T12:00:00Z'));
    expect(early).toMatchObject({ due: false, dueAt: termEnd });
    expect(assess(entity, [row], termEnd)[0]).toMatchObject({ due: true });
  });

  it('keeps a US relationship while its EBR lasts (US-3: 18 months), whatever shorter terms the entity sets', () => {
    const ended = Date.parse('2025-01-01T17:00:00Z'); // noon in New York
    const entity = makeEntity({ id: 'solar', country: 'US', relationshipTermMonths: 1, retention: { US: { months: 1 } } });
    const row = { id: 'rel-us', type: 'relationship', phone: '+12125550123', email: null, at: '2024-01-01T17:00:00.000Z', payload: JSON.stringify({ kind: 'subscription', startedAt: Date.parse('2024-01-01T17:00:00Z'), endedAt: ended }) };
    const [a] = assess(entity, [row], Date.parse('2026-06-30T12:00:00Z'));
    expect(a).toMatchObject({ due: false, dueAt: Date.parse('2026-07-01T16:00:00Z') });
  });
});
