/**
 * Every role × endpoint × in-scope/out-of-scope entity: 2xx only where the role may act and the
 * entity is the key's; 403 everywhere else. The expected roles are written out here, not read
 * from the server's permission table, so a change to either shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api.js';

const ROLES = ['admin', 'compliance', 'supervisor', 'agent', 'integration'] as const;
type Role = (typeof ROLES)[number];

let n = 0;
const uniquePhone = () => `+316130${String(++n).padStart(5, '0')}`;
const AT = '2026-11-01T10:00:00+01:00';

interface Endpoint {
  name: string;
  roles: Role[];
  /** Builds the request for an entity (the one in the key's scope, or another). */
  request: (entityId: string) => { method: 'GET' | 'POST' | 'PUT'; url: string; body?: unknown; csv?: string };
  /** Endpoints that take no entity: scope does not apply. */
  noEntity?: boolean;
}

const ENDPOINTS: Endpoint[] = [
  { name: 'PUT /v1/entities/{id}', roles: ['admin'], request: (e) => ({ method: 'PUT', url: `/v1/entities/${e}`, body: { name: e, kind: 'company', country: 'NL' } }) },
  { name: 'GET /v1/entities/{id}', roles: [...ROLES], request: (e) => ({ method: 'GET', url: `/v1/entities/${e}` }) },
  {
    name: 'POST /v1/consents',
    roles: ['admin', 'agent'],
    request: (e) => ({ method: 'POST', url: '/v1/consents', body: { entityId: e, channel: 'phone', status: 'granted', at: AT, phone: uniquePhone() } }),
  },
  { name: 'POST /v1/objections', roles: ['admin', 'agent'], request: (e) => ({ method: 'POST', url: '/v1/objections', body: { entityId: e, at: AT, phone: uniquePhone() } }) },
  {
    name: 'POST /v1/relationships',
    roles: ['admin', 'agent'],
    request: (e) => ({
      method: 'POST',
      url: '/v1/relationships',
      body: { entityId: e, phone: uniquePhone(), kind: 'purchase', productCategory: 'energy', startedAt: AT, informedAtCollection: true, optOutOfferedAtCollection: true },
    }),
  },
  { name: 'POST /v1/contact-requests', roles: ['admin', 'agent'], request: (e) => ({ method: 'POST', url: '/v1/contact-requests', body: { entityId: e, at: AT, phone: uniquePhone(), offer: 'solar' } }) },
  {
    name: 'POST /v1/presumed-consents',
    roles: ['admin', 'agent'],
    request: (e) => ({ method: 'POST', url: '/v1/presumed-consents', body: { entityId: e, at: AT, phone: uniquePhone(), justification: 'Asked for a quote at a trade fair.' } }),
  },
  { name: 'POST /v1/calls', roles: ['admin', 'agent', 'integration'], request: (e) => ({ method: 'POST', url: '/v1/calls', body: { entityId: e, at: AT, phone: uniquePhone() } }) },
  { name: 'POST /v1/decisions', roles: [...ROLES], request: (e) => ({ method: 'POST', url: '/v1/decisions', body: { entityId: e, phone: uniquePhone() } }) },
  {
    name: 'GET /v1/numbers/{phone}/history',
    roles: ['admin', 'compliance', 'supervisor', 'agent'],
    request: (e) => ({ method: 'GET', url: `/v1/numbers/${encodeURIComponent(uniquePhone())}/history?entityId=${e}` }),
  },
  // A reassignment voids every entity's facts about the number: no key scoped to entities may record one.
  { name: 'POST /v1/numbers/reassigned', roles: [], noEntity: true, request: () => ({ method: 'POST', url: '/v1/numbers/reassigned', body: { phone: uniquePhone(), at: AT } }) },
  { name: 'GET /v1/audit/verify', roles: ['admin', 'compliance'], noEntity: true, request: () => ({ method: 'GET', url: '/v1/audit/verify' }) },
  { name: 'POST /v1/audit/verify', roles: ['admin', 'compliance'], noEntity: true, request: () => ({ method: 'POST', url: '/v1/audit/verify', body: { checkpoint: [] } }) },
  { name: 'POST /v1/keys', roles: ['admin'], request: (e) => ({ method: 'POST', url: '/v1/keys', body: { role: 'agent', entityIds: [e] } }) },
  { name: 'GET /v1/keys', roles: ['admin'], noEntity: true, request: () => ({ method: 'GET', url: '/v1/keys' }) },
  { name: 'GET /v1/proof', roles: ['admin', 'compliance'], request: (e) => ({ method: 'GET', url: `/v1/proof?phone=${encodeURIComponent(uniquePhone())}&entityId=${e}&format=kantara` }) },
  { name: 'POST /v1/erasures', roles: ['admin', 'compliance'], request: (e) => ({ method: 'POST', url: '/v1/erasures', body: { phone: uniquePhone(), entityId: e } }) },
  { name: 'POST /v1/retention/run', roles: ['admin', 'compliance'], request: (e) => ({ method: 'POST', url: '/v1/retention/run', body: { dryRun: true, entityId: e } }) },
  { name: 'GET /v1/audit/decisions', roles: ['admin', 'compliance'], request: (e) => ({ method: 'GET', url: `/v1/audit/decisions?entityId=${e}` }) },
  { name: 'GET /v1/audit/keys', roles: ['admin', 'compliance'], noEntity: true, request: () => ({ method: 'GET', url: '/v1/audit/keys' }) },
  { name: 'GET /v1/dashboard', roles: ['admin', 'compliance', 'supervisor'], request: (e) => ({ method: 'GET', url: `/v1/dashboard?entityId=${e}` }) },
  // A bulk import is a migration: not an agent's work, though an agent records events one by one.
  { name: 'POST /v1/imports', roles: ['admin'], request: (e) => ({ method: 'POST', url: `/v1/imports?entityId=${e}&kind=objections`, csv: `phone,at\n${uniquePhone()},${AT}\n` }) },
  { name: 'GET /v1/imports', roles: ['admin', 'compliance', 'supervisor'], request: (e) => ({ method: 'GET', url: `/v1/imports?entityId=${e}` }) },
];

