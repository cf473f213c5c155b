/** Servers sharing a store learn of a register copy another server imported. */
import { describe, expect, it } from 'vitest';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { freshDb, storeNames } from './helpers/stores.js';

// Only PostgreSQL is shared by several servers (one process owns a SQLite file).
describe.skipIf(!storeNames().includes('postgres'))('register copies across servers on PostgreSQL', () => {
  it('a second server picks up a copy the first one imported, and keeps the old copy until then', async () => {
    const db = await freshDb('postgres');
    const a = await Optline.open(await Store.open(db));
    const b = await Optline.open(await Store.open(db));
    try {
      await a.putEntity('acme', { name: 'Acme Ltd', kind: 'company', country: 'GB' });
      const at = Date.parse('2026-11-25T11:00:00Z');
      await a.replaceRegister('gb-tps', { country: 'GB', asOf: Date.parse('2026-11-20T00:00:00Z') }, '+447400123456,2024-01-01\n');
      expect((await b.decide({ phone: '+447400123456', entityId: 'acme', at })).denials).toContain('register_stale'); // b has no copy yet
      expect(await b.registry.refresh(b.store)).toEqual(['gb-tps']);
      expect((await b.decide({ phone: '+447400123456', entityId: 'acme', at })).denials).toEqual(['register_listed']);
      expect(await b.registry.refresh(b.store)).toEqual([]); // unchanged copies are not reloaded
      await a.replaceRegister('gb-tps', { country: 'GB', asOf: Date.parse('2026-11-21T00:00:00Z') }, '+447400123457,2024-01-01\n');
      expect((await b.decide({ phone: '+447400123456', entityId: 'acme', at })).denials).toEqual(['register_listed']); // old copy in force
      await b.registry.refresh(b.store);
      expect((await b.decide({ phone: '+447400123456', entityId: 'acme', at })).allowed).toBe(true);
    } finally {
      await a.close();
      await b.close();
      await a.store.close();
      await b.store.close();
    }
  });

  it('one copy that cannot be loaded holds up none of the others, and is named', async () => {
    const db = await freshDb('postgres');
    const a = await Optline.open(await Store.open(db));
    const b = await Optline.open(await Store.open(db));
    try {
      await a.replaceRegister('gb-tps', { country: 'GB', asOf: Date.parse('2026-11-20T00:00:00Z') }, '+447400123456,2024-01-01\n');
      await a.replaceRegister('us-dnc', { country: 'US', asOf: Date.parse('2026-11-20T00:00:00Z') }, '+12125550123\n');
      // The TPS copy's row names more numbers than its table holds (a damaged copy).
      await a.store.db.updateTable('registers').set({ count: 5 }).where('id', '=', 'gb-tps').execute();
      await expect(b.registry.refresh(b.store)).rejects.toThrow(/register gb-tps: Register gb-tps \(5 numbers/);
      expect(b.registry.list().map((r) => r.id)).toEqual(['us-dnc']);
    } finally {
      await a.close();
      await b.close();
      await a.store.close();
      await b.store.close();
    }
  });

  it('a bulk load (COPY) that fails midway leaves the copy in force', async () => {
    const store = await Store.open(await freshDb('postgres'));
    try {
      const meta = { id: 'us-dnc', country: 'US' as const, asOf: Date.parse('2026-11-20T00:00:00Z'), count: 2, loadedAt: 1000 };
      await store.replaceRegisterRows(meta, [{ e164: '+12125550123', listedAt: null }, { e164: '+12125550124', listedAt: Date.parse('2025-01-01T00:00:00Z') }]);
      function* failing() {
        yield { e164: '+12125550199', listedAt: null };
        throw new Error('the file ended early');
      }
      await expect(store.replaceRegisterRows({ ...meta, loadedAt: 2000, count: 1 }, failing())).rejects.toThrow();
      expect((await store.listRegisters()).map((r) => r.loadedAt)).toEqual([1000]);
      expect((await store.registerEntries('us-dnc')).map((e) => e.e164).sort()).toEqual(['+12125550123', '+12125550124']);
      expect((await store.registerEntries('us-dnc')).find((e) => e.e164 === '+12125550124')?.listedAt).toBe(Date.parse('2025-01-01T00:00:00Z'));
    } finally {
      await store.close();
    }
  });
});
