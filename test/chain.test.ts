import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { eraseSubject } from '../src/service/retention.js';
import { contentDigest, linkHash, linkRows, newSalt, type ChainHead } from '../src/store/chain.js';
import { readCheckpoint } from '../src/store/checkpoint.js';
import { InputError } from '../src/service/errors.js';
import { freshDb, storeNames } from './helpers/stores.js';

describe('salts', () => {
  it('are 16 random bytes each and none comes twice, also where the bytes drawn at a time run out', () => {
    const salts = Array.from({ length: 1_000 }, () => newSalt());
    expect(new Set(salts).size).toBe(salts.length);
    for (const salt of salts) expect(Buffer.from(salt, 'base64url')).toHaveLength(16);
    expect(salts.every((salt) => /^[A-Za-z0-9_-]{22}$/.test(salt))).toBe(true);
  });
});

describe.each(storeNames())('tamper-evident history on %s', (storeName) => {
  let store: Store;
  let app: Optline;
  const ids: string[] = [];

  beforeEach(async () => {
    store = await Store.open(await freshDb(storeName));
    app = await Optline.open(store);
    await app.putEntity('acme', { name: 'Acme', kind: 'company', country: 'NL' });
    await app.putEntity('beta', { name: 'Beta', kind: 'company', country: 'NL' });
    ids.length = 0;
    for (let i = 0; i < 5; i++) {
      ids.push(await app.recordConsent({ entityId: 'acme', channel: 'phone', status: 'granted', at: Date.parse(`2026-0${i + 1}-01T10:00:00Z`), phone: `+3161200010${i}` }));
    }
    await app.recordObjection({ entityId: 'beta', phone: '+31612000100', at: Date.parse('2026-03-01T00:00:00Z') });
    await app.recordReassignment({ phone: '+31612000101', at: Date.parse('2026-06-01T00:00:00Z') });
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  it('verifies an untouched history', async () => {
    const r = await store.verifyHistory();
    expect(r).toMatchObject({ ok: true, events: 7, problems: [] });
    expect(r.chains).toBe(3); // acme, beta, and the chain of events without an entity
  });

  it('names the event whose content was edited', async () => {
    await store.db.updateTable('events').set({ at: '2020-01-01T00:00:00.000Z' }).where('id', '=', ids[2]!).execute();
    const r = await store.verifyHistory();
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: ids[2], seq: 3, problem: 'changed' })]);
  });

  it('names the place where an event was deleted', async () => {
    await store.db.deleteFrom('events').where('id', '=', ids[1]!).execute();
    const r = await store.verifyHistory();
    expect(r.problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: ids[2], problem: 'removed' })]);
  });

  it('notices events removed from the end', async () => {
    await store.db.deleteFrom('events').where('id', '=', ids[4]!).execute();
    const r = await store.verifyHistory();
    expect(r.problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: null, problem: 'truncated' })]);
  });

  it("checks a chain whose head was deleted, and says so – an edit in it cannot hide there", async () => {
    await store.db.deleteFrom('chain_heads').where('chain', '=', 'acme').execute();
    await store.db.updateTable('events').set({ at: '2020-01-01T00:00:00.000Z' }).where('id', '=', ids[2]!).execute();
    const r = await store.verifyHistory();
    expect(r.chains).toBe(3);
    expect(r.events).toBe(7);
    expect(r.problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: ids[2], problem: 'changed' })]);
    // Without the edit: the missing head itself.
    await store.db.updateTable('events').set({ at: '2026-03-01T10:00:00.000Z' }).where('id', '=', ids[2]!).execute();
    expect((await store.verifyHistory()).problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: null, problem: 'head_missing' })]);
  });

  it('notices reordered events', async () => {
    // Swap the positions of the 2nd and 3rd event.
    await store.db.updateTable('events').set({ chain_seq: 99 }).where('id', '=', ids[1]!).execute();
    await store.db.updateTable('events').set({ chain_seq: 2 }).where('id', '=', ids[2]!).execute();
    await store.db.updateTable('events').set({ chain_seq: 3 }).where('id', '=', ids[1]!).execute();
    const r = await store.verifyHistory();
    expect(r.problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: ids[2], seq: 2, problem: 'reordered' })]);
  });

  it('notices an event slipped in with a forged position', async () => {
    const row = await store.db.selectFrom('events').selectAll().where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    await store.db.insertInto('events').values({ ...row, id: '01900000-0000-7000-8000-000000000000' }).execute().catch(async () => {
      // The unique (chain, chain_seq) index refuses a second event at a position: drop it to forge.
      await sql`drop index events_chain_seq`.execute(store.db);
      await store.db.insertInto('events').values({ ...row, id: '01900000-0000-7000-8000-000000000000' }).execute();
    });
    const r = await store.verifyHistory();
    expect(r.ok).toBe(false);
    // Whichever of the two sorts first at position 1, the forged one cannot hold its place.
    expect(r.problems[0]).toMatchObject({ chain: 'acme', seq: 1 });
    expect(['inserted', 'changed']).toContain(r.problems[0]!.problem);
    expect(r.problems[0]!.eventId).toBe('01900000-0000-7000-8000-000000000000');
  });

  it('names an event appended with a back-dated recording time (a consent forged to cover an earlier call), but lets servers\' clocks differ a little', async () => {
    const last = Date.parse((await store.db.selectFrom('events').select('recorded_at').where('id', '=', ids[4]!).executeTakeFirstOrThrow()).recorded_at);
    // Appended with a correct position and links: only its recording time gives it away.
    const append = (id: string, recordedAt: number) =>
      store.db.transaction().execute(async (trx) => {
        const row = { id, type: 'consent', entity_id: 'acme', phone: '+31612000999', email: null, at: '2026-02-01T10:00:00.000Z', recorded_at: new Date(recordedAt).toISOString(), payload: JSON.stringify({ channel: 'phone', status: 'granted', products: [], source: { method: 'paper' } }), key_id: null };
        await trx.insertInto('events').values(await linkRows(trx, [row])).execute();
      });
    // A minute behind the event ahead of it: two servers' clocks. Let through.
    await append('01900000-0000-7000-8000-0000000000b1', last - 60_000);
    expect((await store.verifyHistory('acme')).ok).toBe(true);
    // Ten months behind: put in later, back-dated.
    await append('01900000-0000-7000-8000-0000000000b2', last - 300 * 86_400_000);
    const r = await store.verifyHistory('acme');
    expect(r.problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: '01900000-0000-7000-8000-0000000000b2', seq: 7, problem: 'inserted' })]);
    expect(r.problems[0]!.detail).toMatch(/back-dated/);
  });

  it('names an event added outside every chain, and one moved to another entity', async () => {
    const row = await store.db.selectFrom('events').selectAll().where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    const forged = '01900000-0000-7000-8000-0000000000f1';
    await store.db.insertInto('events').values({ ...row, id: forged, phone: '+31612000999', chain: null, chain_seq: null, content_hash: null, prev_hash: null, hash: null }).execute();
    const r = await store.verifyHistory();
    expect(r.problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: forged, problem: 'inserted' })]);
    expect((await store.verifyHistory('acme')).problems).toEqual([expect.objectContaining({ eventId: forged })]);
    expect((await store.verifyHistory('beta')).ok).toBe(true);
    await store.db.deleteFrom('events').where('id', '=', forged).execute();
    await store.db.updateTable('events').set({ entity_id: 'beta' }).where('id', '=', ids[1]!).execute();
    expect((await store.verifyHistory()).problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: ids[1], problem: 'changed' })]);
  });

  it('keeps each entity\'s chain separate', async () => {
    await store.db.updateTable('events').set({ at: '2026-03-02T00:00:00.000Z' }).where('entity_id', '=', 'beta').execute();
    const r = await store.verifyHistory();
    expect(r.problems.map((p) => p.chain)).toEqual(['beta']);
    expect((await store.verifyHistory('acme')).ok).toBe(true);
  });

  /** What someone with write access could do after an edit: recompute every link of the chain and its head. */
  async function relinkChain(chain: string): Promise<void> {
    const rows = await store.db.selectFrom('events').selectAll().where('chain', '=', chain).orderBy('chain_seq').execute();
    let prev = '0'.repeat(64);
    for (const r of rows) {
      const content = contentDigest(r);
      const hash = linkHash(prev, Number(r.chain_seq), content, r.personal_hash ?? null);
      await store.db.updateTable('events').set({ content_hash: content, prev_hash: prev, hash }).where('id', '=', r.id).execute();
      prev = hash;
    }
    await store.db.updateTable('chain_heads').set({ seq: rows.length, hash: prev }).where('chain', '=', chain).execute();
  }

  describe('checkpoints: heads kept outside the database', () => {
    let checkpoint: ChainHead[];
    beforeEach(async () => {
      const r = await store.verifyHistory();
      checkpoint = r.heads;
      expect(checkpoint.map((h) => [h.chain, h.seq])).toEqual([['-', 1], ['acme', 5], ['beta', 1]]);
      expect(r.checkpointChains).toBe(0);
    });

    it('show a chain rewritten with every link recomputed, which the chain alone cannot', async () => {
      await store.db.updateTable('events').set({ at: '2020-01-01T00:00:00.000Z' }).where('id', '=', ids[2]!).execute();
      await relinkChain('acme');
      expect((await store.verifyHistory()).ok).toBe(true); // the limit a checkpoint closes
      const r = await store.verifyHistory(undefined, checkpoint);
      expect(r.ok).toBe(false);
      expect(r.checkpointChains).toBe(3);
      expect(r.problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: ids[4], seq: 5, problem: 'rewritten' })]);
      expect(r.heads.map((h) => h.chain)).toEqual(['-', 'beta']);
    });

    it('still match after new events and an erasure (history is only appended; redaction keeps links)', async () => {
      await app.recordConsent({ entityId: 'acme', channel: 'phone', status: 'granted', at: Date.parse('2026-07-01T10:00:00Z'), phone: '+31612000200' });
      await eraseSubject(app, { phone: '+31612000101', entityId: 'acme', scope: '*', suppress: false });
      const r = await store.verifyHistory(undefined, checkpoint);
      expect(r).toMatchObject({ ok: true, problems: [], checkpointChains: 3 });
      expect(r.heads.find((h) => h.chain === 'acme')!.seq).toBeGreaterThan(5);
    });

    it('show a chain cut short with its head moved back', async () => {
      await store.db.deleteFrom('events').where('id', '=', ids[4]!).execute();
      await relinkChain('acme');
      expect((await store.verifyHistory()).ok).toBe(true);
      const r = await store.verifyHistory('acme', checkpoint);
      expect(r.checkpointChains).toBe(1);
      expect(r.problems).toEqual([expect.objectContaining({ chain: 'acme', eventId: null, seq: 5, problem: 'rewritten' })]);
    });

    it('show a chain deleted whole, events and head', async () => {
      await store.db.deleteFrom('events').where('chain', '=', 'beta').execute();
      await store.db.deleteFrom('chain_heads').where('chain', '=', 'beta').execute();
      expect((await store.verifyHistory()).ok).toBe(true);
      const r = await store.verifyHistory(undefined, checkpoint);
      expect(r.problems).toEqual([expect.objectContaining({ chain: 'beta', eventId: null, seq: 1, problem: 'rewritten' })]);
    });

    it('are read from the output of `verify --json`, and a wrong file is named clearly', () => {
      const json = JSON.stringify({ ok: true, heads: checkpoint });
      expect(readCheckpoint(json, 'cp.json')).toEqual(checkpoint);
      expect(readCheckpoint(JSON.stringify(checkpoint), 'cp.json')).toEqual(checkpoint);
      expect(() => readCheckpoint('{"heads": [', 'cp.json')).toThrow(/cp\.json is not JSON/);
      expect(() => readCheckpoint(JSON.stringify({ heads: [{ chain: 'acme', seq: 5, hash: 'abc' }] }), 'cp.json')).toThrow(InputError);
      expect(() => readCheckpoint(JSON.stringify({ heads: [{ chain: 'acme', seq: 5, hash: 'abc' }] }), 'cp.json')).toThrow(/heads\.0\.hash/);
      expect(() => readCheckpoint(JSON.stringify([checkpoint[1], checkpoint[1]]), 'cp.json')).toThrow(/twice/);
    });
  });
});