describe('roles and entity scope', () => {
  let api: TestApi;
  const tokens = {} as Record<Role, string>;

  beforeAll(async () => {
    api = await startApi();
    await api.call('PUT', '/v1/entities/mine', { name: 'Mine B.V.', kind: 'company', country: 'NL' });
    await api.call('PUT', '/v1/entities/theirs', { name: 'Theirs B.V.', kind: 'company', country: 'NL', parentId: 'mine' });
    for (const role of ROLES) {
      const r = await api.call('POST', '/v1/keys', { role, entityIds: ['mine'] });
      expect(r.statusCode, r.body).toBe(201);
      tokens[role] = r.json().token;
    }
  });
  afterAll(async () => api.close());

  const cases = ENDPOINTS.flatMap((ep) =>
    ROLES.flatMap((role) =>
      (ep.noEntity ? (['mine'] as const) : (['mine', 'theirs'] as const)).map((entity) => {
        const may = ep.roles.includes(role) && entity === 'mine';
        return [`${ep.name} as ${role} for ${entity === 'mine' ? 'its own entity' : "a subsidiary it is not scoped to"} → ${may ? '2xx' : '403'}`, ep, role, entity, may] as const;
      }),
    ),
  );

  it.each(cases)('%s', async (_name, ep, role, entity, may) => {
    const req = ep.request(entity);
    const r =
      req.csv === undefined
        ? await api.call(req.method, req.url, req.body, tokens[role])
        : await api.server.inject({ method: req.method, url: req.url, headers: { authorization: `Bearer ${tokens[role]}`, 'content-type': 'text/csv' }, payload: req.csv });
    if (may) {
      expect(r.statusCode, r.body).toBeGreaterThanOrEqual(200);
      expect(r.statusCode, r.body).toBeLessThan(300);
    } else {
      expect(r.statusCode, r.body).toBe(403);
      expect(r.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('hides another entity\'s decisions and history entries from a scoped key', async () => {
    const phone = uniquePhone();
    await api.call('POST', '/v1/objections', { entityId: 'theirs', at: AT, phone });
    await api.call('POST', '/v1/objections', { entityId: 'mine', at: AT, phone });
    const h = await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`, undefined, tokens.agent);
    expect(h.json().events.map((e: { entityId: string }) => e.entityId)).toEqual(['mine']);
    const d = (await api.call('POST', '/v1/decisions', { entityId: 'theirs', phone })).json();
    expect((await api.call('GET', `/v1/decisions/${d.decisionId}`, undefined, tokens.compliance)).statusCode).toBe(404);
  });

  it('leaves what reaches every entity – register copies, reassignments – to keys for every entity', async () => {
    const phone = uniquePhone();
    const reassign = await api.call('POST', '/v1/numbers/reassigned', { phone, at: AT }, tokens.admin);
    expect(reassign.statusCode).toBe(403);
    expect(reassign.json().detail).toMatch(/every entity/);
    const register = await api.server.inject({
      method: 'PUT',
      url: '/v1/registers/nl-bel-me-niet?country=NL&asOf=2021-06-01',
      headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'text/csv' },
      payload: `${phone}\n`,
    });
    expect(register.statusCode).toBe(403);
    expect((await api.call('GET', '/v1/registers')).json()).toEqual([]);
    // The key for every entity may.
    expect((await api.call('POST', '/v1/numbers/reassigned', { phone, at: AT })).statusCode).toBe(201);
  });

  it('lets an admin key make a group of companies only of entities it may act for', async () => {
    expect((await api.call('PUT', '/v1/entities/stranger', { name: 'Stranger B.V.', kind: 'company', country: 'NL' })).statusCode).toBe(201);
    // Attaching its own entity under another client's: refused, and the entity stays as it was.
    const r = await api.call('PUT', '/v1/entities/mine', { name: 'Mine B.V.', kind: 'company', country: 'NL', parentId: 'stranger' }, tokens.admin);
    expect(r.statusCode).toBe(403);
    expect((await api.call('GET', '/v1/entities/mine', undefined, tokens.admin)).json().parentId ?? null).toBeNull();
    // Nor can it learn which entity ids exist by trying them.
    expect((await api.call('PUT', '/v1/entities/mine', { name: 'Mine B.V.', kind: 'company', country: 'NL', parentId: 'nosuchco' }, tokens.admin)).statusCode).toBe(403);
    // '*' beside entity ids is refused, as by the command line (it would be listed as an entity).
    const mixed = await api.call('POST', '/v1/keys', { role: 'admin', entityIds: ['mine', '*'] });
    expect(mixed.statusCode).toBe(422);
    expect(mixed.json().errors).toEqual([{ path: 'entityIds', message: "'*' beside entity ids" }]);
    // A subsidiary's admin may update its entity as it is, naming the parent it already has.
    const sub = (await api.call('POST', '/v1/keys', { role: 'admin', entityIds: ['theirs'] })).json().token as string;
    const kept = await api.call('PUT', '/v1/entities/theirs', { name: 'Theirs B.V. (renamed)', kind: 'company', country: 'NL', parentId: 'mine' }, sub);
    expect(kept.statusCode, kept.body).toBe(200);
    expect(kept.json().parentId).toBe('mine');
  });

  it('lets an admin key see and revoke only keys within its own entities', async () => {
    const theirs = (await api.call('POST', '/v1/keys', { role: 'agent', entityIds: ['theirs'] })).json();
    const both = (await api.call('POST', '/v1/keys', { role: 'agent', entityIds: ['mine', 'theirs'] })).json();
    const mine = (await api.call('POST', '/v1/keys', { role: 'agent', entityIds: ['mine'] }, tokens.admin)).json();
    const listed = (await api.call('GET', '/v1/keys', undefined, tokens.admin)).json() as Array<{ id: string; entityIds: string[] }>;
    expect(listed.map((k) => k.id)).toContain(mine.id);
    expect(listed.every((k) => k.entityIds.every((e) => e === 'mine'))).toBe(true);
    // Another entity's key, a key that also covers another entity, the key for every entity: unknown to it.
    const all = (await api.call('GET', '/v1/keys')).json() as Array<{ id: string; entityIds: string[] }>;
    const everyEntity = all.find((k) => k.entityIds.includes('*'))!;
    for (const id of [theirs.id, both.id, everyEntity.id]) {
      expect((await api.call('DELETE', `/v1/keys/${id}`, undefined, tokens.admin)).statusCode).toBe(404);
    }
    expect((await api.call('GET', '/v1/entities/theirs', undefined, theirs.token)).statusCode).toBe(200);
    // Nor does the audit trail of keys show them to a compliance key of its entity.
    const audited = (await api.call('GET', '/v1/audit/keys?limit=500', undefined, tokens.compliance)).json().items as Array<{ keyId: string }>;
    expect(audited.map((e) => e.keyId)).toContain(mine.id);
    expect(audited.map((e) => e.keyId)).not.toContain(both.id);
    expect(audited.map((e) => e.keyId)).not.toContain(theirs.id);
    expect((await api.call('DELETE', `/v1/keys/${mine.id}`, undefined, tokens.admin)).statusCode).toBe(204);
    expect((await api.call('GET', '/v1/entities/mine', undefined, mine.token)).statusCode).toBe(401);
  });

  it('refuses an expired key', async () => {
    // Made when it was still good (the API refuses to make one that has expired already).
    const made = await api.app.store.createKey({ role: 'agent', entityIds: ['mine'], expiresAt: Date.parse('2020-01-01T00:00:00Z') }, Date.parse('2019-06-01T00:00:00Z'));
    expect((await api.call('GET', '/v1/entities/mine', undefined, made.token)).statusCode).toBe(401);
  });
});
