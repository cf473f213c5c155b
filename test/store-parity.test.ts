/**
 * The same answers on SQLite and PostgreSQL where the engines differ: text PostgreSQL cannot store
 * (U+0000), one entity's chain lock held long, a connection that breaks inside a transaction, and
 * the order of lists (collation, ties).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { ADMIN, startApi, type TestApi } from './helpers/api.js';
import { freshDb, storeNames, type StoreName } from './helpers/stores.js';
import { newId, Store } from '../src/store/repository.js';
import { pepperId, phoneHash, Suppressions } from '../src/service/suppression.js';
import { toProblem } from '../src/api/problem.js';
import { uploadName } from '../src/api/routes/scrubs.js';
import type { ConsentFact } from '../src/law/types.js';

const NOW = Date.parse('2026-11-27T10:00:00Z');
const PHONE = '+31612345678';
const onPostgres = storeNames().includes('postgres');

describe.each(storeNames())('U+0000 in a request on %s', (storeName) => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startApi({ db: await freshDb(storeName), clock: () => NOW });
    for (const id of ['voltana', 'other']) expect((await api.call('PUT', `/v1/entities/${id}`, { name: id, kind: 'company', country: 'NL' })).statusCode).toBe(201);
  });
  afterAll(async () => api?.close());

  const refused = async (method: 'GET' | 'POST' | 'PUT', url: string, path: string, body?: unknown) => {
    const r = await api.call(method, url, body);
    expect(r.statusCode, `${method} ${url} → ${r.body}`).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.json().errors, `${method} ${url}`).toContainEqual({ path, message: expect.stringContaining('U+0000') });
  };
  const consent = { entityId: 'voltana', channel: 'phone', status: 'granted', at: '2026-11-20T10:00:00Z', phone: PHONE, source: { method: 'agent_call', agentId: 'a1', wording: 'Mag ik u bellen?' } };

  it('in a scrubbed list\'s header (a streamed body, not checked up front) leaves its scrub failed, not running', async () => {
    const r = await api.server.inject({ method: 'POST', url: '/v1/scrubs?entityId=voltana', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' }, payload: 'na\u0000me,foo\n1,2\n' });
    expect(r.statusCode, r.body).toBe(422);
    const rows = await sql<{ status: string; error: string | null }>`select status, error from scrubs where entity_id = 'voltana' order by started_at desc limit 1`.execute(api.app.store.db);
    expect(rows.rows[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('na\uFFFDme') });
  });

  it('is refused with 400 naming the field, in bodies, paths and queries alike, and nothing is stored', async () => {
    const events = async () => (await api.app.store.db.selectFrom('events').select('id').execute()).length;
    const before = await events();
    await refused('PUT', '/v1/entities/x', 'name', { name: 'a\u0000b', kind: 'company', country: 'NL' });
    await refused('POST', '/v1/keys', 'label', { role: 'agent', entityIds: ['voltana'], label: 'a\u0000b' });
    await refused('POST', '/v1/keys', 'entityIds.0', { role: 'agent', entityIds: ['a\u0000b'] });
    await refused('POST', '/v1/consents', 'source.wording', { ...consent, source: { ...consent.source, wording: 'x\u0000y' } });
    await refused('POST', '/v1/consents', 'entityId', { ...consent, entityId: 'a\u0000b' });
    await refused('POST', '/v1/decisions', 'entityId', { entityId: 'a\u0000b', phone: PHONE });
    await refused('POST', '/v1/erasures', 'entityId', { entityId: 'a\u0000b', phone: PHONE });
    await refused('POST', '/v1/retention/run', 'entityId', { entityId: 'a\u0000b', dryRun: true });
    for (const url of ['/v1/entities/a%00b', '/v1/decisions/a%00b', '/v1/scrubs/a%00b', '/v1/consents/a%00b/proof']) await refused('GET', url, 'params.id');
    for (const url of ['/v1/dashboard?', '/v1/dashboard/law-change?', '/v1/audit/decisions?', `/v1/proof?phone=${encodeURIComponent(PHONE)}&`]) {
      await refused('GET', `${url}entityId=a%00b`, 'querystring.entityId');
    }
    expect(await events()).toBe(before);
  });

  it('is refused in an audit cursor once decoded', async () => {
    const cursor = Buffer.from(JSON.stringify(['2026-11-27T09:00:00.000Z', 'a\u0000b'])).toString('base64url');
    await refused('GET', `/v1/audit/decisions?cursor=${cursor}`, 'querystring.cursor');
    const fine = Buffer.from(JSON.stringify(['2026-11-27T09:00:00.000Z', 'ab'])).toString('base64url');
    expect((await api.call('GET', `/v1/audit/decisions?cursor=${fine}`)).statusCode).toBe(200);
  });

  it('in an uploaded list\'s file name only loses the name, as a malformed header does', () => {
    expect(uploadName("attachment; filename*=UTF-8''a%00b.csv")).toBeNull();
    expect(uploadName("attachment; filename*=UTF-8''%C3%A4b.csv")).toBe('äb.csv');
  });

  it('kept by an earlier version does not break the dashboard', async () => {
    // As a consent stored before U+0000 was refused (and a lone surrogate, which jsonb refuses too).
    const fact = (wording: string, agentId: string): ConsentFact =>
      ({ id: '', type: 'consent', entityId: 'voltana', at: Date.parse('2026-11-20T10:00:00Z'), channel: 'phone', status: 'granted', products: [], source: { method: 'agent_call', agentId, wording } }) as unknown as ConsentFact;
    await api.app.store.appendEvents([{ fact: fact('x\u0000y', 'a1'), phone: PHONE }, { fact: fact('\ud800', 'a\u0000b'), phone: PHONE }], NOW);
    const r = await api.call('GET', '/v1/dashboard?entityId=voltana');
    expect(r.statusCode, r.body).toBe(200);
    const agents = r.json().calls.byAgent as Array<{ agentId: string | null; optIns: number }>;
    expect(agents.find((a) => a.agentId === 'a1')?.optIns).toBe(1);
    expect(agents.reduce((n, a) => n + a.optIns, 0)).toBe(2);
  });
});

describe('text a store refuses, should it get past the request check', () => {
  it('is answered 400, not 500 (PostgreSQL: U+0000 in text 22021, in jsonb 22P05)', () => {
    for (const code of ['22021', '22P05']) {
      const err = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code });
      expect(toProblem(err, {} as never)).toMatchObject({ status: 400, errors: [{ path: 'request' }] });
    }
  });
});

describe('a full disk outside the database (an uploaded list, a register snapshot)', () => {
  it('is answered 507 saying the file was not kept, not 500', () => {
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const err = Object.assign(new Error(`${code}: no space left on device, write`), { code });
      expect(toProblem(err, {} as never)).toMatchObject({ status: 507, detail: expect.stringMatching(/no disk space left: the file it was writing was not kept/) });
    }
  });
});

describe('a connection error inside a transaction', () => {
  it('is answered 503 when pg says its client is no longer queryable', () => {
    const err = new Error('Client has encountered a connection error and is not queryable');
    expect(toProblem(err, {} as never)).toMatchObject({ status: 503 });
  });

  it.skipIf(!onPostgres)('is the error the transaction reports, not the failed ROLLBACK after it (PostgreSQL)', async () => {
    const store = await Store.open(await freshDb('postgres'));
    try {
      const failed = store.db.transaction().execute(async (trx) => {
        await sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx);
      });
      // 57P01: the server ended the connection (answered 503); without the guard the ROLLBACK's
      // "Connection terminated unexpectedly", which has no code.
      await expect(failed).rejects.toMatchObject({ code: '57P01' });
      await store.ping(); // the pool carries on with a new connection
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!onPostgres)('one entity\'s chain locked for long on PostgreSQL', () => {
  let api: TestApi;
  let db: string;

  beforeAll(async () => {
    db = await freshDb('postgres');
    api = await startApi({ db });
    for (const id of ['voltana', 'other']) expect((await api.call('PUT', `/v1/entities/${id}`, { name: id, kind: 'company', country: 'NL' })).statusCode).toBe(201);
    expect((await api.call('POST', '/v1/objections', { entityId: 'voltana', phone: '+31612340000', at: '2026-01-01T10:00:00Z' })).statusCode).toBe(201);
  });
  afterAll(async () => api?.close());

  it('leaves other entities, reads and /healthz working; its writers give up with 503 and Retry-After', async () => {
    // As a long erasure or retention run would hold it.
    const holder = new pg.Client({ connectionString: db });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT seq FROM chain_heads WHERE chain = 'voltana' FOR UPDATE");
      const writers = Array.from({ length: 15 }, (_, i) => api.call('POST', '/v1/objections', { entityId: 'voltana', phone: `+316123400${10 + i}`, at: '2026-02-01T10:00:00Z' }));
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      const [decision, health, entity] = await Promise.all([
        api.call('POST', '/v1/decisions', { entityId: 'other', phone: PHONE }),
        api.call('GET', '/healthz', undefined, null),
        api.call('GET', '/v1/entities/other'),
      ]);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(decision.statusCode, decision.body).toBe(200);
      expect(health.statusCode, health.body).toBe(200);
      expect(entity.statusCode, entity.body).toBe(200);
      expect((await api.call('POST', '/v1/objections', { entityId: 'other', phone: PHONE, at: '2026-02-01T10:00:00Z' })).statusCode).toBe(201);
      for (const w of await Promise.all(writers)) {
        expect(w.statusCode, w.body).toBe(503);
        expect(w.headers['content-type']).toContain('application/problem+json');
        expect(w.headers['retry-after']).toBe('1');
      }
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await holder.end();
    }
    expect((await api.call('POST', '/v1/objections', { entityId: 'voltana', phone: '+31612340099', at: '2026-03-01T10:00:00Z' })).statusCode).toBe(201);
    expect((await api.app.store.verifyHistory()).ok).toBe(true);
  }, 60_000);
});

describe.each(storeNames())('many writers for one entity at once on %s', (storeName) => {
  it('are all recorded, one after the other on its chain', async () => {
    const api = await startApi({ db: await freshDb(storeName) });
    try {
      expect((await api.call('PUT', '/v1/entities/voltana', { name: 'Voltana', kind: 'company', country: 'NL' })).statusCode).toBe(201);
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => api.call('POST', '/v1/objections', { entityId: 'voltana', phone: `+316123401${String(i).padStart(2, '0')}`, at: '2026-02-01T10:00:00Z' })));
      expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 201));
      const verified = await api.app.store.verifyHistory('voltana');
      expect(verified).toMatchObject({ ok: true, events: 40 });
    } finally {
      await api.close();
    }
  });
});

/** A database whose own collation sorts "a" before "B" (PostgreSQL with ICU's en-US, or the locale given); SQLite compares bytes regardless. */
async function databaseWithLocaleOrder(storeName: StoreName, icuLocale = 'en-US'): Promise<string> {
  if (storeName === 'sqlite') return ':memory:';
  const base = inject('postgresBase')!;
  const name = `t_${process.pid}_${Date.now().toString(36)}_${icuLocale.replace(/\W/g, '')}`.toLowerCase();
  const admin = new pg.Client({ connectionString: `${base}postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${icuLocale}' LOCALE 'C.UTF-8'`);
  } finally {
    await admin.end();
  }
  return `${base}${name}`;
}

