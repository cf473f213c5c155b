import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api.js';
import { freshDb, storeNames } from './helpers/stores.js';
import { ConsentBody, DecisionBody, ObjectionBody } from '../src/api/schemas.js';
import { IdempotencyConflict, type NewEvent } from '../src/store/repository.js';
import { toProblem } from '../src/api/problem.js';

describe.each(storeNames())('API on %s', (storeName) => {
  let api: TestApi;
  let agentToken: string;
  let integrationToken: string;
  let otherAgentToken: string;

  const NL = '+31612345678';

  beforeAll(async () => {
    api = await startApi({ db: await freshDb(storeName) });
    for (const [id, body] of Object.entries({
      acme: { name: 'Acme Energie B.V.', kind: 'company', country: 'NL' },
      'acme-sub': { name: 'Acme Zon B.V.', kind: 'company', country: 'NL', parentId: 'acme' },
      goede: { name: 'Stichting Goede Doel', kind: 'charity', country: 'NL' },
    })) {
      const r = await api.call('PUT', `/v1/entities/${id}`, body);
      expect(r.statusCode, r.body).toBe(201);
    }
    const mk = async (role: string, entityIds: string[]) => {
      const r = await api.call('POST', '/v1/keys', { role, entityIds });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().token as string;
    };
    agentToken = await mk('agent', ['acme']);
    integrationToken = await mk('integration', ['acme']);
    otherAgentToken = await mk('agent', ['acme-sub']);
  });
  afterAll(async () => api.close());

  const decide = async (body: Record<string, unknown>, token?: string) => {
    const r = await api.call('POST', '/v1/decisions', { entityId: 'acme', ...body }, token);
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  };

  describe('entities', () => {
    it('creates with 201, updates with 200, and returns the entity with defaults', async () => {
      const created = await api.call('PUT', '/v1/entities/krant', { name: 'De Krant', kind: 'publisher', country: 'NL' });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ id: 'krant', relationshipTermMonths: 36, parentId: null });
      const updated = await api.call('PUT', '/v1/entities/krant', { name: 'De Krant', kind: 'publisher', country: 'NL', relationshipTermMonths: 24 });
      expect(updated.statusCode).toBe(200);
      expect(updated.json().relationshipTermMonths).toBe(24);
    });

    it('keeps the ideological-organisation setting (NL-3, unconfirmed: off unless set) and decides by it', async () => {
      expect((await api.call('PUT', '/v1/entities/krant', { name: 'De Krant', kind: 'publisher', country: 'NL' })).json().ideologicalOrganisation).toBe(false);
      const party = await api.call('PUT', '/v1/entities/partij', { name: 'Partij voor de Duinen', kind: 'company', country: 'NL', ideologicalOrganisation: true });
      expect(party.statusCode, party.body).toBe(201);
      expect(party.json().ideologicalOrganisation).toBe(true);
      expect((await api.app.store.getEntity('partij'))?.ideologicalOrganisation).toBe(true);
      const phone = '+31612349901';
      const rel = await api.call('POST', '/v1/relationships', { phone, entityId: 'partij', kind: 'subscription', productCategory: 'membership', startedAt: '2024-03-01T10:00:00+01:00', informedAtCollection: true, optOutOfferedAtCollection: true });
      expect(rel.statusCode, rel.body).toBe(201);
      const ask = () => api.call('POST', '/v1/decisions', { phone, entityId: 'partij', productCategory: 'membership', at: '2027-01-12T11:00:00+01:00' });
      expect((await ask()).json()).toMatchObject({ allowed: true, basis: 'customer_relationship' });
      await api.call('PUT', '/v1/entities/partij', { name: 'Partij voor de Duinen', kind: 'company', country: 'NL' });
      expect((await ask()).json()).toMatchObject({ allowed: false, denials: ['no_basis'] });
    });

    it('refuses an unknown parent and a bad kind as problem+json', async () => {
      const r = await api.call('PUT', '/v1/entities/x', { name: 'X', kind: 'company', country: 'NL', parentId: 'nope' });
      expect(r.statusCode).toBe(422);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json().errors[0].path).toBe('parentId');
      const bad = await api.call('PUT', '/v1/entities/x', { name: 'X', kind: 'bank', country: 'NL' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ status: 400, title: 'Bad request' });
      expect(bad.json().errors.some((e: { path: string }) => e.path === 'kind')).toBe(true);
    });

    it('refuses calling windows that cannot work: ending before they start, or past 24:00', async () => {
      for (const w of [{ from: '20:00', to: '09:00' }, { from: '09:00', to: '09:00' }, { from: '09:00', to: '24:59' }]) {
        const r = await api.call('PUT', '/v1/entities/w1', { name: 'W', kind: 'company', country: 'NL', callingWindows: { NL: [w] } });
        expect(r.statusCode, JSON.stringify(w)).toBe(400);
        expect(r.headers['content-type']).toContain('application/problem+json');
        expect(r.json().errors.some((e: { path: string }) => /to$/.test(e.path)), JSON.stringify(r.json())).toBe(true);
      }
      expect((await api.call('GET', '/v1/entities/w1')).statusCode).toBe(404);
      // A day twice: seven entries that are not seven days (a window open every day, as it read).
      const twice = await api.call('PUT', '/v1/entities/w1', { name: 'W', kind: 'company', country: 'NL', callingWindows: { NL: [{ from: '09:00', to: '21:00', days: [1, 1, 2, 3, 4, 5, 6] }] } });
      expect(twice.statusCode).toBe(400);
      expect(twice.json().errors).toEqual([expect.objectContaining({ message: 'each day once' })]);
      // Across midnight: two windows.
      const ok = await api.call('PUT', '/v1/entities/w1', { name: 'W', kind: 'company', country: 'NL', callingWindows: { NL: [{ from: '20:00', to: '24:00' }, { from: '00:00', to: '09:00' }] } });
      expect(ok.statusCode).toBe(201);
    });

    it('keeps a group a tree: an entity cannot become the child of its own subsidiary', async () => {
      const put = (id: string, parentId: string | null) => api.call('PUT', `/v1/entities/${id}`, { name: id, kind: 'company', country: 'NL', parentId });
      expect((await put('tree-top', null)).statusCode).toBe(201);
      expect((await put('tree-mid', 'tree-top')).statusCode).toBe(201);
      expect((await put('tree-low', 'tree-mid')).statusCode).toBe(201);
      for (const [id, parent] of [['tree-top', 'tree-low'], ['tree-top', 'tree-mid'], ['tree-mid', 'tree-low'], ['tree-top', 'tree-top']]) {
        const r = await put(id!, parent!);
        expect(r.statusCode, `${id} under ${parent}`).toBe(422);
        expect(r.json().errors[0].path).toBe('parentId');
      }
      // Moving a branch elsewhere in the tree is fine.
      expect((await put('tree-low', 'tree-top')).statusCode).toBe(200);
    });

    it('is for admins only', async () => {
      const r = await api.call('PUT', '/v1/entities/acme', { name: 'A', kind: 'company', country: 'NL' }, agentToken);
      expect(r.statusCode).toBe(403);
      expect(r.headers['content-type']).toContain('application/problem+json');
    });
  });

  describe('authentication and roles', () => {
    it('answers 401 without or with an unknown token', async () => {
      for (const token of [null, 'nope']) {
        const r = await api.call('POST', '/v1/decisions', { phone: NL, entityId: 'acme' }, token);
        expect(r.statusCode).toBe(401);
        expect(r.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
      }
    });

    it('lets an agent decide and record but not manage keys', async () => {
      expect((await api.call('POST', '/v1/keys', { role: 'agent', entityIds: ['acme'] }, agentToken)).statusCode).toBe(403);
      expect((await api.call('POST', '/v1/objections', { phone: '+31612000001', entityId: 'acme', at: '2026-01-01T10:00:00+01:00' }, agentToken)).statusCode).toBe(201);
    });

    it('lets an integration key record calls but not consents', async () => {
      expect((await api.call('POST', '/v1/calls', { phone: '+31612000002', entityId: 'acme', at: '2026-01-01T10:00:00+01:00' }, integrationToken)).statusCode).toBe(201);
      const r = await api.call(
        'POST',
        '/v1/consents',
        { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-01T10:00:00+01:00', phone: '+31612000002' },
        integrationToken,
      );
      expect(r.statusCode).toBe(403);
    });

    it('keeps a key to its entities: a subsidiary key cannot use the parent', async () => {
      const r = await api.call('POST', '/v1/decisions', { phone: NL, entityId: 'acme' }, otherAgentToken);
      expect(r.statusCode).toBe(403);
      const w = await api.call('POST', '/v1/objections', { phone: NL, entityId: 'acme', at: '2026-01-01T10:00:00+01:00' }, otherAgentToken);
      expect(w.statusCode).toBe(403);
    });

    it('stops a revoked key', async () => {
      const created = (await api.call('POST', '/v1/keys', { role: 'agent', entityIds: ['acme'] })).json();
      expect((await api.call('POST', '/v1/decisions', { phone: NL, entityId: 'acme' }, created.token)).statusCode).toBe(200);
      expect((await api.call('DELETE', `/v1/keys/${created.id}`)).statusCode).toBe(204);
      expect((await api.call('POST', '/v1/decisions', { phone: NL, entityId: 'acme' }, created.token)).statusCode).toBe(401);
    });
  });

  describe('bad input is a 4xx problem, never a 500', () => {
    const cases: Array<[string, string, unknown, number]> = [
      ['malformed JSON', '/v1/decisions', '{"phone": ', 400],
      ['a JSON array', '/v1/consents', '[]', 400],
      ['wrong types', '/v1/decisions', { phone: 31612345678, entityId: 'acme' }, 400],
      ['unknown fields', '/v1/objections', { phone: NL, entityId: 'acme', at: '2026-01-01T10:00:00Z', extra: 1 }, 400],
      ['a time without offset', '/v1/objections', { phone: NL, entityId: 'acme', at: '2026-01-01T10:00:00' }, 400],
      ['a day that does not exist', '/v1/objections', { phone: NL, entityId: 'acme', at: '2026-02-30T10:00:00Z' }, 400],
      ['an hour that does not exist', '/v1/objections', { phone: NL, entityId: 'acme', at: '2026-02-28T24:00:00Z' }, 400],
      ['an offset of 24 hours or more', '/v1/objections', { phone: NL, entityId: 'acme', at: '2026-02-28T10:00:00+24:00' }, 400],
      ['an offset of 25 hours on a decision', '/v1/decisions', { phone: NL, entityId: 'acme', at: '2026-02-28T10:00:00+25:00' }, 400],
      ['an offset of 99 hours on a key', '/v1/keys', { role: 'agent', entityIds: ['acme'], expiresAt: '2027-02-28T10:00:00-99:59' }, 400],
      ['an unknown entity', '/v1/objections', { phone: NL, entityId: 'nobody', at: '2026-01-01T10:00:00Z' }, 422],
      ['an invalid number on a record', '/v1/objections', { phone: '12', entityId: 'acme', at: '2026-01-01T10:00:00Z' }, 422],
      ['an unknown entity on a decision', '/v1/decisions', { phone: NL, entityId: 'nobody' }, 422],
      ['a bad time zone', '/v1/decisions', { phone: NL, entityId: 'acme', timeZone: 'Mars/Olympus' }, 400],
      ['a relationship ending before it started', '/v1/relationships', { phone: NL, entityId: 'acme', kind: 'purchase', productCategory: 'energy', startedAt: '2026-01-01T00:00:00Z', endedAt: '2025-01-01T00:00:00Z', informedAtCollection: true, optOutOfferedAtCollection: true }, 422],
      ['a phone consent without a phone', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-01T10:00:00Z' }, 422],
      ['a key that has expired already', '/v1/keys', { role: 'agent', entityIds: ['acme'], expiresAt: '2020-01-01T00:00:00Z' }, 422],
      ['an offer of spaces only', '/v1/contact-requests', { phone: NL, entityId: 'acme', at: '2026-01-01T10:00:00Z', offer: '   ' }, 400],
      ['a justification of invisible characters (DE-2)', '/v1/presumed-consents', { phone: '+4930123456', entityId: 'acme', at: '2026-01-01T10:00:00Z', justification: '\u200b'.repeat(12) + ' \u00a0 ' }, 400],
      ['a justification of blank letters (DE-2)', '/v1/presumed-consents', { phone: '+4930123456', entityId: 'acme', at: '2026-01-01T10:00:00Z', justification: '\u3164'.repeat(12) + '\u2800'.repeat(12) + '\ufe0f'.repeat(12) }, 400],
      ['a justification of one letter and its accents (DE-2)', '/v1/presumed-consents', { phone: '+4930123456', entityId: 'acme', at: '2026-01-01T10:00:00Z', justification: 'a' + '\u0301'.repeat(12) }, 400],
      ['a huge body', '/v1/contact-requests', { phone: NL, entityId: 'acme', at: '2026-01-01T10:00:00Z', offer: 'x'.repeat(200_000) }, 413],
    ];
    it.each(cases)('%s', async (_name, url, body, status) => {
      const r = await api.call('POST', url, body);
      expect(r.statusCode, r.body).toBe(status);
      expect(r.headers['content-type']).toContain('application/problem+json');
      const p = r.json();
      expect(p).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    });

    it('names the body in errors when it is not JSON at all, as for any validation error', async () => {
      for (const payload of ['{"phone": ', '']) {
        const r = await api.server.inject({ method: 'POST', url: '/v1/decisions', headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' }, payload });
        expect(r.statusCode, payload).toBe(400);
        expect(r.json().errors, payload).toEqual([{ path: 'body', message: expect.any(String) }]);
      }
    });

    it('says a compressed body or JSON in another charset is not read, instead of misreading it', async () => {
      const send = (headers: Record<string, string>, payload: string | Buffer) =>
        api.server.inject({ method: 'POST', url: '/v1/decisions', headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json', ...headers }, payload });
      const body = JSON.stringify({ phone: NL, entityId: 'acme' });
      for (const [headers, payload, detail] of [
        [{ 'content-encoding': 'gzip' }, gzipSync(body), /Content-Encoding "gzip" is not accepted/],
        [{ 'content-encoding': 'br' }, body, /Content-Encoding "br" is not accepted/],
        [{ 'content-type': 'application/json; charset=latin1' }, body, /read as UTF-8, not latin1/],
        [{ 'content-type': 'application/json; charset="UTF-16"' }, body, /read as UTF-8, not utf-16/],
      ] as const) {
        const r = await send(headers, payload);
        expect(r.statusCode, r.body).toBe(400);
        expect(r.headers['content-type']).toContain('application/problem+json');
        expect(r.json().detail).toMatch(detail);
      }
      expect((await send({ 'content-encoding': 'identity', 'content-type': 'application/json; charset=UTF-8' }, body)).statusCode).toBe(200);
    });

    it('takes ids as long as the schemas allow (128 characters), not 414', async () => {
      const id = 'e'.repeat(128);
      const r = await api.call('PUT', `/v1/entities/${id}`, { name: 'Long Id B.V.', kind: 'company', country: 'NL' });
      expect(r.statusCode, r.body).toBe(201);
      expect((await api.call('PUT', `/v1/entities/${id}x`, { name: 'Too Long B.V.', kind: 'company', country: 'NL' })).statusCode).toBe(400);
    });

    it('takes RFC 3339 times in either case (t, z)', async () => {
      const r = await api.call('POST', '/v1/decisions', { phone: NL, entityId: 'acme', at: '2026-11-28t10:00:00.5z' });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().at).toBe('2026-11-28T10:00:00.500Z');
    });

    it('does not store anything from a refused request', async () => {
      const phone = '+31612999999';
      await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: 'yesterday', phone });
      const h = await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`);
      expect(h.json().events).toEqual([]);
    });

    it('refuses events dated ahead of now – an objection that would do nothing until then – beyond a few minutes of clock skew', async () => {
      const phone = '+31612999998';
      const later = new Date(Date.now() + 3_600_000).toISOString();
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ['/v1/objections', { entityId: 'acme', phone, at: '2062-11-28T10:00:00+01:00' }, 'at'],
        ['/v1/consents', { entityId: 'acme', channel: 'phone', status: 'withdrawn', phone, at: later }, 'at'],
        ['/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', phone, at: new Date().toISOString(), source: { method: 'web_form', verifiedAt: later } }, 'source.verifiedAt'],
        ['/v1/contact-requests', { entityId: 'acme', phone, at: later, offer: 'solar' }, 'at'],
        ['/v1/calls', { entityId: 'acme', phone, at: later }, 'at'],
      ];
      for (const [path, body, field] of cases) {
        const r = await api.call('POST', path, body);
        expect(r.statusCode, `${path} ${r.body}`).toBe(422);
        expect(r.headers['content-type']).toContain('application/problem+json');
        expect(r.json().errors).toEqual([{ path: field, message: 'in the future' }]);
      }
      const reassigned = await api.call('POST', '/v1/numbers/reassigned', { phone, at: '2099-01-01T00:00:00Z' });
      expect(reassigned.statusCode).toBe(422);
      expect((await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`)).json().events).toEqual([]);
      // A clock a minute ahead of the server's is no reason to refuse; a contract may start later.
      expect((await api.call('POST', '/v1/objections', { entityId: 'acme', phone, at: new Date(Date.now() + 60_000).toISOString() })).statusCode).toBe(201);
      expect((await api.call('POST', '/v1/relationships', { entityId: 'acme', phone, kind: 'subscription', productCategory: 'energy', startedAt: later, informedAtCollection: true, optOutOfferedAtCollection: true })).statusCode).toBe(201);
    });

    it('answers unknown routes with a problem', async () => {
      const r = await api.call('GET', '/v1/nothing-here');
      expect(r.statusCode).toBe(404);
      expect(r.headers['content-type']).toContain('application/problem+json');
    });

    it('answers requests that cannot be read – a broken path, broken HTTP – with a problem too', async () => {
      const bad = await api.call('GET', '/v1/decisions/%E0%A4%A');
      expect(bad.statusCode).toBe(400);
      expect(bad.headers['content-type']).toContain('application/problem+json');
      expect(bad.json()).toMatchObject({ status: 400, detail: 'The path is not valid: its percent-encoding is broken.' });
      // Broken HTTP reaches only a listening server, below the routes.
      await api.server.listen({ port: 0, host: '127.0.0.1' });
      const { port } = api.server.server.address() as AddressInfo;
      const raw = (request: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.end(request));
          let answer = '';
          socket.on('data', (d) => (answer += d.toString()));
          socket.on('end', () => resolve(answer));
          socket.on('error', reject);
        });
      for (const request of ['POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n', `GET /v1/entities HTTP/1.1\r\nHost: x\r\nX-Long: ${'a'.repeat(20_000)}\r\n\r\n`]) {
        const answer = await raw(request);
        expect(answer, answer.slice(0, 200)).toMatch(/^HTTP\/1\.1 (400|431) [^\r]+\r\nContent-Type: application\/problem\+json\r\n/);
        expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: expect.any(Number), detail: expect.any(String) });
      }
    });
  });

  describe('decisions over the API', () => {
    it('allows on a recorded phone consent and cites NL-2, with the obligations', async () => {
      const phone = '+31612000010';
      const c = await api.call('POST', '/v1/consents', {
        entityId: 'acme',
        channel: 'phone',
        status: 'granted',
        at: '2026-09-01T10:00:00+02:00',
        phone: '0612000010',
        source: { method: 'agent_call', wording: 'Mogen wij u bellen?', agentId: 'a1', callId: 'c1', recordingRef: 'rec-1' },
      });
      expect(c.statusCode).toBe(201);
      expect(c.json().id).toMatch(/^[0-9a-f-]{36}$/);
      const d = await decide({ phone, at: '2026-11-28T10:00:00+01:00' });
      expect(d).toMatchObject({ allowed: true, basis: 'consent', jurisdiction: 'NL', denials: [] });
      expect(d.obligations).toEqual(expect.arrayContaining(['offer_right_to_object', 'show_caller_id']));
      expect(d.reasons.find((r: { rule: string; passed: boolean }) => r.rule === 'NL-2' && r.passed)).toBeTruthy();
      expect(d.decisionId).toBeTruthy();
      expect(d.phone).toBe(phone);
    });

    it('answers for the moment asked: before the consent it was not allowed', async () => {
      const d = await decide({ phone: '+31612000010', at: '2026-08-01T10:00:00+02:00' });
      expect(d).toMatchObject({ allowed: false, denials: ['no_basis'] });
    });

    it('reads national numbers in the entity\'s country and answers E.164', async () => {
      const d = await decide({ phone: '06 1200 0010', at: '2026-11-28T10:00:00+01:00' });
      expect(d.phone).toBe('+31612000010');
      expect(d.allowed).toBe(true);
    });

    it('denies after an objection and lets a newer consent win again', async () => {
      const phone = '+31612000011';
      await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-01T10:00:00+01:00', phone });
      await api.call('POST', '/v1/objections', { phone, entityId: 'acme', at: '2026-02-01T10:00:00+01:00' });
      expect(await decide({ phone, at: '2026-03-01T10:00:00+01:00' })).toMatchObject({ allowed: false, denials: ['objected'] });
      await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-04-01T10:00:00+02:00', phone });
      expect(await decide({ phone, at: '2026-05-01T10:00:00+02:00' })).toMatchObject({ allowed: true, basis: 'consent' });
    });

    it('lets a call request serve exactly one call', async () => {
      const phone = '+31612000012';
      await api.call('POST', '/v1/contact-requests', { phone, entityId: 'acme', at: '2026-11-01T10:00:00+01:00', offer: 'heat pump' });
      const first = await decide({ phone, at: '2026-11-02T10:00:00+01:00' });
      expect(first).toMatchObject({ allowed: true, basis: 'requested_communication' });
      expect(first.obligations).toContain('name_caller_offer_channel');
      expect(first.obligations).not.toContain('offer_right_to_object');
      const call = await api.call('POST', '/v1/calls', { phone, entityId: 'acme', at: '2026-11-02T10:00:00+01:00', decisionId: first.decisionId });
      expect(call.statusCode).toBe(201);
      expect(await decide({ phone, at: '2026-11-02T11:00:00+01:00' })).toMatchObject({ allowed: false, denials: ['no_basis'] });
    });

    it('reads "at": null as now, like a missing at, and null for the other optional fields as their default (typed clients send nulls)', async () => {
      const r = await api.call('POST', '/v1/decisions', { phone: '+31612000044', entityId: 'acme', at: null, subscriberType: null, autodialed: null, prerecorded: null, purpose: null, productCategory: null, lineType: null, timeZone: null });
      expect(r.statusCode, r.body).toBe(200);
      expect(Math.abs(Date.parse(r.json().at) - Date.now())).toBeLessThan(60_000);
    });

    it('says of a past moment when the permission it rests on was put on record only later, and leaves the answer as it is', async () => {
      const phone = '+31612000043';
      const c = await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-01T10:00:00+01:00', phone });
      expect(c.statusCode, c.body).toBe(201);
      const past = await decide({ phone, at: '2026-02-01T10:00:00+01:00' });
      expect(past).toMatchObject({ allowed: true, basis: 'consent' });
      const late = past.reasons.find((r: { code: string }) => r.code === 'evidence_recorded_later');
      expect(late).toMatchObject({ rule: 'NL-10', passed: false });
      expect(late.detail).toContain(c.json().id);
      // Asked now, the consent was on file.
      const now = await decide({ phone });
      expect(now.reasons.map((r: { code: string }) => r.code)).not.toContain('evidence_recorded_later');
    });

    it('does not let a service call use up the one requested call (NL-11, NL-7): the purpose comes from the check, or is given', async () => {
      const phone = '+31612000042';
      await api.call('POST', '/v1/contact-requests', { phone, entityId: 'acme', at: '2026-11-01T10:00:00+01:00', offer: 'heat pump' });
      const service = await decide({ phone, at: '2026-11-02T09:00:00+01:00', purpose: 'service' });
      expect(service).toMatchObject({ allowed: true, basis: null });
      expect((await api.call('POST', '/v1/calls', { phone, entityId: 'acme', at: '2026-11-02T09:00:00+01:00', decisionId: service.decisionId })).statusCode).toBe(201);
      const given = await api.call('POST', '/v1/calls', { phone, entityId: 'acme', at: '2026-11-02T09:30:00+01:00', purpose: 'service' });
      expect(given.json().warning).toBeUndefined(); // a service call needs no permission: nothing to warn of
      // A marketing check, then a call that sold nothing: the purpose given wins.
      const check = await decide({ phone, at: '2026-11-02T09:40:00+01:00' });
      expect((await api.call('POST', '/v1/calls', { phone, entityId: 'acme', at: '2026-11-02T09:40:00+01:00', decisionId: check.decisionId, purpose: 'service' })).statusCode).toBe(201);
      const calls = (await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`)).json().events.filter((e: { type: string }) => e.type === 'call');
      expect(calls.map((e: { data: { purpose?: string } }) => e.data.purpose)).toEqual(['service', 'service', 'service']);
      const marketing = await decide({ phone, at: '2026-11-02T10:00:00+01:00' });
      expect(marketing).toMatchObject({ allowed: true, basis: 'requested_communication' });
      // A telemarketing call then uses the request up (purpose null reads as marketing).
      expect((await api.call('POST', '/v1/calls', { phone, entityId: 'acme', at: '2026-11-02T10:00:00+01:00', purpose: null })).statusCode).toBe(201);
      expect(await decide({ phone, at: '2026-11-02T11:00:00+01:00' })).toMatchObject({ allowed: false, denials: ['no_basis'] });
    });

    it('records which consent a call used (DE-4: each use is on file) and refuses a foreign decision id', async () => {
      const phone = '+31612000015';
      const c = await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-10-01T10:00:00+02:00', phone });
      const d = await decide({ phone, at: '2026-11-02T10:00:00+01:00' });
      expect(d.evidence).toEqual([c.json().id]);
      const made = await api.call('POST', '/v1/calls', { phone, entityId: 'acme', at: '2026-11-02T10:01:00+01:00', decisionId: d.decisionId });
      expect(made.statusCode).toBe(201);
      const h = await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`);
      const callEvent = h.json().events.find((e: { type: string }) => e.type === 'call');
      expect(callEvent.data).toMatchObject({ basis: 'consent', evidence: [c.json().id], decisionId: d.decisionId });
      const foreign = await api.call('POST', '/v1/calls', { phone: '+31612000016', entityId: 'acme', at: '2026-11-02T10:01:00+01:00', decisionId: d.decisionId });
      expect(foreign.statusCode).toBe(422);
    });

    it('records a call dated before the check it names on the engine\'s answer for its own moment, not on that check', async () => {
      const phone = '+31612000091';
      // One requested call (NL-7), checked for a slot at 11:00 and made early, at 10:40.
      await api.call('POST', '/v1/contact-requests', { phone, entityId: 'acme', at: '2026-11-02T09:00:00+01:00', offer: 'Zonnepanelen' });
      const slot = await decide({ phone, at: '2026-11-02T11:00:00+01:00' });
      expect(slot).toMatchObject({ allowed: true, basis: 'requested_communication' });
      const early = await api.call('POST', '/v1/calls', { phone, entityId: 'acme', at: '2026-11-02T10:40:00+01:00', decisionId: slot.decisionId });
      expect(early.statusCode, early.body).toBe(201);
      expect(early.json().warning).toMatch(/dated before the check it names .* recorded with the engine's answer for its moment/);
      const call = (await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`)).json().events.find((e: { type: string }) => e.type === 'call');
      expect(call.data).toMatchObject({ decisionId: null, citedDecisionId: slot.decisionId, allowed: true, basis: 'requested_communication' });
      // The one call is used up: a later one is not allowed on the request.
      expect(await decide({ phone, at: '2026-11-02T12:00:00+01:00' })).toMatchObject({ allowed: false });
      // A dialer's clock a minute behind the server's: made on the check.
      const d = await decide({ phone: '+31612000092', at: '2026-11-02T10:00:00+01:00' });
      const onTime = await api.call('POST', '/v1/calls', { phone: '+31612000092', entityId: 'acme', at: '2026-11-02T09:59:00+01:00', decisionId: d.decisionId });
      expect(onTime.statusCode).toBe(201);
      expect(onTime.json().warning ?? '').not.toMatch(/dated before/);
    });

    it('says when a call recorded without a decision rests on no permission, so it extends no consent\'s proof (DE-4)', async () => {
      const phone = '+31612000041';
      const c = await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-10-01T10:00:00+02:00', phone, products: ['energy'] });
      const bare = await api.call('POST', '/v1/calls', { phone, entityId: 'acme', at: '2026-11-02T10:00:00+01:00' });
      expect(bare.statusCode, bare.body).toBe(201);
      expect(bare.json().warning).toMatch(/no productCategory given/);
      const named = await api.call('POST', '/v1/calls', { phone, entityId: 'acme', at: '2026-11-02T11:00:00+01:00', productCategory: 'energy' });
      expect(named.json().warning).toBeUndefined();
      const calls = (await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`)).json().events.filter((e: { type: string }) => e.type === 'call');
      expect(calls.map((e: { data: { evidence: string[] } }) => e.data.evidence)).toEqual(expect.arrayContaining([[], [c.json().id]]));
    });

    it('holds the one requested call to the product the person asked about, where the request names it (NL-7)', async () => {
      const phone = '+31612000019';
      const r = await api.call('POST', '/v1/contact-requests', { phone, entityId: 'acme', at: '2026-11-01T10:00:00+01:00', offer: 'solar panels for a terraced house', productCategory: 'solar' });
      expect(r.statusCode, r.body).toBe(201);
      expect(await decide({ phone, at: '2026-11-02T10:00:00+01:00', productCategory: 'energy' })).toMatchObject({ allowed: false, denials: ['no_basis'] });
      expect(await decide({ phone, at: '2026-11-02T10:00:00+01:00', productCategory: 'solar' })).toMatchObject({ allowed: true, basis: 'requested_communication' });
      // A blank category names none.
      const blank = '+31612000020';
      await api.call('POST', '/v1/contact-requests', { phone: blank, entityId: 'acme', at: '2026-11-01T10:00:00+01:00', offer: 'solar panels', productCategory: '  ' });
      expect(await decide({ phone: blank, at: '2026-11-02T10:00:00+01:00', productCategory: 'energy' })).toMatchObject({ allowed: true, basis: 'requested_communication' });
    });

    it('gives every time in a number\'s history as RFC 3339, as the contract asks of every answer', async () => {
      const phone = '+31612000018';
      await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-10-01T10:00:00+02:00', phone, expiresAt: '2027-10-01T10:00:00+02:00', source: { method: 'web_form', verifiedAt: '2026-10-01T10:05:00+02:00', verificationMethod: 'email' } });
      await api.call('POST', '/v1/relationships', { phone, entityId: 'acme', kind: 'purchase', productCategory: 'energy', startedAt: '2025-01-01T00:00:00+01:00', endedAt: '2025-02-01T00:00:00+01:00', informedAtCollection: true, optOutOfferedAtCollection: true });
      const events = (await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`)).json().events;
      const consent = events.find((e: { type: string }) => e.type === 'consent');
      expect(consent.data).toMatchObject({ expiresAt: '2027-10-01T08:00:00.000Z', source: { verifiedAt: '2026-10-01T08:05:00.000Z', verificationMethod: 'email' } });
      expect(events.find((e: { type: string }) => e.type === 'relationship').data).toMatchObject({ startedAt: '2024-12-31T23:00:00.000Z', endedAt: '2025-01-31T23:00:00.000Z' });
      expect(JSON.stringify(events)).not.toMatch(/At":\d/);
    });

    it('records a call whose decision is not on record (lost in a crash), so the one requested call is used up', async () => {
      const phone = '+31612000017';
      await api.call('POST', '/v1/contact-requests', { phone, entityId: 'acme', at: '2026-11-01T10:00:00+01:00', offer: 'solar panels' });
      expect(await decide({ phone, at: '2026-11-02T09:59:00+01:00' })).toMatchObject({ allowed: true, basis: 'requested_communication' });
      const lost = '01900000-0000-7000-8000-00000000dead';
      const call = await api.call('POST', '/v1/calls', { phone, entityId: 'acme', at: '2026-11-02T10:00:00+01:00', decisionId: lost });
      expect(call.statusCode, call.body).toBe(201);
      expect(call.json().warning).toMatch(/not on record/);
      const h = await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`);
      const callEvent = h.json().events.find((e: { type: string }) => e.type === 'call');
      expect(callEvent.data).toMatchObject({ decisionId: null, citedDecisionId: lost, basis: 'requested_communication' });
      expect(await decide({ phone, at: '2026-11-02T11:00:00+01:00' })).toMatchObject({ allowed: false, denials: ['no_basis'] });
    });

    it('forgets the previous holder after a reassignment', async () => {
      const phone = '+31612000013';
      await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-01T10:00:00+01:00', phone });
      expect((await api.call('POST', '/v1/numbers/reassigned', { phone, at: '2026-06-01T00:00:00+02:00' })).statusCode).toBe(201);
      expect(await decide({ phone, at: '2026-05-31T10:00:00+02:00' })).toMatchObject({ allowed: true });
      expect(await decide({ phone, at: '2026-06-02T10:00:00+02:00' })).toMatchObject({ allowed: false, denials: ['no_basis'] });
      // A feed that retries with an Idempotency-Key records the reassignment once, even when the retries race.
      const send = () =>
        api.server.inject({
          method: 'POST',
          url: '/v1/numbers/reassigned',
          headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json', 'idempotency-key': 'carrier-feed-0042' },
          payload: JSON.stringify({ phone, at: '2026-09-01T00:00:00+02:00' }),
        });
      const answers = await Promise.all([send(), send(), send(), send()]);
      expect(answers.map((a) => a.statusCode)).toEqual([201, 201, 201, 201]);
      expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
      const rows = await api.app.store.db.selectFrom('events').select('id').where('type', '=', 'reassignment').where('phone', '=', phone).where('at', '=', '2026-08-31T22:00:00.000Z').execute();
      expect(rows).toHaveLength(1);
    });

    it('does not let a subsidiary use its parent\'s consent', async () => {
      const d = await decide({ entityId: 'acme-sub', phone: '+31612000010', at: '2026-11-28T10:00:00+01:00' });
      expect(d).toMatchObject({ allowed: false, denials: ['no_basis'] });
      expect(d.reasons.some((r: { code: string }) => r.code === 'consent_other_entity')).toBe(true);
      // Said without naming the parent or the date: a subsidiary's key never sees its parent's records.
      const other = d.reasons.find((r: { code: string }) => r.code === 'consent_other_entity') as { detail: string };
      expect(other.detail).toBe('A consent given to another legal entity does not count for Acme Zon B.V.: consent is per legal entity (not for a parent, sister or subsidiary either).');
    });

    it('does not tell an unrelated caller that another client holds the number', async () => {
      // Acme's consent for this number: its subsidiary hears that it does not count; a caller of
      // another group of companies (another client of the same platform) hears nothing of it.
      expect((await api.call('PUT', '/v1/entities/stranger', { name: 'Vreemd B.V.', kind: 'company', country: 'NL' })).statusCode).toBe(201);
      const sub = await decide({ entityId: 'acme-sub', phone: '+31612000010', at: '2026-11-28T10:00:00+01:00' });
      const stranger = await decide({ entityId: 'stranger', phone: '+31612000010', at: '2026-11-28T10:00:00+01:00' });
      const nothing = await decide({ entityId: 'stranger', phone: '+31612000099', at: '2026-11-28T10:00:00+01:00' });
      expect(sub.reasons.map((r: { code: string }) => r.code)).toContain('consent_other_entity');
      expect(stranger).toMatchObject({ allowed: false, denials: ['no_basis'] });
      expect(stranger.reasons.map((r: { code: string; rule: string; met: boolean }) => [r.code, r.rule, r.met])).toEqual(nothing.reasons.map((r: { code: string; rule: string; met: boolean }) => [r.code, r.rule, r.met]));
    });

    it('keeps a charity\'s donor relationship after 2026-07-01', async () => {
      const phone = '+31612000014';
      const r = await api.call('POST', '/v1/relationships', {
        phone,
        entityId: 'goede',
        kind: 'donation',
        productCategory: 'donations',
        startedAt: '2025-01-01T00:00:00+01:00',
        informedAtCollection: true,
        optOutOfferedAtCollection: true,
      });
      expect(r.statusCode).toBe(201);
      expect(await decide({ entityId: 'goede', phone, productCategory: 'donations', at: '2026-11-28T10:00:00+01:00' })).toMatchObject({
        allowed: true,
        basis: 'customer_relationship',
      });
    });

    it('denies an invalid number and a number of another country with their codes', async () => {
      expect(await decide({ phone: '12345' })).toMatchObject({ allowed: false, denials: ['invalid_number'], jurisdiction: null });
      expect(await decide({ phone: '+33612345678' })).toMatchObject({ allowed: false, denials: ['unsupported_jurisdiction'] });
    });

    it('can read a past decision back', async () => {
      const d = await decide({ phone: '+31612000010' });
      const r = await api.call('GET', `/v1/decisions/${d.decisionId}`);
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual(d);
    });

    it('uses a Dutch register only before 2021-07-01', async () => {
      const r = await api.server.inject({
        method: 'PUT',
        url: '/v1/registers/nl-bel-me-niet?country=NL&asOf=2021-06-01',
        headers: { authorization: 'Bearer test-admin-token', 'content-type': 'text/csv' },
        payload: 'number,listedAt\n+31612000020,2019-01-01\nnot-a-number\n0612000021\n',
      });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ count: 2, rejected: [{ line: 3, reason: expect.stringContaining('not a valid phone number') }] });
      expect(await decide({ phone: '+31612000020', at: '2021-06-30T12:00:00+02:00' })).toMatchObject({ allowed: false, denials: ['register_listed'] });
      expect(await decide({ phone: '+31612000022', at: '2021-06-30T12:00:00+02:00' })).toMatchObject({ allowed: true, basis: 'opt_out_regime' });
      expect(await decide({ phone: '+31612000020', at: '2021-07-01T12:00:00+02:00' })).toMatchObject({ allowed: false, denials: ['no_basis'] });
    });

    it('counts a copy given as a moment by its earlier date: a New York evening copy is 32 days old 32 New York days later (US-2)', async () => {
      expect((await api.call('PUT', '/v1/entities/acme-us', { name: 'Acme Solar Inc.', kind: 'company', country: 'US' })).statusCode).toBe(201);
      const put = await api.server.inject({
        method: 'PUT',
        url: `/v1/registers/us-dnc?country=US&asOf=${encodeURIComponent('2026-06-01T22:00:00-04:00')}`,
        headers: { authorization: 'Bearer test-admin-token', 'content-type': 'text/csv' },
        payload: '+12125550100\n',
      });
      expect(put.statusCode, put.body).toBe(200);
      // 2026-06-02 in UTC, but taken on 1 June in New York: on 3 July it is 32 days old there.
      const us = (at: string) => decide({ entityId: 'acme-us', phone: '+12125550123', at });
      expect(await us('2026-07-02T19:59:00-04:00')).toMatchObject({ allowed: true });
      // As a copy dated 2026-06-01 is: the call counts by its later (UTC) date – 20:30 in New York is
      // 3 July in UTC – and the copy by its earlier one. Which calendar US-2's 31 days mean is not said:
      // counted so, a copy is never taken for younger than it is on either.
      expect(await us('2026-07-02T20:30:00-04:00')).toMatchObject({ allowed: false, denials: ['register_stale'] });
      const stale = await us('2026-07-03T19:59:00-04:00');
      expect(stale).toMatchObject({ allowed: false, denials: ['register_stale'] });
      expect(JSON.stringify(stale.reasons)).toContain('from 2026-06-01, 32 days before the call');
    });

    it('streams a register copy in, and refuses one that would make listed numbers callable, with problem+json', async () => {
      const put = (query: string, payload: string | Buffer, type = 'text/csv') =>
        api.server.inject({ method: 'PUT', url: `/v1/registers/gb-tps?${query}`, headers: { authorization: 'Bearer test-admin-token', 'content-type': type }, payload });
      const lines = Array.from({ length: 50_000 }, (_, i) => `+4474001${String(i).padStart(5, '0')}`).join('\n');
      const big = await put('country=GB&asOf=2026-11-20', lines);
      expect(big.statusCode, big.body).toBe(200);
      expect(big.json()).toEqual({ count: 50_000, rejected: [] });
      for (const [payload, detail] of [
        ['', /^No number could be read/],
        ['telefoon\nonbekend\n', /^No number could be read/],
        ['+447400100001,2099-01-01\n', /after the copy's date/],
      ] as const) {
        const r = await put('country=GB&asOf=2026-11-20', payload);
        expect(r.statusCode, r.body).toBe(422);
        expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(r.json().detail).toMatch(detail);
      }
      // More bad lines than numbers: in place of the 50,000 numbers, refused unless forced; forced, taken with a warning.
      const mixedCopy = '+447400100001\n+31612345678\n+31612345679\n';
      expect((await put('country=GB&asOf=2026-11-20', mixedCopy)).json().detail).toMatch(/^More lines were rejected \(2\) than numbers read \(1\) .*\(line 2: \+31612345678 is not a GB number; line 3: /);
      const mixed = await put('country=GB&asOf=2026-11-20&force=true', mixedCopy);
      expect(mixed.statusCode, mixed.body).toBe(200);
      expect(mixed.json()).toMatchObject({ count: 1, rejected: [{ line: 2 }, { line: 3 }], warnings: [expect.stringMatching(/^More lines were rejected/)] });
      // The same short copy over a copy of its size is taken without force (the contract's 200), and so is an older copy.
      expect((await put('country=GB&asOf=2026-11-20', mixedCopy)).statusCode).toBe(200);
      const older = await put('country=GB&asOf=2026-11-01', '+447400100001\n');
      expect(older.statusCode, older.body).toBe(200);
      expect(older.json()).toEqual({ count: 1, rejected: [], warnings: [expect.stringMatching(/is older: numbers listed in between are callable again/)] });
      expect((await put('country=GB&asOf=2030-01-01', '+447400100001\n')).statusCode).toBe(422);
      // api-v1: bad input is 400 or 422 – a body of the wrong type too.
      const json = await put('country=GB&asOf=2026-11-20', JSON.stringify({ numbers: [] }), 'application/json');
      expect(json.statusCode).toBe(400);
      expect(json.json()).toMatchObject({ status: 400, errors: [{ path: 'content-type' }] });
    });
  });

  describe('Idempotency-Key', () => {
    const post = (url: string, body: unknown, key: string) =>
      api.server.inject({ method: 'POST', url, headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json', 'idempotency-key': key }, payload: JSON.stringify(body) });

    it('answers a retried write with the first answer and records it once', async () => {
      const phone = '+31612000030';
      const body = { phone, entityId: 'acme', at: '2026-11-01T10:00:00+01:00' };
      const first = await post('/v1/objections', body, 'retry-1');
      const again = await post('/v1/objections', body, 'retry-1');
      expect(first.statusCode).toBe(201);
      expect(again.statusCode).toBe(201);
      expect(again.json().id).toBe(first.json().id);
      expect(again.headers['idempotent-replayed']).toBe('true');
      const h = await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`);
      expect(h.json().events).toHaveLength(1);
    });

    it('records once when the same key races itself', async () => {
      const phone = '+31612000031';
      const body = { phone, entityId: 'acme', at: '2026-11-01T10:00:00+01:00', offer: 'insulation' };
      const answers = await Promise.all(Array.from({ length: 8 }, () => post('/v1/contact-requests', body, 'race-1')));
      expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(201));
      expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
      const h = await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`);
      expect(h.json().events).toHaveLength(1);
    });

    it('refuses the same key with a different request', async () => {
      await post('/v1/objections', { phone: '+31612000032', entityId: 'acme', at: '2026-11-01T10:00:00+01:00' }, 'reuse-1');
      const r = await post('/v1/objections', { phone: '+31612000033', entityId: 'acme', at: '2026-11-01T10:00:00+01:00' }, 'reuse-1');
      expect(r.statusCode).toBe(422);
      expect(r.headers['content-type']).toContain('application/problem+json');
    });

    it('refuses the same key with different requests sent together: one is recorded, the others get 422, none 500', async () => {
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => post('/v1/objections', { phone: `+3161200004${i}`, entityId: 'acme', at: '2026-11-01T10:00:00+01:00' }, 'reuse-race-1')),
      );
      const codes = answers.map((a) => a.statusCode).sort();
      expect(codes.filter((c) => c === 201)).toHaveLength(1);
      expect(codes.filter((c) => c !== 201)).toEqual(Array(7).fill(422));
      for (const a of answers.filter((x) => x.statusCode === 422)) expect(a.json().errors).toEqual([{ path: 'Idempotency-Key', message: 'reused with a different request' }]);
    });

    it('gives a retried decision the same decision id', async () => {
      const body = { phone: '+31612000034', entityId: 'acme', at: '2026-11-01T10:00:00+01:00' };
      const a = await post('/v1/decisions', body, 'dec-1');
      const b = await post('/v1/decisions', body, 'dec-1');
      expect(b.json().decisionId).toBe(a.json().decisionId);
    });

    it('refuses the same key with different requests racing at the write (two servers): the losers get 422', async () => {
      // Two servers pass their check of the key together; the store lets one write and refuses the rest.
      const claim = (requestHash: string) => ({ scope: 'test-scope', key: 'two-servers-1', requestHash });
      const write = (i: number) =>
        api.app.store.appendEvent({ fact: { type: 'objection', id: '', entityId: 'acme', at: Date.parse('2026-11-01T09:00:00Z') }, phone: `+3161200005${i}` } as NewEvent, Date.parse('2026-11-01T09:00:00Z'), claim(`hash-${i}`));
      const results = await Promise.allSettled([0, 1, 2, 3].map(write));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(IdempotencyConflict);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(toProblem(refused.reason, {} as never)).toMatchObject({ status: 422, errors: [{ path: 'Idempotency-Key', message: 'reused with a different request' }] });
    });

    it('answers a dialer that timed out and retried with the answer of its first attempt', async () => {
      const address = api.server.server.listening ? `http://127.0.0.1:${(api.server.server.address() as AddressInfo).port}` : await api.server.listen({ port: 0, host: '127.0.0.1' });
      const decide = api.app.decide.bind(api.app);
      // The first attempt takes long enough for the dialer to give up on it.
      api.app.decide = (async (...args: Parameters<typeof decide>) => {
        await new Promise((res) => setTimeout(res, 400));
        return decide(...args);
      }) as typeof decide;
      try {
        const body = JSON.stringify({ phone: '+31612000036', entityId: 'acme', at: '2026-11-01T10:00:00+01:00' });
        const send = (signal?: AbortSignal) =>
          fetch(`${address}/v1/decisions`, { method: 'POST', signal, headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json', 'idempotency-key': 'dec-timeout-1' }, body });
        await expect(send(AbortSignal.timeout(100))).rejects.toThrow();
        const retry = await send();
        expect(retry.status).toBe(200);
        expect(retry.headers.get('idempotent-replayed')).toBe('true');
        await api.app.decisions.flush();
        const logged = await api.app.store.db.selectFrom('decisions').select('id').where('phone', '=', '+31612000036').execute();
        expect(logged.map((d) => d.id)).toEqual([((await retry.json()) as { decisionId: string }).decisionId]);
      } finally {
        api.app.decide = decide;
      }
    });

    it('gives retries of a decision sent while it is still being answered the same decision id, logged once', async () => {
      const body = { phone: '+31612000035', entityId: 'acme', at: '2026-11-01T10:00:00+01:00' };
      const answers = await Promise.all(Array.from({ length: 6 }, () => post('/v1/decisions', body, 'dec-race-1')));
      expect(answers.map((a) => a.statusCode)).toEqual(Array(6).fill(200));
      expect(new Set(answers.map((a) => a.json().decisionId)).size).toBe(1);
      expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(5);
      await api.app.decisions.flush();
      expect(await api.app.store.db.selectFrom('decisions').select('id').where('phone', '=', '+31612000035').execute()).toHaveLength(1);
    });
  });

  describe('documentation', () => {
    it('serves the OpenAPI document from the same schemas', async () => {
      const r = await api.call('GET', '/v1/openapi.json');
      expect(r.statusCode).toBe(200);
      const doc = r.json();
      for (const p of ['/v1/entities/{id}', '/v1/consents', '/v1/objections', '/v1/relationships', '/v1/contact-requests', '/v1/calls', '/v1/numbers/reassigned', '/v1/registers/{id}', '/v1/decisions']) {
        expect(Object.keys(doc.paths)).toContain(p);
      }
      expect(doc.paths['/v1/decisions'].post.requestBody.content['application/json'].schema.required).toEqual(['phone', 'entityId']);
      // Every answer a client must handle, including those every route can give (rate limit, outage, body).
      expect(Object.keys(doc.paths['/v1/consents'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '413', '422', '429', '503']));
      expect(doc.paths['/v1/consents'].post.responses['415']).toBeUndefined();
      expect(Object.keys(doc.paths['/v1/entities'].get.responses)).toEqual(expect.arrayContaining(['200', '401', '429', '503']));
      // /healthz is never rate limited: no 429 said.
      expect(Object.keys(doc.paths['/healthz']?.get.responses ?? { '200': {} })).not.toContain('429');
      // Signing in takes no token, but is limited (the sign-in guard), reads the store and a body.
      expect(Object.keys(doc.paths['/v1/session'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '413', '429', '503']));
      expect(Object.keys(doc.paths['/v1/session'].delete.responses)).toEqual(expect.arrayContaining(['204', '400', '403', '429', '503']));
      expect(doc.paths['/v1/entities'].get.responses['415']).toBeUndefined();
      expect(doc.paths['/v1/consents'].post.responses['503'].content['application/problem+json']).toBeDefined();
      // Swagger's "Try it out" starts from a real question about the demo data, which the schema takes.
      const example = doc.paths['/v1/decisions'].post.requestBody.content['application/json'].examples.example1.value;
      expect(example).toEqual({ phone: '06 1234 0001', entityId: 'voltana' });
      expect(DecisionBody.safeParse(example).success).toBe(true);
      for (const path of ['/v1/consents', '/v1/objections']) {
        const media = doc.paths[path].post.requestBody.content['application/json'];
        const ex = media.example ?? media.examples.example1.value; // one example is written as `example`
        expect((path === '/v1/consents' ? ConsentBody : ObjectionBody).safeParse(ex).success, path).toBe(true);
      }
      // As on the wire: errors are problem+json, CSV bodies and answers are text/csv.
      expect(Object.keys(doc.paths['/v1/decisions'].post.responses['422'].content)).toEqual(['application/problem+json']);
      for (const [path, op] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>)) {
        for (const [method, o] of Object.entries(op)) {
          for (const [code, res] of Object.entries(o.responses)) {
            if (Number(code) >= 400 && res.content) expect(Object.keys(res.content), `${method} ${path} ${code}`).toEqual(['application/problem+json']);
          }
        }
      }
      const registers = doc.paths['/v1/registers/{id}'].put;
      expect(Object.keys(registers.requestBody.content)).toEqual(['text/csv']);
      expect(Object.keys(registers.responses['400'].content)).toEqual(['application/problem+json']);
      expect(registers.responses['400'].description).toMatch(/not text\/csv/);
      expect(Object.keys(doc.paths['/v1/scrubs'].post.requestBody.content)).toEqual(['text/csv']);
      expect(Object.keys(doc.paths['/v1/scrubs'].post.responses['200'].content)).toEqual(['text/csv']);
    });

    it('asks a token for every /v1 call, the OpenAPI document and unknown paths too (api-v1); Swagger UI reads the document at /docs/json', async () => {
      expect((await api.call('GET', '/v1/openapi.json', undefined, null)).statusCode).toBe(401);
      expect((await api.server.inject({ method: 'GET', url: '/v1/openapi.json', headers: { authorization: 'Bearer invented' } })).statusCode).toBe(401);
      const agent = (await api.call('POST', '/v1/keys', { role: 'integration', entityIds: ['acme'] })).json().token;
      expect((await api.call('GET', '/v1/openapi.json', undefined, agent)).statusCode).toBe(200);
      const unknown = await api.call('GET', '/v1/no-such-thing', undefined, null);
      expect(unknown.statusCode).toBe(401);
      expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
      expect((await api.call('GET', '/v1/no-such-thing')).statusCode).toBe(404);
      const publicDoc = await api.server.inject({ method: 'GET', url: '/docs/json' });
      expect(publicDoc.statusCode).toBe(200);
      expect(Object.keys(publicDoc.json().paths)).toContain('/v1/decisions');
    });

    it('serves Swagger UI at /docs and health without a token', async () => {
      const docs = await api.server.inject({ method: 'GET', url: '/docs/' });
      expect(docs.statusCode).toBe(200);
      expect(docs.body).toContain('swagger');
      const health = await api.call('GET', '/healthz', undefined, null);
      expect(health.statusCode).toBe(200);
      expect(health.json().store).toBe(storeName);
    });
  });
});
