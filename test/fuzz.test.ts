/**
 * Random and malformed input at every write and decision endpoint for a bounded number of runs:
 * never a 500, never a crash, and a refused request changes nothing in the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startApi, type TestApi } from './helpers/api.js';

const VALID: Record<string, Record<string, unknown>> = {
  '/v1/consents': { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-01T10:00:00+01:00', phone: '+31612345678', products: ['energy'], source: { method: 'web_form', ip: '192.0.2.1', url: 'https://x.example/' } },
  '/v1/objections': { entityId: 'acme', at: '2026-01-01T10:00:00+01:00', phone: '+31612345678' },
  '/v1/relationships': { entityId: 'acme', phone: '0612345678', kind: 'purchase', productCategory: 'energy', startedAt: '2025-01-01T00:00:00Z', informedAtCollection: true, optOutOfferedAtCollection: true },
  '/v1/contact-requests': { entityId: 'acme', at: '2026-01-01T10:00:00Z', phone: '+31612345678', offer: 'solar' },
  '/v1/calls': { entityId: 'acme', at: '2026-01-01T10:00:00Z', phone: '+31612345678' },
  '/v1/numbers/reassigned': { at: '2026-01-01T10:00:00Z', phone: '+31612345678' },
  '/v1/decisions': { entityId: 'acme', phone: '+31612345678', at: '2026-01-01T10:00:00Z', productCategory: 'energy', timeZone: 'Europe/Amsterdam' },
};

/** Nasty values: wrong types, huge and odd strings, odd numbers, odd dates and phone numbers. */
const nasty = fc.oneof(
  fc.jsonValue(),
  fc.string({ maxLength: 300 }),
  fc.constantFrom(
    null, '', ' ', '+', '+0', '+999999999999999999', '0000000000', '++31612345678', '+31 6 1234 5678 ext. 9', '061234567890123456789',
    '2026-02-30T10:00:00Z', '2026-13-01T00:00:00Z', '9999-12-31T23:59:59+14:00', '2026-01-01T10:00:00+25:00', '2026-01-01T10:00:00-24:00', '0000-01-01T00:00:00Z', '2026-01-01T10:00:00', 'now', '1e309',
    Number.MAX_SAFE_INTEGER, -1, 0.5, Infinity, NaN, '\u0000', '\uFFFF', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'Mars/Olympus', '../../etc/passwd', { $gt: '' }, ['a'], true,
  ),
);

describe('fuzzing the API', () => {
  let api: TestApi;
  const countEvents = async () => Number((await api.app.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    api = await startApi();
    await api.call('PUT', '/v1/entities/acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
  });
  afterAll(async () => api.close());

  it.each(Object.keys(VALID))('%s: one field replaced by nasty values', async (url) => {
    const valid = VALID[url]!;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(valid), 'unexpected'), nasty, async (field, value) => {
        const before = await countEvents();
        const r = await api.call('POST', url, { ...valid, [field]: value });
        expect(r.statusCode, `${field}=${JSON.stringify(value)} → ${r.body}`).toBeLessThan(500);
        if (r.statusCode >= 400) {
          expect(r.headers['content-type']).toContain('application/problem+json');
          expect(await countEvents()).toBe(before);
        }
      }),
      { numRuns: 150 },
    );
  });

  it.each(Object.keys(VALID))('%s: random bodies and raw bytes', async (url) => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 500 }), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1'))), async (raw) => {
        const before = await countEvents();
        const r = await api.server.inject({ method: 'POST', url, headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' }, payload: raw });
        expect(r.statusCode, r.body).toBeLessThan(500);
        if (r.statusCode >= 400) expect(await countEvents()).toBe(before);
      }),
      { numRuns: 100 },
    );
  });

  it('random phone numbers in decisions are answered, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^\+?[0-9 ()-]{0,25}$/)), async (phone) => {
        const r = await api.call('POST', '/v1/decisions', { entityId: 'acme', phone: phone || '0' });
        expect(r.statusCode, r.body).toBeLessThan(500);
        if (r.statusCode === 200) {
          const d = r.json();
          expect(d.allowed === false || d.denials.length === 0).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('random and malformed CSV at the scrub endpoint: an answer, never a 500, and a refused list changes no permission data', async () => {
    // A refused list is kept in the scrub log as failed (so a supervisor sees the attempt), never as done.
    const doneScrubs = async () => Number((await api.app.store.db.selectFrom('scrubs' as never).select((eb) => eb.fn.countAll<number>().as('n')).where('status' as never, '=', 'done' as never).executeTakeFirstOrThrow() as { n: number }).n);
    const cell = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('+31612345678', '0612345678', '"06 1234 5678"', '""', '"unclosed', '\uFEFF', '\r', 'phone', '+999', ''));
    const csv = fc.oneof(
      fc.array(fc.array(cell, { minLength: 0, maxLength: 4 }), { maxLength: 12 }).map((rows) => ['phone,name', ...rows.map((r) => r.join(','))].join(fc.sample(fc.constantFrom('\n', '\r\n'), 1)[0])),
      fc.string({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    await fc.assert(
      fc.asyncProperty(csv, fc.constantFrom('', '&phoneColumn=phone', '&phoneColumn=nope', '&at=yesterday', '&product=%00'), async (body, extra) => {
        const before = await doneScrubs();
        const events = await countEvents();
        const r = await api.server.inject({
          method: 'POST',
          url: `/v1/scrubs?entityId=acme${extra}`,
          headers: { authorization: 'Bearer test-admin-token', 'content-type': 'text/csv' },
          payload: body,
        });
        expect(r.statusCode, r.body.slice(0, 300)).toBeLessThan(500);
        expect(await countEvents()).toBe(events);
        if (r.statusCode >= 400) expect(await doneScrubs()).toBe(before);
      }),
      { numRuns: 150 },
    );
  });

  it('random paths and methods answer a problem, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), fc.webPath(), async (method, path) => {
        const r = await api.server.inject({ method: method as 'GET', url: `/v1${path}`, headers: { authorization: 'Bearer test-admin-token' } });
        expect(r.statusCode, `${method} ${path}`).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
  });
});
