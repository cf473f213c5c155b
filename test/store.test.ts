import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, newId } from '../src/store/repository.js';
import type { Database } from '../src/store/schema.js';
import { Kysely, SqliteDialect, sql } from 'kysely';
import SQLite from 'better-sqlite3';
import { ENTITY_CACHE_MS, Optline } from '../src/service/optline.js';
import { eraseSubject } from '../src/service/retention.js';
import { pepperId, phoneHash, Suppressions } from '../src/service/suppression.js';
import { CannotDecideSafelyError } from '../src/service/errors.js';
import { toProblem } from '../src/api/problem.js';
import { freshDb, storeNames } from './helpers/stores.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ids', () => {
  it('are UUIDv7: version 7, RFC variant, and ordered by the millisecond they were made in', async () => {
    const a = newId();
    await new Promise((r) => setTimeout(r, 2));
    const b = newId();
    for (const id of [a, b]) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(parseInt(a.replace(/-/g, '').slice(0, 12), 16)).toBeLessThanOrEqual(Date.now());
    expect(new Set(Array.from({ length: 10_000 }, newId)).size).toBe(10_000);
  });
});

describe('SQLite file store', () => {
  it('keeps the decision log (written by its own thread) and events across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-store-'));
    dirs.push(dir);
    const file = join(dir, 'o.db');
    let store = await Store.open(file);
    let app = await Optline.open(store);
    await app.putEntity('acme', { name: 'Acme', kind: 'company', country: 'NL' });
    await app.recordObjection({ entityId: 'acme', phone: '+31612345678', at: Date.parse('2026-01-01T00:00:00Z') });
    const ids: string[] = [];
    for (let i = 0; i < 1200; i++) ids.push((await app.decide({ entityId: 'acme', phone: '+31612345678' })).decisionId);
    await app.close();
    await store.close();

    store = await Store.open(file);
    app = await Optline.open(store);
    for (const id of [ids[0]!, ids[599]!, ids[1199]!]) {
      const d = await store.getDecision(id);
      expect(d).toMatchObject({ id, entityId: 'acme', allowed: false, denials: ['objected'] });
    }
    const n = await store.db.selectFrom('decisions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(1200);
    expect((await store.history('+31612345678')).events).toHaveLength(1);
    expect((await store.verifyHistory()).ok).toBe(true);
    await store.close();
  });
});

describe('SQLite decision log writer thread', () => {
  it('fails a batch it cannot write instead of leaving it waiting, and the next batch gets a new thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-writer-'));
    dirs.push(dir);
    const file = join(dir, 'o.db');
    const store = await Store.open(file);
    const row = (id: string) => ({
      id,
      entityId: 'acme',
      phone: '+31612345678',
      at: Date.parse('2026-01-01T10:00:00Z'),
      allowed: false,
      basis: null,
      denials: ['no_basis'],
      rulesVersion: 'test',
      request: {},
      response: {},
      keyId: null,
    });
    // The writer thread starts with the first batch; let it find no database at the path. (The
    // store itself would refuse the batch first, seeing its file replaced: that check is left out
    // here, for the thread's own failure is what this is about.)
    Object.assign(store, { checkFile: () => undefined });
    const parts = [file, `${file}-wal`, `${file}-shm`];
    for (const f of parts) renameSync(f, `${f}.away`);
    writeFileSync(file, Buffer.alloc(8192, 'not a database '));
    const failed = await Promise.race([
      store.recordDecisions([row('d-1')], Date.now()).then(
        () => 'written',
        (e: Error) => e.message,
      ),
      new Promise((r) => setTimeout(() => r('still waiting'), 10_000)),
    ]);
    expect(failed).toMatch(/writer thread/);
    // The file is back: a new thread writes the retried batch.
    for (const f of parts) renameSync(`${f}.away`, f);
    await store.recordDecisions([row('d-1'), row('d-2')], Date.now());
    expect((await store.getDecision('d-2'))?.id).toBe('d-2');
    await store.close();
  });
});