describe.each(storeNames())('lists on %s', (storeName) => {
  it('sort entities by name by code point, then by id', async () => {
    const store = await Store.open(await databaseWithLocaleOrder(storeName));
    try {
      const put = (id: string, name: string) => store.putEntity({ id, name, kind: 'company', country: 'NL', relationshipTermMonths: 36, requireVerifiedConsent: false }, NOW);
      for (const [id, name] of [['z', 'beta'], ['b2', 'beta'], ['a9', 'alpha'], ['B1', 'Beta'], ['u', 'Ärger'], ['A0', 'Alpha']] as const) await put(id, name);
      expect((await store.listEntities()).map((e) => e.id)).toEqual(['A0', 'B1', 'a9', 'b2', 'z', 'u']);
    } finally {
      await store.close();
    }
  });

  it('sort keys made in the same millisecond by id', async () => {
    const store = await Store.open(await freshDb(storeName));
    const clock = vi.spyOn(Date, 'now').mockReturnValue(NOW);
    try {
      const made: string[] = [];
      for (let i = 0; i < 8; i++) made.push((await store.createKey({ role: 'agent', entityIds: ['voltana'], label: `k${i}` }, NOW)).key.id);
      const listed = (await store.listKeys()).map((k) => k.id).filter((id) => made.includes(id));
      expect(listed).toEqual([...made].sort());
    } finally {
      clock.mockRestore();
      await store.close();
    }
  });
});

