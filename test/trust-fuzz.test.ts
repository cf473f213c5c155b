/**
 * Random and malformed input at the trust endpoints for a bounded number of runs: never a 500,
 * problem+json for every refusal, and a refused erasure or retention run changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startApi, type TestApi } from './helpers/api.js';

const nasty = fc.oneof(
  fc.jsonValue(),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(null, '', '+', '+0', '+999999999999999999', '0612345678', '+31612345678', '2026-02-30T10:00:00Z', 'now', -1, 0, Infinity, '\u0000', '𝔘𝔫𝔦', '../../etc/passwd', { $gt: '' }, ['a'], true, 'acme', 'other'),
);
const queryValue = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('+31612345678', '0612345678', 'pdf', 'kantara', 'iso27560', 'json', '2026-01-01T00:00:00Z', '0', '501', '-5', 'acme', 'other', '%00', '%ZZ'));

describe('fuzzing the trust endpoints', () => {
  let api: TestApi;
  const snapshot = async () => {
    const db = api.app.store.db;
    const events = await db.selectFrom('events').select(['id', 'phone', 'payload', 'erased_at']).orderBy('id').execute();
    const suppressions = await db.selectFrom('suppressions').select('id').execute();
    const decisions = await db.selectFrom('decisions').select(['id', 'phone']).orderBy('id').execute();
    return JSON.stringify([events, suppressions, decisions]);
  };

  beforeAll(async () => {
    api = await startApi({ clock: () => Date.parse('2026-11-27T10:00:00Z') });
    await api.call('PUT', '/v1/entities/acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
    await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-01T10:00:00Z', phone: '+31612345678' });
    await api.call('POST', '/v1/objections', { entityId: 'acme', at: '2026-02-01T10:00:00Z', phone: '+31612345679' });
  });
  afterAll(async () => api.close());

  it('POST /v1/erasures: one field replaced by nasty values', async () => {
    const valid = { phone: '+31612345678', entityId: 'acme', suppress: true, keepRequiredProof: false, reference: 'case-1' };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(valid), 'unexpected'), nasty, async (field, value) => {
        const before = await snapshot();
        const r = await api.call('POST', '/v1/erasures', { ...valid, [field]: value, ...(field !== 'phone' ? { phone: '+31612399999' } : {}) });
        expect(r.statusCode, `${field}=${JSON.stringify(value)} → ${r.body}`).toBeLessThan(500);
        if (r.statusCode >= 400) {
          expect(r.headers['content-type']).toContain('application/problem+json');
          expect(await snapshot()).toBe(before);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('POST /v1/retention/run and /v1/erasures: random bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/retention/run', '/v1/erasures'), fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 300 })), async (url, raw) => {
        const before = await snapshot();
        const r = await api.server.inject({ method: 'POST', url, headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' }, payload: raw });
        expect(r.statusCode, `${url} ${raw} → ${r.body}`).toBeLessThan(500);
        if (r.statusCode >= 400) expect(await snapshot()).toBe(before);
      }),
      { numRuns: 120 },
    );
  });

  it('GET /v1/proof and /v1/audit/decisions: random query strings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/proof', '/v1/audit/decisions', '/v1/audit/keys', '/v1/consents/x/proof'),
        fc.dictionary(fc.constantFrom('phone', 'entityId', 'format', 'from', 'to', 'limit', 'cursor', 'x'), queryValue, { maxKeys: 5 }),
        async (path, q) => {
          const qs = Object.entries(q).map(([k, v]) => `${k}=${/^%/.test(v) ? v : encodeURIComponent(v)}`).join('&');
          const r = await api.call('GET', `${path}?${qs}`);
          expect(r.statusCode, `${path}?${qs} → ${r.body.slice(0, 300)}`).toBeLessThan(500);
          if (r.statusCode >= 400) expect(r.headers['content-type']).toContain('application/problem+json');
        },
      ),
      { numRuns: 200 },
    );
  });
});
