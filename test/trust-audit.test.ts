/**
 * The audit trail: who looked up which number, when, with which answer – scoped to the key's
 * entities, filtered and paged – and API keys created and revoked, in the hash-chained history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api.js';
import { freshDb, storeNames } from './helpers/stores.js';

const P1 = '+31612340201';
const P2 = '+31612340202';
const T0 = Date.parse('2026-11-27T09:00:00Z');

describe.each(storeNames())('audit trail on %s', (storeName) => {
  let api: TestApi;
  let now = T0;
  const tokens: Record<string, string> = {};
  const keyIds: Record<string, string> = {};
  const decisions: string[] = [];

  beforeAll(async () => {
    api = await startApi({ db: await freshDb(storeName), clock: () => now });
    for (const id of ['acme', 'beta']) expect((await api.call('PUT', `/v1/entities/${id}`, { name: id.toUpperCase(), kind: 'company', country: 'NL' })).statusCode).toBe(201);
    for (const [name, role, entityIds] of [
      ['agentA', 'agent', ['acme']],
      ['agentB', 'agent', ['beta']],
      ['complianceA', 'compliance', ['acme']],
      ['complianceB', 'compliance', ['beta']],
    ] as const) {
      const r = await api.call('POST', '/v1/keys', { role, entityIds, label: name });
      expect(r.statusCode, r.body).toBe(201);
      tokens[name] = r.json().token;
      keyIds[name] = r.json().id;
    }
    await api.call('POST', '/v1/objections', { entityId: 'acme', phone: P1, at: '2026-01-01T10:00:00Z' });
    // Four look-ups, a minute apart: who, which number, which entity.
    for (const [token, entityId, phone] of [
      [tokens.agentA, 'acme', P1],
      [tokens.agentA, 'acme', P2],
      [tokens.agentB, 'beta', P1],
      [undefined, 'acme', '0612340201'],
    ] as const) {
      now += 60_000;
      const r = await api.call('POST', '/v1/decisions', { entityId, phone, productCategory: 'energy' }, token);
      expect(r.statusCode, r.body).toBe(200);
      decisions.push(r.json().decisionId);
      await api.app.decisions.flush();
    }
  });
  afterAll(async () => api.close());

  const audit = (query: string, token = tokens.complianceA) => api.call('GET', `/v1/audit/decisions?${query}`, undefined, token);

  it('lists who looked up which number, when, with which answer and inputs, newest first', async () => {
    const r = await audit('entityId=acme');
    expect(r.statusCode, r.body).toBe(200);
    const { items, nextCursor } = r.json();
    expect(nextCursor).toBeNull();
    expect(items.map((i: { decisionId: string }) => i.decisionId)).toEqual([decisions[3], decisions[1], decisions[0]]);
    const first = items[2];
    expect(first).toMatchObject({
      entityId: 'acme',
      phone: P1,
      recordedAt: new Date(T0 + 60_000).toISOString(),
      key: { id: keyIds.agentA, role: 'agent', label: 'agentA' },
      allowed: false,
      denials: ['objected'],
      basis: null,
      request: { phone: P1, entityId: 'acme', productCategory: 'energy' },
      response: { decisionId: decisions[0], denials: ['objected'] },
    });
    expect(first.rulesVersion).toMatch(/^\d{4}-\d{2}-\d{2}\./);
    expect(first.response.reasons.some((x: { rule: string }) => x.rule === 'NL-8')).toBe(true);
    expect(items[0].key).toMatchObject({ role: 'admin' });
  });

  it('filters by number (national format read in the entity\'s country) and by time', async () => {
    const byPhone = (await audit('entityId=acme&phone=0612340201')).json().items;
    expect(byPhone.map((i: { decisionId: string }) => i.decisionId)).toEqual([decisions[3], decisions[0]]);
    const from = new Date(T0 + 120_000).toISOString();
    const to = new Date(T0 + 240_000).toISOString();
    const window = (await audit(`entityId=acme&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)).json().items;
    expect(window.map((i: { decisionId: string }) => i.decisionId)).toEqual([decisions[1]]);
  });

  it('pages with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ decisionId: string }>; nextCursor: string | null } = (await audit(`entityId=acme&limit=1${cursor ? `&cursor=${cursor}` : ''}`)).json();
      expect(page.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.items.map((i) => i.decisionId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([decisions[3], decisions[1], decisions[0]]);
    expect((await audit('entityId=acme&cursor=bm90LWEtY3Vyc29y')).statusCode).toBe(400);
    // Forged ones that decode to something Date.parse would take are refused too.
    for (const forged of [['1', 'x'], ['Tuesday, 1 Dec 2026', 'x'], ['2026-11-28T10:00:00.000Z', '']]) {
      expect((await audit(`entityId=acme&cursor=${Buffer.from(JSON.stringify(forged)).toString('base64url')}`)).statusCode, forged[0]).toBe(400);
    }
    expect((await audit('entityId=acme&limit=0')).statusCode).toBe(400);
  });

  it('is scoped to the key\'s entities: filtered without an entity, 403 for another', async () => {
    const mine = (await audit('')).json().items;
    expect(mine.every((i: { entityId: string }) => i.entityId === 'acme')).toBe(true);
    expect(mine).toHaveLength(3);
    const theirs = (await audit('', tokens.complianceB)).json().items;
    expect(theirs.map((i: { decisionId: string }) => i.decisionId)).toEqual([decisions[2]]);
    expect((await audit(`phone=${encodeURIComponent(P1)}`, tokens.complianceB)).json().items).toHaveLength(1);
    expect((await audit('entityId=beta')).statusCode).toBe(403);
    // Agents and supervisors cannot read the audit trail.
    expect((await audit('entityId=acme', tokens.agentA)).statusCode).toBe(403);
    const admin = (await api.call('GET', '/v1/audit/decisions')).json().items;
    expect(admin).toHaveLength(4);
  });

  it('records API keys created and revoked in the hash-chained history', async () => {
    const admin = (await api.call('GET', '/v1/keys')).json().find((k: { label: string }) => k.label?.startsWith('bootstrap'));
    const created = await api.call('POST', '/v1/keys', { role: 'integration', entityIds: ['acme'], label: 'dialer' });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json();
    expect((await api.call('DELETE', `/v1/keys/${id}`)).statusCode).toBe(204);

    const r = await api.call('GET', '/v1/audit/keys', undefined, tokens.complianceA);
    expect(r.statusCode, r.body).toBe(200);
    const items = r.json().items as Array<Record<string, unknown>>;
    const forKey = items.filter((i) => i.keyId === id);
    expect(forKey.map((i) => i.type)).toEqual(['key_revoked', 'key_created']);
    expect(forKey[1]).toMatchObject({ role: 'integration', entityIds: ['acme'], label: 'dialer', by: admin.id, chain: { chain: '-' } });
    expect(JSON.stringify(items)).not.toContain(token);
    // beta's keys are not acme's business.
    expect(items.some((i) => i.keyId === keyIds.complianceB)).toBe(false);
    expect(items.some((i) => i.keyId === keyIds.complianceA)).toBe(true);
    expect((await api.call('GET', '/v1/audit/keys', undefined, tokens.agentA)).statusCode).toBe(403);
    // No token or token hash is written to the history.
    const stored = await api.app.store.db.selectFrom('api_keys').select('token_hash').where('id', '=', id).executeTakeFirstOrThrow();
    const events = JSON.stringify(await api.app.store.db.selectFrom('events').selectAll().where('type', 'in', ['key_created', 'key_revoked']).execute());
    expect(events).not.toContain(stored.token_hash);
    expect(events).not.toContain(token);

    // The entries are in the chain: deleting one is found.
    expect((await api.app.store.verifyHistory('-')).ok).toBe(true);
    await api.app.store.db.deleteFrom('events').where('id', '=', forKey[1]!.eventId as string).execute();
    const v = await api.app.store.verifyHistory('-');
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toMatchObject({ chain: '-', problem: 'removed' });
  });
});