describe.each(storeNames())('the pepper ids on the suppression list on %s', (storeName) => {
  it('are all found, and only the unknown ones reported, whatever the database\'s collation (ICU numeric ordering)', async () => {
    const store = await Store.open(await databaseWithLocaleOrder(storeName, 'de-u-kn-true'));
    try {
      const secrets = Array.from({ length: 6 }, (_, i) => `pepper-${i}-${'x'.repeat(24)}`);
      const when = new Date(NOW).toISOString();
      for (const secret of secrets) {
        await store.db.insertInto('suppressions').values({ id: newId(), phone_hash: phoneHash(secret, PHONE), pepper_id: pepperId(secret), entity_id: 'voltana', reason: 'erasure', at: when, created_at: when, event_id: null, tag: null }).execute();
      }
      const knowing = (n: number) => new Suppressions(store, { OPTLINE_SUPPRESSION_PEPPER: secrets[0]!, OPTLINE_SUPPRESSION_PEPPER_PREVIOUS: secrets.slice(1, n).join(',') });
      await expect(knowing(6).requireKnownPeppers()).resolves.toBeUndefined();
      const missing = [pepperId(secrets[4]!), pepperId(secrets[5]!)].sort();
      await expect(knowing(4).requireKnownPeppers()).rejects.toThrow(new RegExp(`does not know \\((${missing.join(', ')}|${[...missing].reverse().join(', ')})\\)`));
    } finally {
      await store.close();
    }
  });
});