describe.each(storeNames())('migrations on %s', (storeName) => {
  it('apply once, even when several servers start at the same time', async () => {
    const db = await freshDb(storeName);
    if (storeName === 'sqlite') {
      const store = await Store.open(db);
      const again = (await import('../src/store/migrations.js')).migrate;
      expect(await again(store.db)).toEqual([]);
      await store.close();
      return;
    }
    const stores = await Promise.all(Array.from({ length: 4 }, () => Store.open(db)));
    const rows = await stores[0]!.db.selectFrom('optline_migrations').select('name').where('name', '!=', '!lock').execute();
    const { MIGRATIONS } = await import('../src/store/migrations.js');
    expect(rows.map((r) => r.name).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
    await Promise.all(stores.map((s) => s.close()));
  });
});

describe.skipIf(!storeNames().includes('postgres'))('a PostgreSQL role that may only read', () => {
  it('opens an up-to-date store and verifies its history: nothing is created, locked or written', async () => {
    const db = await freshDb('postgres');
    const store = await Store.open(db);
    const app = await Optline.open(store, () => Date.parse('2026-11-28T10:00:00Z'));
    await app.putEntity('acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
    await app.recordObjection({ phone: '+31612345678', entityId: 'acme', at: Date.parse('2026-11-01T10:00:00Z') });
    const role = `auditor_${process.pid}_${Date.now().toString(36)}`;
    await sql.raw(`create role ${role} login; grant usage on schema public to ${role}; grant select on all tables in schema public to ${role}`).execute(store.db);
    await app.close();
    await store.close();
    const asAuditor = db.replace('postgres://optline@', `postgres://${role}@`);
    const readOnly = await Store.open(asAuditor);
    try {
      expect(await readOnly.verifyHistory()).toMatchObject({ ok: true, events: 1 });
    } finally {
      await readOnly.close();
    }
  });
});

describe.each(storeNames())('entities on %s', (storeName) => {
  it('are created once when several requests put the same new entity at the same time', async () => {
    const store = await Store.open(await freshDb(storeName));
    try {
      for (let round = 0; round < 3; round++) {
        const id = `race-${round}`;
        const created = await Promise.all(Array.from({ length: 8 }, (_, i) => store.putEntity({ id, name: `Race ${i}`, kind: 'company', country: 'NL', relationshipTermMonths: 36, requireVerifiedConsent: false }, Date.now())));
        expect(created.filter(Boolean)).toHaveLength(1);
        expect(await store.getEntity(id)).toMatchObject({ id });
      }
    } finally {
      await store.close();
    }
  });
});

describe.each(storeNames())('entity settings on %s, with two servers on one store', (storeName) => {
  it('changed through one server apply on the other within seconds, not at its restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-two-servers-'));
    dirs.push(dir);
    const db = storeName === 'sqlite' ? join(dir, 'o.db') : await freshDb(storeName);
    const [storeA, storeB] = [await Store.open(db), await Store.open(db)];
    const [a, b] = [await Optline.open(storeA), await Optline.open(storeB)];
    const now = vi.spyOn(Date, 'now');
    try {
      await a.putEntity('acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
      // A consent given from 1 July 2025 and never verified: a warning only, until the caller requires verification (NL-10).
      await a.recordConsent({ entityId: 'acme', channel: 'phone', status: 'granted', at: Date.parse('2026-09-01T10:00:00Z'), phone: '+31612345678', source: { method: 'web_form', wording: 'Bel mij.' } });
      const ask = () => b.decide({ phone: '+31612345678', entityId: 'acme', at: Date.parse('2026-11-02T10:00:00Z') });
      expect((await ask()).allowed).toBe(true);
      await a.putEntity('acme', { name: 'Acme B.V.', kind: 'company', country: 'NL', requireVerifiedConsent: true });
      const t = Date.now();
      now.mockReturnValue(t + ENTITY_CACHE_MS + 1);
      expect(await ask()).toMatchObject({ allowed: false });
    } finally {
      now.mockRestore();
      await a.close();
      await b.close();
      await storeA.close();
      await storeB.close();
    }
  });
});

