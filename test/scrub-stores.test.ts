/**
 * The scrub, its record and register imports on every store the suite runs (SQLite in memory,
 * and PostgreSQL when a cluster is available): the migration, the in-process path, the facts
 * read through the query builder, registers kept as rows.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { importRegister } from '../src/registers/import.js';
import { runScrub } from '../src/scrub/run.js';
import { ScrubStore } from '../src/scrub/store.js';
import { freshDb, storeNames } from './helpers/stores.js';

const NOW = Date.parse('2020-06-02T11:00:00+02:00');
const dir = mkdtempSync(join(tmpdir(), 'optline-scrub-stores-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(storeNames())('scrub on %s', (storeName) => {
  it('gives the single decisions, records the scrub, keeps registers as rows', async () => {
    const store = await Store.open(await freshDb(storeName));
    const app = await Optline.open(store, () => NOW);
    try {
      await app.putEntity('acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
      await app.putEntity('other', { name: 'Other', kind: 'charity', country: 'NL' });
      await app.recordConsent({ entityId: 'acme', channel: 'phone', status: 'granted', at: Date.parse('2019-01-01T10:00:00Z'), phone: '+31612345001' });
      await app.recordObjection({ entityId: 'acme', phone: '+31612345002', at: Date.parse('2019-05-01T10:00:00Z') });
      await app.recordConsent({ entityId: 'other', channel: 'phone', status: 'granted', at: Date.parse('2019-01-01T10:00:00Z'), phone: '+31612345003' });
      await app.recordReassignment({ phone: '+31612345001', at: Date.parse('2020-01-01T00:00:00Z') });
      const reg = await importRegister(app, 'nl-bel-me-niet', { country: 'NL', asOf: Date.parse('2020-05-01T00:00:00Z') }, '+31612345004\n+31612345005,2020-04-01\n');
      expect(reg.storage).toBe('table');

      const phones = ['+31612345001', '0612345002', '+31612345003', '+31612345004', '+31612345005', '+31612345006', 'x'];
      const input = join(dir, `${storeName}.csv`);
      writeFileSync(input, 'phone\n' + phones.join('\n') + '\n');
      const output = join(dir, `${storeName}.out.csv`);
      const r = await runScrub(app, { entityId: 'acme', input, output, workers: 0 });
      const rows = readFileSync(output, 'utf8').trimEnd().split('\n').slice(1);
      for (const [i, phone] of phones.entries()) {
        const d = await app.decide({ phone, entityId: 'acme' });
        expect(rows[i], phone).toBe(`${phone},${d.phone ?? ''},${d.allowed},${d.basis ?? ''},${d.denials.join('|')}`);
      }
      expect(new Set(rows.map((x) => x.split(',').slice(-3).join(','))).size).toBeGreaterThanOrEqual(3);

      const rec = await new ScrubStore(store).get(r.id);
      expect(rec).toMatchObject({ id: r.id, entityId: 'acme', status: 'done', rows: 7, invalid: 1, phoneColumn: 'phone' });
      expect(rec!.allowed + rec!.denied + rec!.invalid).toBe(7);
      expect((await new ScrubStore(store).recent(['acme'], 10)).map((x) => x.id)).toEqual([r.id]);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
