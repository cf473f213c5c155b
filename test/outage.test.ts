/**
 * Fail closed: with PostgreSQL down, decisions and writes answer 503 (never an allow), /healthz
 * says so, and the server heals by itself when the database is back. Runs on a cluster of its
 * own, since it stops it. A SQLite file that can no longer be read is the same: 503, not 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startCluster, postgresBinDir, type Cluster } from './helpers/postgres.js';
import { startApi, type TestApi } from './helpers/api.js';
import { sql } from 'kysely';
import { Store } from '../src/store/repository.js';

describe.skipIf(!postgresBinDir() || process.env.OPTLINE_SKIP_POSTGRES === '1')('store outage on PostgreSQL', () => {
  let cluster: Cluster;
  let api: TestApi;
  const phone = '+31612345678';

  beforeAll(async () => {
    cluster = (await startCluster())!;
    const admin = new pg.Client({ connectionString: cluster.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE outage');
    await admin.end();
    api = await startApi({ db: cluster.url('outage') });
    await api.call('PUT', '/v1/entities/acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
    await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-01T10:00:00Z', phone });
  });
  afterAll(async () => {
    await api?.close().catch(() => {});
    cluster?.stop();
  });

  it('answers 503 while the database is down and recovers without a restart', async () => {
    const decide = () => api.call('POST', '/v1/decisions', { entityId: 'acme', phone });
    expect((await decide()).json()).toMatchObject({ allowed: true, basis: 'consent' });

    cluster.pause();
    try {
      for (let i = 0; i < 5; i++) {
        const r = await decide();
        expect(r.statusCode, r.body).toBe(503);
        expect(r.headers['content-type']).toContain('application/problem+json');
        expect(r.body).not.toContain('"allowed":true');
      }
      const w = await api.call('POST', '/v1/objections', { entityId: 'acme', phone, at: '2026-02-01T10:00:00Z' });
      expect(w.statusCode).toBe(503);
      // Writes of every kind, each in a transaction of its own: 503 with Retry-After, never a 500.
      for (const [method, url, body] of [
        ['PUT', '/v1/entities/acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' }],
        ['POST', '/v1/keys', { role: 'agent', entityIds: ['acme'] }],
        ['POST', '/v1/erasures', { phone, entityId: 'acme' }],
      ] as const) {
        const r = await api.call(method, url, body);
        expect(r.statusCode, `${method} ${url} → ${r.body}`).toBe(503);
        expect(r.headers['retry-after']).toBeDefined();
      }
      const health = await api.call('GET', '/healthz', undefined, null);
      expect(health.statusCode).toBe(503);
      expect(health.headers['retry-after']).toBe('5');
    } finally {
      cluster.resume();
    }

    let healed = false;
    for (let i = 0; i < 50 && !healed; i++) {
      healed = (await api.call('GET', '/healthz', undefined, null)).statusCode === 200;
      if (!healed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(healed).toBe(true);
    expect((await decide()).json()).toMatchObject({ allowed: true, basis: 'consent' });
    // The refused write was not half-made: the number's history holds the consent only.
    const h = await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`);
    expect(h.json().events.map((e: { type: string }) => e.type)).toEqual(['consent']);
  });
});

describe('store file damaged on SQLite', () => {
  it('answers 503 for decisions, writes and /healthz, never an allow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-damaged-'));
    const db = join(dir, 'optline.db');
    const api = await startApi({ db });
    try {
      const phone = '+31612345678';
      await api.call('PUT', '/v1/entities/acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
      await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-01T10:00:00Z', phone });
      const decide = () => api.call('POST', '/v1/decisions', { entityId: 'acme', phone });
      expect((await decide()).json()).toMatchObject({ allowed: true, basis: 'consent' });
      expect((await api.call('GET', '/healthz', undefined, null)).statusCode).toBe(200);

      // The file and its WAL overwritten under the running server (a disk fault, a wrong restore).
      const junk = Buffer.alloc(64 * 1024, 'not a database ');
      for (const f of [db, `${db}-wal`, `${db}-shm`]) writeFileSync(f, junk);

      const d = await decide();
      expect(d.statusCode, d.body).toBe(503);
      expect(d.headers['content-type']).toContain('application/problem+json');
      expect(d.json()).toMatchObject({ status: 503 });
      expect(d.body).not.toContain('"allowed":true');
      expect((await api.call('POST', '/v1/objections', { entityId: 'acme', phone, at: '2026-02-01T10:00:00Z' })).statusCode).toBe(503);
      expect((await api.call('GET', `/v1/numbers/${encodeURIComponent(phone)}/history`)).statusCode).toBe(503);
      expect((await api.call('GET', '/healthz', undefined, null)).statusCode).toBe(503);
    } finally {
      await api.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('store file removed or replaced on SQLite', () => {
  for (const how of ['removed', 'replaced'] as const) {
    it(`answers 503 for writes and /healthz when the file was ${how} under the server: no write is acknowledged into it`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'optline-gone-'));
      const db = join(dir, 'optline.db');
      const api = await startApi({ db });
      try {
        const phone = '+31612345679';
        expect((await api.call('PUT', '/v1/entities/acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' })).statusCode).toBe(201);
        expect((await api.call('GET', '/healthz', undefined, null)).statusCode).toBe(200);
        expect((await api.call('POST', '/v1/decisions', { entityId: 'acme', phone: '12345' })).statusCode).toBe(200);
        if (how === 'removed') rmSync(db);
        else {
          renameSync(db, `${db}.old`);
          writeFileSync(db, '');
        }
        const w = await api.call('POST', '/v1/objections', { entityId: 'acme', phone, at: '2026-02-01T10:00:00Z' });
        expect(w.statusCode, w.body).toBe(503);
        expect(w.json().detail).toMatch(/temporarily|store/i);
        const d = await api.call('POST', '/v1/decisions', { entityId: 'acme', phone });
        expect(d.statusCode, d.body).toBe(503);
        // Also a decision that reads nothing of the store (a number that cannot be read): its
        // audit line would go to the writer thread's handle on the file that is gone.
        const unreadable = await api.call('POST', '/v1/decisions', { entityId: 'acme', phone: '12345' });
        expect(unreadable.statusCode, unreadable.body).toBe(503);
        expect((await api.call('GET', '/healthz', undefined, null)).statusCode).toBe(503);
      } finally {
        await api.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('reports the error that failed a transaction, not the failed rollback after SQLite rolled back itself (a full disk)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-rollback-'));
    const store = await Store.open(join(dir, 'optline.db'));
    try {
      const failing = store.db.transaction().execute(async (trx) => {
        await sql`rollback`.execute(trx); // what SQLite does itself on SQLITE_FULL
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      });
      await expect(failing).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a store a newer Optline migrated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-newer-'));
    const file = join(dir, 'optline.db');
    const store = await Store.open(file);
    await store.db.insertInto('optline_migrations').values({ name: '0099_future', applied_at: new Date().toISOString() }).execute();
    await store.close();
    try {
      await expect(Store.open(file)).rejects.toThrow(/newer version of Optline \(0099_future\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('another process holding the SQLite write lock', () => {
  it('is waited for without blocking the server: other requests go on, and the write lands when the lock is free', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-locked-'));
    const file = join(dir, 'optline.db');
    const store = await Store.open(file, { busyTimeoutMs: 50 }); // as `optline serve` opens it
    const { Optline } = await import('../src/service/optline.js');
    const app = await Optline.open(store);
    const SQLite = (await import('better-sqlite3')).default;
    const other = new SQLite(file); // a CLI import, say
    try {
      await app.putEntity('acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
      other.pragma('journal_mode = WAL');
      other.exec('BEGIN IMMEDIATE');
      setTimeout(() => other.exec('COMMIT'), 700);
      // How long the thread is ever busy at a stretch while the write waits.
      let last = Date.now();
      let longest = 0;
      const tick = setInterval(() => {
        const now = Date.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 10);
      const started = Date.now();
      const id = await app.recordObjection({ entityId: 'acme', phone: '+31612345670', at: Date.parse('2026-11-01T10:00:00Z') });
      clearInterval(tick);
      expect(Date.now() - started).toBeGreaterThanOrEqual(600); // it did wait for the lock
      expect(longest).toBeLessThan(400); // but never blocked the thread for long (it was 700+)
      expect((await store.history('+31612345670')).events.map((e) => e.id)).toEqual([id]);
    } finally {
      other.close();
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