describe('upgrading a store from before the hash chain', () => {
  it('links its events so that the history verifies, and new events after them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-upgrade-'));
    const file = join(dir, 'old.db');
    try {
      // A store as an Optline before migration 0005 left it, with one event.
      const { MIGRATIONS } = await import('../src/store/migrations.js');
      const old = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
      await sql`create table optline_migrations (name text primary key, applied_at text not null)`.execute(old);
      for (const m of MIGRATIONS.slice(0, MIGRATIONS.findIndex((x) => x.name === '0005_hash_chain'))) {
        await m.up(old as unknown as Kysely<unknown>);
        await old.insertInto('optline_migrations').values({ name: m.name, applied_at: '2026-01-01T00:00:00Z' }).execute();
      }
      await old
        .insertInto('events')
        .values({ id: newId(), type: 'objection', entity_id: 'acme', phone: '+31612345678', email: null, at: '2025-01-01T00:00:00.000Z', recorded_at: '2025-01-01T00:00:00.000Z', payload: '{}', key_id: null })
        .execute();
      await old.destroy();

      const store = await Store.open(file);
      try {
        expect(await store.verifyHistory()).toMatchObject({ ok: true, events: 1, problems: [] });
        const app = await Optline.open(store);
        await app.putEntity('acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
        await app.recordObjection({ entityId: 'acme', phone: '+31612345679', at: Date.parse('2026-01-01T00:00:00Z') });
        expect(await store.verifyHistory()).toMatchObject({ ok: true, events: 2, problems: [] });
        // Rows from before and after the personal digest (migration 0014), both erased.
        const rows = await store.db.selectFrom('events').select(['phone', 'personal_hash']).orderBy('chain_seq').execute();
        expect(rows.map((r) => r.personal_hash != null)).toEqual([false, true]);
        for (const phone of ['+31612345678', '+31612345679']) await eraseSubject(app, { phone, entityId: 'acme', scope: '*', suppress: false });
        expect(await store.verifyHistory()).toMatchObject({ ok: true, events: 4, problems: [] });
        await app.close();
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a register copy replaced while another process writes to the SQLite file', () => {
  it('holds the write lock from the start: a write in between waits instead of failing the import', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-reglock-'));
    const file = join(dir, 'o.db');
    const store = await Store.open(file);
    const other = new SQLite(file);
    other.pragma('busy_timeout = 0');
    try {
      let blocked = '';
      const meta = { id: 'nl-bel-me-niet', country: 'NL' as const, asOf: Date.parse('2021-06-01T00:00:00Z'), count: 1, loadedAt: Date.parse('2026-11-29T00:00:00Z') };
      // Between the import's read of the copy in force and its first write, the server writes.
      await store.replaceRegisterRows(meta, [{ e164: '+31612345678', listedAt: null }], () => {
        try {
          other.prepare("insert into chain_heads (chain, seq, hash) values ('x', 0, 'y')").run();
        } catch (err) {
          blocked = (err as { code?: string }).code ?? String(err);
        }
      });
      expect(blocked).toBe('SQLITE_BUSY'); // it waits for the import (busy_timeout), not the other way round
      expect(await store.db.selectFrom('registers').select(['id', 'count']).execute()).toEqual([{ id: 'nl-bel-me-niet', count: 1 }]);
    } finally {
      other.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(storeNames())('two imports of the same new register at once on %s', (storeName) => {
  it('one copy wins and the other is refused by the check, not by a duplicate key', async () => {
    const store = await Store.open(await freshDb(storeName));
    try {
      const inForce: Array<number | null> = [];
      const importCopy = (loadedAt: number, e164: string) =>
        store.replaceRegisterRows({ id: 'gb-tps', country: 'GB', asOf: loadedAt, count: 1, loadedAt }, [{ e164, listedAt: null }], (current) => {
          inForce.push(current);
          if (current !== null && current >= loadedAt) throw new Error('a newer copy is in force');
        });
      const results = await Promise.allSettled([importCopy(Date.parse('2026-11-20T00:00:00Z'), '+442079460001'), importCopy(Date.parse('2026-11-21T00:00:00Z'), '+442079460002')]);
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
      for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toContain('a newer copy is in force');
      // The second saw the first's copy: the checks ran one after the other.
      expect(inForce[0]).toBeNull();
      expect(inForce[1]).not.toBeNull();
      const rows = await store.db.selectFrom('registers').select(['id', 'count']).execute();
      expect(rows).toEqual([{ id: 'gb-tps', count: 1 }]);
      expect((await store.db.selectFrom('register_entries').select('e164').execute()).length).toBe(1);
    } finally {
      await store.close();
    }
  });
});

describe.each(storeNames())('verifying the history on %s while others write', (storeName) => {
  it('reads it as of one moment: no chain is reported cut short or changed by writes going on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-verify-busy-'));
    dirs.push(dir);
    const db = storeName === 'sqlite' ? join(dir, 'o.db') : await freshDb(storeName);
    const store = await Store.open(db);
    const app = await Optline.open(store);
    try {
      await app.putEntity('acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          await Promise.all(Array.from({ length: 4 }, (_, k) => app.recordObjection({ entityId: 'acme', phone: `+316123${String(40000 + ((i * 4 + k) % 50000)).padStart(5, '0')}`, at: Date.now() - 60_000 })));
        }
      })();
      const answers = [];
      for (let round = 0; round < 25; round++) answers.push(await store.verifyHistory());
      writing = false;
      await writer;
      expect(answers.filter((a) => !a.ok).map((a) => a.problems[0])).toEqual([]);
      expect((await store.verifyHistory()).ok).toBe(true);
    } finally {
      await app.close();
      await store.close();
    }
  }, 60_000);
});

describe('a suppression list with entries under a pepper this server does not know', () => {
  it('stops its decisions (503: a person erased through another server would be callable here) until it is given that pepper', async () => {
    const store = await Store.open(':memory:');
    try {
      const other = 'pepper-of-another-server-0123456789';
      await store.db
        .insertInto('suppressions')
        .values({ id: newId(), phone_hash: phoneHash(other, '+31612345678'), pepper_id: pepperId(other), entity_id: 'acme', reason: 'erasure', at: new Date().toISOString(), created_at: new Date().toISOString(), event_id: null, tag: null })
        .execute();
      const here = new Suppressions(store, { OPTLINE_SUPPRESSION_PEPPER: 'pepper-of-this-server-0123456789' });
      await expect(here.entries('+31612345678')).rejects.toBeInstanceOf(CannotDecideSafelyError);
      await expect(here.entries('+31699999999')).rejects.toThrow(/entries made under a pepper this server does not know \(/);
      // Given it as a previous pepper, as docs/trust.md says for rotating: the entry matches again.
      const told = new Suppressions(store, { OPTLINE_SUPPRESSION_PEPPER: 'pepper-of-this-server-0123456789', OPTLINE_SUPPRESSION_PEPPER_PREVIOUS: other });
      expect((await told.entries('+31612345678')).map((e) => e.reason)).toEqual(['erasure']);
      expect(toProblem(new CannotDecideSafelyError('x'), {} as never)).toMatchObject({ status: 503, type: expect.stringContaining('cannot-decide-safely') });
      // What a scrub has read: checked on those rows at once, not on a look a few seconds old.
      await here.requireKnownPeppers().catch(() => undefined);
      await expect(here.requireKnownPeppersOf([{ pepper_id: pepperId('yet-another-pepper-0123456789') }])).rejects.toBeInstanceOf(CannotDecideSafelyError);
    } finally {
      await store.close();
    }
  });

  it('a pepper given as previous matches entries and makes none, also on a store whose current pepper is the one it keeps', async () => {
    const store = await Store.open(':memory:');
    try {
      const kept = await new Suppressions(store, {}).peppers(); // generated and kept in the store
      const rotating = new Suppressions(store, { OPTLINE_SUPPRESSION_PEPPER_PREVIOUS: 'the-next-pepper-0123456789' });
      const peppers = await rotating.peppers();
      expect(peppers[0]!.id).toBe(kept[0]!.id);
      expect(peppers.map((p) => p.id)).toContain(pepperId('the-next-pepper-0123456789'));
    } finally {
      await store.close();
    }
  });
});
