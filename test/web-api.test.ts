import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { startApi, type TestApi } from './helpers/api.js';
import { freshDb, storeNames } from './helpers/stores.js';

/** Sign-in sessions, CSRF, /v1/me and the dashboard figures, through the HTTP API. */

const NOW = Date.parse('2026-11-28T10:00:00Z'); // a Saturday; ISO week 2026-W48 began on Monday 23 November
let now = NOW;
const clock = () => now;

let api: TestApi;
let agentToken: string;
let integrationToken: string;

function sessionCookie(res: LightMyRequestResponse): string {
  const header = res.headers['set-cookie'];
  const line = (Array.isArray(header) ? header : [header ?? '']).find((c) => c.startsWith('optline_session='));
  if (!line) throw new Error('no session cookie set');
  return line;
}

const cookieValue = (setCookie: string): string => setCookie.split(';')[0]!.split('=')[1]!;

function withCookie(method: 'GET' | 'POST' | 'DELETE', url: string, cookie: string, body?: unknown, headers: Record<string, string> = {}) {
  return api.server.inject({
    method,
    url,
    headers: { cookie: `optline_session=${cookie}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function signIn(token: string): Promise<{ cookie: string; csrf: string; setCookie: string; body: Record<string, unknown> }> {
  const res = await api.call('POST', '/v1/session', { apiKey: token }, null);
  expect(res.statusCode).toBe(201);
  const setCookie = sessionCookie(res);
  const body = res.json() as { session: { csrfToken: string } };
  return { cookie: cookieValue(setCookie), csrf: body.session.csrfToken, setCookie, body: body as unknown as Record<string, unknown> };
}

beforeAll(async () => {
  api = await startApi({ clock });
  for (const [id, body] of Object.entries({
    acme: { name: 'Acme Energie B.V.', kind: 'company', country: 'NL', relationshipTermMonths: 12 },
    hulp: { name: 'Stichting Hulp', kind: 'charity', country: 'NL' },
    other: { name: 'Other B.V.', kind: 'company', country: 'NL' },
  })) {
    expect((await api.call('PUT', `/v1/entities/${id}`, body)).statusCode).toBe(201);
  }
  const agent = await api.call('POST', '/v1/keys', { role: 'agent', entityIds: ['acme', 'hulp'], label: 'agent Anna' });
  agentToken = agent.json().token;
  integrationToken = (await api.call('POST', '/v1/keys', { role: 'integration', entityIds: ['acme'] })).json().token;

  const consent = (phone: string, when: string, channel: string, status = 'granted') =>
    api.call('POST', '/v1/consents', { entityId: 'acme', channel, status, at: when, phone, ...(channel === 'email' ? { email: 'x@example.org' } : {}), source: { method: 'agent_call', recordingRef: 'rec://1' } });
  // This week (W48): three phone consents, one e-mail consent, one phone withdrawal.
  for (const r of [
    await consent('+31611110001', '2026-11-23T09:00:00+01:00', 'phone'),
    await consent('+31611110002', '2026-11-24T09:00:00+01:00', 'phone'),
    await consent('+31611110003', '2026-11-27T16:00:00+01:00', 'phone'),
    await consent('+31611110004', '2026-11-25T09:00:00+01:00', 'email'),
    await consent('+31611110003', '2026-11-28T09:00:00+01:00', 'phone', 'withdrawn'),
    // W46: one SMS consent; and one twenty weeks ago, outside the twelve weeks shown.
    await consent('+31611110005', '2026-11-10T12:00:00+01:00', 'sms'),
    await consent('+31611110006', '2026-07-10T12:00:00+02:00', 'phone'),
  ]) {
    expect(r.statusCode).toBe(201);
  }
  await api.call('POST', '/v1/objections', { phone: '+31611110002', entityId: 'acme', at: '2026-11-26T10:00:00+01:00' });
  // Relationships: one stops counting in 22 days, one already expired, one ongoing since 2024.
  const rel = (phone: string, entityId: string, startedAt: string, endedAt: string | null, productCategory = 'energy', kind = 'subscription') =>
    api.call('POST', '/v1/relationships', { phone, entityId, kind, productCategory, startedAt, endedAt, informedAtCollection: true, optOutOfferedAtCollection: true });
  expect((await rel('+31622220001', 'acme', '2024-01-01T00:00:00Z', '2025-12-20T00:00:00Z')).statusCode).toBe(201);
  expect((await rel('+31622220002', 'acme', '2023-01-01T00:00:00Z', '2025-01-01T00:00:00Z')).statusCode).toBe(201);
  expect((await rel('+31622220003', 'acme', '2024-05-01T00:00:00Z', null)).statusCode).toBe(201);
  expect((await rel('+31622220004', 'hulp', '2024-05-01T00:00:00Z', null, 'donations', 'donation')).statusCode).toBe(201);
  // Checks: two allowed on consent, one refused for no basis, one for the objection.
  // (+31611110004 has only an e-mail consent: no basis for a call.)
  for (const phone of ['+31611110001', '+31611110004', '+31611110001', '+31633330001', '+31611110002']) {
    expect((await api.call('POST', '/v1/decisions', { phone, entityId: 'acme' })).statusCode).toBe(200);
  }
});

afterAll(async () => {
  await api?.close();
});

describe('sign-in sessions', () => {
  it('signs in with an API key: an HttpOnly, SameSite=Strict session cookie and a CSRF token', async () => {
    const { setCookie, body, cookie } = await signIn(agentToken);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(/; Max-Age=43200/);
    expect(setCookie).not.toMatch(/Secure/); // plain HTTP here; Secure over TLS or OPTLINE_SECURE_COOKIE=1
    expect(cookie.length).toBeGreaterThanOrEqual(40);
    expect(body.role).toBe('agent');
    expect((body.entities as Array<{ id: string }>).map((e) => e.id).sort()).toEqual(['acme', 'hulp']);
    expect(body.session).toMatchObject({ csrfToken: expect.any(String), expiresAt: '2026-11-28T22:00:00.000Z' });
    // Only a hash of the session id is stored.
    const rows = (await sql<{ id_hash: string }>`select * from sessions`.execute(api.app.store.db)).rows;
    expect(rows.some((r) => r.id_hash === createHash('sha256').update(cookie).digest('hex'))).toBe(true);
    expect(rows.some((r) => JSON.stringify(r).includes(cookie))).toBe(false);
  });

  it('refuses an unknown key with 401 problem+json and sets no cookie', async () => {
    const res = await api.call('POST', '/v1/session', { apiKey: 'not-a-key' }, null);
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect((await api.call('POST', '/v1/session', {}, null)).statusCode).toBe(400);
  });

  it('GET /v1/me answers for the cookie and for a bearer token', async () => {
    const { cookie, csrf } = await signIn(agentToken);
    const me = await withCookie('GET', '/v1/me', cookie);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ role: 'agent', label: 'agent Anna', session: { csrfToken: csrf }, serverTime: new Date(NOW).toISOString() });
    expect(me.json().permissions).toEqual(expect.arrayContaining(['decide', 'read', 'write_events', 'write_calls']));
    expect(me.json().permissions).not.toContain('manage');
    const bearer = await api.call('GET', '/v1/me', undefined, integrationToken);
    expect(bearer.statusCode).toBe(200);
    expect(bearer.json()).toMatchObject({ role: 'integration', session: null, entities: [{ id: 'acme', name: 'Acme Energie B.V.', kind: 'company', country: 'NL' }] });
    expect(bearer.json().permissions).not.toContain('read');
    expect((await api.call('GET', '/v1/me', undefined, null)).statusCode).toBe(401);
    // The key's entities in the order it names them: the first is the pages' default caller.
    const hulpFirst = (await api.call('POST', '/v1/keys', { role: 'agent', entityIds: ['hulp', 'acme'] })).json().token;
    expect((await api.call('GET', '/v1/me', undefined, hulpFirst)).json().entities.map((e: { id: string }) => e.id)).toEqual(['hulp', 'acme']);
    expect((await api.call('GET', '/v1/me')).json().entities.map((e: { id: string }) => e.id)).toEqual(['acme', 'other', 'hulp']); // every entity: by name
    expect((await withCookie('GET', '/v1/me', 'forged-session-id')).statusCode).toBe(401);
  });

  it('refuses changes made with the cookie but without the CSRF token', async () => {
    const { cookie, csrf } = await signIn(agentToken);
    const body = { phone: '+31611110001', entityId: 'acme' };
    const missing = await withCookie('POST', '/v1/decisions', cookie, body);
    expect(missing.statusCode).toBe(403);
    expect(missing.json().detail).toMatch(/X-CSRF-Token/);
    expect((await withCookie('POST', '/v1/decisions', cookie, body, { 'x-csrf-token': 'wrong' })).statusCode).toBe(403);
    // Another session's token does not fit this session.
    const other = await signIn(agentToken);
    expect((await withCookie('POST', '/v1/objections', cookie, { ...body, at: '2026-11-28T10:00:00Z' }, { 'x-csrf-token': other.csrf })).statusCode).toBe(403);
    const ok = await withCookie('POST', '/v1/decisions', cookie, body, { 'x-csrf-token': csrf });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().allowed).toBe(true);
    // Reading needs no token; a bearer token never needs one.
    expect((await withCookie('GET', '/v1/entities', cookie)).statusCode).toBe(200);
    expect((await api.call('POST', '/v1/decisions', body, agentToken)).statusCode).toBe(200);
    // The session carries its key's role: an agent may not manage keys.
    expect((await withCookie('POST', '/v1/keys', cookie, { role: 'agent', entityIds: ['acme'] }, { 'x-csrf-token': csrf })).statusCode).toBe(403);
  });

  it('signs out: needs the CSRF token, ends the session and clears the cookie', async () => {
    const { cookie, csrf } = await signIn(agentToken);
    expect((await withCookie('DELETE', '/v1/session', cookie)).statusCode).toBe(403);
    expect((await withCookie('GET', '/v1/me', cookie)).statusCode).toBe(200);
    const out = await withCookie('DELETE', '/v1/session', cookie, undefined, { 'x-csrf-token': csrf });
    expect(out.statusCode).toBe(204);
    expect(sessionCookie(out)).toMatch(/^optline_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
    expect((await withCookie('GET', '/v1/me', cookie)).statusCode).toBe(401);
    // Signing out without a live session just clears the cookie.
    expect((await withCookie('DELETE', '/v1/session', cookie)).statusCode).toBe(204);
  });

  it('ends sessions after 12 hours and when their key is revoked', async () => {
    const a = await signIn(agentToken);
    const key = (await api.call('POST', '/v1/keys', { role: 'supervisor', entityIds: ['acme'] })).json();
    const b = await signIn(key.token);
    try {
      now = NOW + 11 * 3600_000;
      expect((await withCookie('GET', '/v1/me', a.cookie)).statusCode).toBe(200);
      expect((await withCookie('GET', '/v1/me', b.cookie)).statusCode).toBe(200); // now cached
      expect((await api.call('DELETE', `/v1/keys/${key.id}`)).statusCode).toBe(204);
      // At once on this server, although sign-ins are cached for a few seconds.
      expect((await withCookie('GET', '/v1/me', b.cookie)).statusCode).toBe(401);
      now = NOW + 12 * 3600_000 + 1000;
      expect((await withCookie('GET', '/v1/me', a.cookie)).statusCode).toBe(401);
    } finally {
      now = NOW;
    }
  });
});

describe('GET /v1/dashboard', () => {
  it('counts consents given and withdrawn per ISO week and channel', async () => {
    const res = await api.call('GET', '/v1/dashboard?entityId=acme');
    expect(res.statusCode).toBe(200);
    const d = res.json();
    expect(d.timeZone).toBe('Europe/Amsterdam');
    expect(d.consentsByWeek).toHaveLength(12);
    expect(d.consentsByWeek[0]).toMatchObject({ week: '2026-W37', weekStart: '2026-09-07' });
    const byWeek = Object.fromEntries(d.consentsByWeek.map((w: { week: string }) => [w.week, w]));
    expect(byWeek['2026-W48']).toEqual({ week: '2026-W48', weekStart: '2026-11-23', given: { phone: 3, email: 1, sms: 0 }, withdrawn: { phone: 1, email: 0, sms: 0 } });
    expect(byWeek['2026-W46']).toMatchObject({ given: { phone: 0, email: 0, sms: 1 } });
    const total = d.consentsByWeek.reduce((s: number, w: { given: Record<string, number> }) => s + w.given.phone + w.given.email + w.given.sms, 0);
    expect(total).toBe(5); // the consent of July is outside the twelve weeks
    const short = (await api.call('GET', '/v1/dashboard?entityId=acme&weeks=1')).json();
    expect(short.consentsByWeek.map((w: { week: string }) => w.week)).toEqual(['2026-W48']);
  });

  it('counts decisions by basis and by denial', async () => {
    const d = (await api.call('GET', '/v1/dashboard?entityId=acme')).json();
    // Five checks in setup plus those the session tests made (all allowed on consent).
    expect(d.decisions.denied).toBe(3);
    expect(d.decisions.byDenial).toEqual([
      { denial: 'no_basis', count: 2 },
      { denial: 'objected', count: 1 },
    ]);
    expect(d.decisions.byBasis).toEqual([{ basis: 'consent', count: d.decisions.allowed }]);
    expect(d.decisions.allowed).toBeGreaterThanOrEqual(2);
    expect(d.decisions.total).toBe(d.decisions.allowed + d.decisions.denied);
    expect((await api.call('GET', '/v1/dashboard?entityId=hulp')).json().decisions).toMatchObject({ total: 0, byBasis: [], byDenial: [] });
  });

  it('lists customer relationships that stop counting as a basis within 90 days, by the law of the number called', async () => {
    // acme is a company: since 2026-07-01 a customer relationship is no basis for its calls (NL-3), so none runs out.
    expect((await api.call('GET', '/v1/dashboard?entityId=acme')).json().expiringRelationships).toMatchObject({ days: 90, total: 0, items: [] });
    const rel = (phone: string, entityId: string, kind: string, startedAt: string, endedAt: string | null) =>
      api.call('POST', '/v1/relationships', { phone, entityId, kind, productCategory: 'donations', startedAt, endedAt, informedAtCollection: true, optOutOfferedAtCollection: true });
    expect((await api.call('PUT', '/v1/entities/goed', { name: 'Stichting Goed', kind: 'charity', country: 'NL' })).statusCode).toBe(201);
    // A charity keeps it (NL-6): a donor whose support ended 2023-12-20 counts until 2026-12-20 (36 months, NL-5).
    expect((await rel('+31622220011', 'goed', 'donation', '2022-01-01T00:00:00Z', '2023-12-20T00:00:00+01:00')).statusCode).toBe(201);
    expect((await rel('+31622220012', 'goed', 'quote_request', '2023-01-01T00:00:00Z', '2023-12-20T00:00:00+01:00')).statusCode).toBe(201); // never a basis
    // A US number: 18 months after a single donation (US-3), not NL-5's term; an ended German relationship is no basis (DE-1).
    expect((await rel('+12125550188', 'goed', 'donation', '2025-07-01T12:00:00-04:00', null)).statusCode).toBe(201);
    expect((await rel('+4930123456', 'goed', 'donation', '2022-01-01T00:00:00Z', '2023-12-20T00:00:00+01:00')).statusCode).toBe(201);
    // A US inquiry with an end still to come counts from its start (3 months), as the engine does.
    expect((await rel('+12125550189', 'goed', 'quote_request', '2026-09-01T12:00:00-04:00', '2027-06-01T00:00:00Z')).statusCode).toBe(201);
    const x = (await api.call('GET', '/v1/dashboard?entityId=goed')).json().expiringRelationships;
    expect(x).toMatchObject({ days: 90, total: 3 });
    expect(x.items).toEqual([
      expect.objectContaining({ phone: '+12125550189', kind: 'quote_request', expiresAt: '2026-12-01T17:00:00.000Z', daysLeft: 3 }),
      expect.objectContaining({ phone: '+31622220011', kind: 'donation', endedAt: '2023-12-19T23:00:00.000Z', expiresAt: '2026-12-19T23:00:00.000Z', daysLeft: 21 }),
      expect.objectContaining({ phone: '+12125550188', kind: 'donation', endedAt: '2025-07-01T16:00:00.000Z', expiresAt: '2027-01-01T17:00:00.000Z', daysLeft: 34 }),
    ]);
    expect((await api.call('GET', '/v1/dashboard?entityId=goed&days=10')).json().expiringRelationships.total).toBe(1);
  });

  it('counts calls per agent, lists those made although the check refused them, and the opt-ins each agent recorded', async () => {
    expect((await api.call('PUT', '/v1/entities/callco', { name: 'Call Co B.V.', kind: 'company', country: 'NL' })).statusCode).toBe(201);
    const post = async (url: string, body: Record<string, unknown>) => {
      const r = await api.call('POST', url, { entityId: 'callco', ...body });
      expect(r.statusCode, r.body).toBeLessThan(300);
      return r.json();
    };
    await post('/v1/consents', { phone: '+31611130001', channel: 'phone', status: 'granted', at: '2026-11-27T09:00:00Z', source: { method: 'agent_call', agentId: 'agent-1', recordingRef: 'rec://7' } });
    const allowed = await post('/v1/decisions', { phone: '+31611130001', at: '2026-11-28T09:00:00Z' });
    const refused = await post('/v1/decisions', { phone: '+31611130002', at: '2026-11-28T09:10:00Z' });
    expect([allowed.allowed, refused.allowed]).toEqual([true, false]);
    await post('/v1/calls', { phone: '+31611130001', at: '2026-11-28T09:01:00Z', decisionId: allowed.decisionId, agentId: 'agent-1' });
    const againstRefusal = await post('/v1/calls', { phone: '+31611130002', at: '2026-11-28T09:11:00Z', decisionId: refused.decisionId, agentId: ' agent-2 ' });
    // No decision named: the engine's answer for the call's moment, which refuses it too.
    const unchecked = await post('/v1/calls', { phone: '+31611130003', at: '2026-11-28T09:20:00Z' });
    expect((await api.call('POST', '/v1/calls', { entityId: 'callco', phone: '+31611130003', at: '2026-11-28T09:20:00Z', agentId: '  ' })).statusCode).toBe(400);

    const calls = (await api.call('GET', '/v1/dashboard?entityId=callco')).json().calls;
    expect(calls).toMatchObject({ total: 3, refused: 2 });
    expect(calls.byAgent).toEqual([
      { agentId: 'agent-2', calls: 1, refused: 1, optIns: 0 },
      { agentId: null, calls: 1, refused: 1, optIns: 0 },
      { agentId: 'agent-1', calls: 1, refused: 0, optIns: 1 },
    ]);
    expect(calls.refusedItems).toEqual([
      { id: unchecked.id, phone: '+31611130003', at: '2026-11-28T09:20:00.000Z', agentId: null, decisionId: null, denials: ['no_basis'], allowedAtCheck: false },
      { id: againstRefusal.id, phone: '+31611130002', at: '2026-11-28T09:11:00.000Z', agentId: 'agent-2', decisionId: refused.decisionId, denials: ['no_basis'], allowedAtCheck: false },
    ]);
    // A call logged a few minutes after its check counts as made on it, though an objection was
    // recorded meanwhile (said in that call); one made on a check an hour old is asked again.
    const earlier = await post('/v1/decisions', { phone: '+31611130001', at: '2026-11-28T08:30:00Z' });
    expect(earlier.allowed).toBe(true);
    await post('/v1/consents', { phone: '+31611130004', channel: 'phone', status: 'granted', at: '2026-11-27T09:00:00Z', source: { method: 'agent_call', agentId: 'agent-3', recordingRef: 'rec://8' } });
    const another = await post('/v1/decisions', { phone: '+31611130004', at: '2026-11-28T08:30:00Z' });
    await post('/v1/objections', { phone: '+31611130001', at: '2026-11-28T08:35:00Z' });
    await post('/v1/objections', { phone: '+31611130004', at: '2026-11-28T08:35:00Z' });
    await post('/v1/calls', { phone: '+31611130004', at: '2026-11-28T08:40:00Z', decisionId: another.decisionId, agentId: 'agent-3' });
    const late = await post('/v1/calls', { phone: '+31611130001', at: '2026-11-28T09:45:00Z', decisionId: earlier.decisionId, agentId: 'agent-1' });
    const after = (await api.call('GET', '/v1/dashboard?entityId=callco')).json().calls;
    expect(after).toMatchObject({ total: 5, refused: 3 });
    expect(after.refusedItems[0]).toEqual({ id: late.id, phone: '+31611130001', at: '2026-11-28T09:45:00.000Z', agentId: 'agent-1', decisionId: earlier.decisionId, denials: ['objected'], allowedAtCheck: true });
    expect(after.byAgent.find((a: { agentId: string | null }) => a.agentId === 'agent-1')).toEqual({ agentId: 'agent-1', calls: 2, refused: 1, optIns: 1 });
    expect(after.byAgent.find((a: { agentId: string | null }) => a.agentId === 'agent-3')).toEqual({ agentId: 'agent-3', calls: 1, refused: 0, optIns: 1 });
    // A caller with no calls logged.
    expect((await api.call('GET', '/v1/dashboard?entityId=hulp')).json().calls).toMatchObject({ total: 0, refused: 0, byAgent: [], refusedItems: [] });
  });

  it('checks roles, scope and input', async () => {
    expect((await api.call('GET', '/v1/dashboard?entityId=other', undefined, agentToken)).statusCode).toBe(403);
    expect((await api.call('GET', '/v1/dashboard?entityId=acme', undefined, integrationToken)).statusCode).toBe(403);
    // The dashboard is for supervisors and compliance officers, not agents (issue 6's roles).
    expect((await api.call('GET', '/v1/dashboard?entityId=acme', undefined, agentToken)).statusCode).toBe(403);
    expect((await api.call('GET', '/v1/dashboard?entityId=acme&weeks=0')).statusCode).toBe(400);
    expect((await api.call('GET', '/v1/dashboard')).statusCode).toBe(400);
    expect((await api.call('GET', '/v1/dashboard?entityId=nobody')).statusCode).toBe(422);
  });
});

describe('GET /v1/dashboard/law-change', () => {
  it('shows which callable numbers lose their basis on 1 July 2026 and why, without recording decisions', async () => {
    await api.app.decisions.flush();
    const count = async () => Number((await api.app.store.db.selectFrom('decisions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const res = await api.call('GET', '/v1/dashboard/law-change?entityId=acme');
    expect(res.statusCode).toBe(200);
    const x = res.json();
    // No later change is known for NL, so the latest one is shown (an audit view).
    expect(x).toMatchObject({ date: '2026-07-01', change: { id: 'nl-relationship-narrowed', rule: 'NL-3', jurisdiction: 'NL' }, before: '2026-06-30T10:00:00.000Z', after: '2026-07-01T10:00:00.000Z' });
    expect(x.changes.map((c: { date: string; upcoming: boolean }) => [c.date, c.upcoming])).toEqual([
      ['2021-07-01', false],
      ['2026-07-01', false],
    ]);
    // Numbers with acme facts by then: +31622220001 (ended 2025-12-20, counts until 2026-12-20),
    // +31622220002 (expired 2026-01-01), +31622220003 (ongoing) and +31611110006 (consent of 10 July: not yet).
    expect(x.numbersChecked).toBe(3);
    expect(x.callableBefore).toBe(2);
    expect(x.callableAfter).toBe(0);
    expect(x.lost).toBe(2);
    expect(x.lostByBasis).toEqual([{ basis: 'customer_relationship', count: 2 }]);
    expect(x.lostByReason).toEqual([{ code: 'relationship_exception_ended', rule: 'NL-3', count: 2, example: expect.stringMatching(/1 July 2026/) }]);
    expect(x.examples.map((e: { phone: string }) => e.phone).sort()).toEqual(['+31622220001', '+31622220003']);
    expect(x.examples[0].denialsAfter).toEqual(['no_basis']);
    await api.app.decisions.flush();
    expect(await count()).toBe(before);
  });

  it('keeps the exception for a charity, and compares any date asked for', async () => {
    const charity = (await api.call('GET', '/v1/dashboard/law-change?entityId=hulp&date=2026-07-01')).json();
    expect(charity).toMatchObject({ numbersChecked: 1, callableBefore: 1, callableAfter: 1, lost: 0, lostByReason: [] });
    const plain = (await api.call('GET', '/v1/dashboard/law-change?entityId=acme&date=2026-03-02')).json();
    expect(plain).toMatchObject({ date: '2026-03-02', change: null, lost: 0, callableBefore: 2, callableAfter: 2 });
    expect((await api.call('GET', '/v1/dashboard/law-change?entityId=acme&date=2026-13-01')).statusCode).toBe(400);
    expect((await api.call('GET', '/v1/dashboard/law-change?entityId=other', undefined, agentToken)).statusCode).toBe(403);
  });
});

describe('OpenAPI and pages', () => {
  it('documents the new endpoints from their schemas', async () => {
    const doc = (await api.call('GET', '/v1/openapi.json')).json();
    for (const p of ['/v1/session', '/v1/me', '/v1/dashboard', '/v1/dashboard/law-change']) expect(doc.paths[p], p).toBeDefined();
    expect(doc.components.securitySchemes.session).toEqual({ type: 'apiKey', in: 'cookie', name: 'optline_session' });
    expect(doc.paths['/v1/dashboard'].get.responses['200'].content['application/json'].schema.properties).toHaveProperty('consentsByWeek');
  });

  it('serves the built pages with a strict content security policy, or says how to build them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-dist-'));
    const saved = process.env.OPTLINE_WEB_DIR;
    try {
      mkdirSync(join(dir, 'assets'));
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Optline</title><div id="root"></div>');
      writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
      process.env.OPTLINE_WEB_DIR = dir;
      const built = await startApi();
      try {
        for (const path of ['/', '/dashboard', '/?lang=nl']) {
          const page = await built.server.inject({ method: 'GET', url: path });
          expect(page.statusCode, path).toBe(200);
          expect(page.headers['content-type']).toMatch(/text\/html/);
          const csp = String(page.headers['content-security-policy']).split(';').map((d) => d.trim());
          expect(csp).toEqual(expect.arrayContaining(["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"]));
          expect(page.headers['cache-control']).toBe('no-cache');
          expect(page.body).toContain('<div id="root">');
        }
        const asset = await built.server.inject({ method: 'GET', url: '/assets/index-abc.js' });
        expect(asset.statusCode).toBe(200);
        expect(asset.headers['cache-control']).toMatch(/immutable/);
        expect((await built.server.inject({ method: 'GET', url: '/assets/nope.js' })).statusCode).toBe(404);
      } finally {
        await built.close();
      }
      process.env.OPTLINE_WEB_DIR = join(dir, 'missing');
      const bare = await startApi();
      try {
        const page = await bare.server.inject({ method: 'GET', url: '/' });
        expect(page.statusCode).toBe(503);
        expect(page.body).toMatch(/npm run build:web/);
      } finally {
        await bare.close();
      }
    } finally {
      if (saved === undefined) delete process.env.OPTLINE_WEB_DIR;
      else process.env.OPTLINE_WEB_DIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(storeNames())('calls by agent on %s', (storeName) => {
  it('are counted by the database, per agent, with the refused ones listed', async () => {
    const local = await startApi({ db: await freshDb(storeName), clock: () => NOW });
    try {
      const post = async (url: string, body: Record<string, unknown>) => {
        const r = await local.call('POST', url, { entityId: 'acme', ...body });
        expect(r.statusCode, r.body).toBeLessThan(300);
        return r.json();
      };
      expect((await local.call('PUT', '/v1/entities/acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' })).statusCode).toBe(201);
      await post('/v1/consents', { phone: '+31611140001', channel: 'phone', status: 'granted', at: '2026-11-27T09:00:00Z', source: { method: 'agent_call', agentId: ' agent-9 ', recordingRef: 'rec://9' } });
      await post('/v1/consents', { phone: '+31611140002', channel: 'email', status: 'granted', at: '2026-11-27T09:00:00Z', email: 'x@example.org', source: { method: 'agent_call', agentId: 'agent-9' } });
      const ok = await post('/v1/decisions', { phone: '+31611140001', at: '2026-11-28T09:00:00Z' });
      const no = await post('/v1/decisions', { phone: '+31611140003', at: '2026-11-28T09:00:00Z' });
      await post('/v1/calls', { phone: '+31611140001', at: '2026-11-28T09:01:00Z', decisionId: ok.decisionId, agentId: 'agent-9' });
      const bad = await post('/v1/calls', { phone: '+31611140003', at: '2026-11-28T09:02:00Z', decisionId: no.decisionId });
      // A call recorded before calls kept their answer: the decision it names says it was refused.
      const [legacy] = await local.app.store.appendEvents(
        [{ fact: { type: 'call', id: '', entityId: 'acme', at: Date.parse('2026-11-28T08:59:00Z'), decisionId: no.decisionId, basis: null, evidence: [] }, phone: '+31611140003' }],
        NOW,
      );
      const dash = await local.call("GET", "/v1/dashboard?entityId=acme");
      expect(dash.statusCode, dash.body).toBe(200);
      const calls = dash.json().calls;
      expect(calls).toMatchObject({ total: 3, refused: 2 });
      expect(calls.byAgent).toEqual([
        { agentId: null, calls: 2, refused: 2, optIns: 0 },
        { agentId: 'agent-9', calls: 1, refused: 0, optIns: 1 }, // the e-mail consent is no phone opt-in
      ]);
      expect(calls.refusedItems).toEqual([
        { id: bad.id, phone: '+31611140003', at: '2026-11-28T09:02:00.000Z', agentId: null, decisionId: no.decisionId, denials: ['no_basis'], allowedAtCheck: false },
        { id: legacy, phone: '+31611140003', at: '2026-11-28T08:59:00.000Z', agentId: null, decisionId: no.decisionId, denials: ['no_basis'], allowedAtCheck: false },
      ]);
    } finally {
      await local.close();
    }
  });
});