describe('a server whose suppression list holds entries under a pepper it does not know', () => {
  it('answers decisions and /healthz 503 (cannot-decide-safely), so a load balancer sends the calls elsewhere', async () => {
    const api = await startApi({ clock: () => NOW });
    try {
      expect((await api.call('PUT', '/v1/entities/voltana', { name: 'Voltana', kind: 'company', country: 'NL' })).statusCode).toBe(201);
      expect((await api.call('GET', '/healthz', undefined, null)).statusCode).toBe(200);
      const other = 'a-pepper-another-server-was-given-0123';
      const when = new Date(NOW).toISOString();
      await api.app.store.db.insertInto('suppressions').values({ id: newId(), phone_hash: phoneHash(other, PHONE), pepper_id: pepperId(other), entity_id: 'voltana', reason: 'erasure', at: when, created_at: when, event_id: null, tag: null }).execute();
      await new Promise((r) => setTimeout(r, 5_100)); // the list is looked at every 5 s
      const health = await api.call('GET', '/healthz', undefined, null);
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ type: expect.stringContaining('cannot-decide-safely'), detail: expect.stringContaining('a pepper this server does not know') });
      expect(health.headers['retry-after']).toBe('60');
      const d = await api.call('POST', '/v1/decisions', { phone: PHONE, entityId: 'voltana' });
      expect(d.statusCode).toBe(503);
    } finally {
      await api.close();
    }
  }, 20_000);
});
