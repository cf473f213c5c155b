/**
 * How the scrub reads histories, on every store the suite runs (SQLite in memory, PostgreSQL when
 * the run has a cluster): a short list for a caller with many events reads each row's history by
 * number, a longer one first finds the caller's numbers; both give Optline.decide's answers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { runScrub } from '../src/scrub/run.js';
import { entityEventCount } from '../src/scrub/history.js';
import { eraseSubject } from '../src/service/retention.js';
import { freshDb, storeNames } from './helpers/stores.js';

const NOW = Date.parse('2026-11-30T15:00:00+01:00');

describe.each(storeNames())('scrub histories on %s', (storeName) => {
  let dir: string;
  let store: Store;
  let app: Optline;
  const numbers = Array.from({ length: 120 }, (_, i) => `+316${String(20000000 + i * 7919).padStart(8, '0')}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'optline-scrub-histories-'));
    store = await Store.open(await freshDb(storeName));
    app = await Optline.open(store, () => NOW);
    await app.putEntity('acme', { name: 'Acme', kind: 'company', country: 'NL' });
    for (const [i, phone] of numbers.entries()) {
      if (i % 3 === 0) await app.recordConsent({ entityId: 'acme', channel: 'phone', status: 'granted', at: Date.parse('2026-01-01'), phone, source: { method: 'web_form' } });
      else if (i % 3 === 1) await app.recordObjection({ entityId: 'acme', phone, at: Date.parse('2025-06-01') });
    }
    await app.recordReassignment({ phone: numbers[3]!, at: Date.parse('2026-03-01') });
    await eraseSubject(app, { phone: numbers[6]!, scope: '*', suppress: true });
  }, 120_000);

  afterAll(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts the caller's events and reassignments from the index", async () => {
    // 40 consents and 40 objections, one of each erased with number 6 (a consent), and a reassignment.
    expect(await entityEventCount(store, 'acme')).toBe(40 + 40 - 1 + 1);
  });

  for (const rows of [3, 120]) {
    it(`${rows} rows: every row as Optline.decide gives it (${rows === 3 ? 'each history read by number' : "the caller's numbers found first"})`, async () => {
      const list = join(dir, `list-${rows}.csv`);
      writeFileSync(list, ['id,phone', ...numbers.slice(0, rows).map((p, i) => `${i},${p}`)].join('\n') + '\n');
      const out = join(dir, `out-${rows}.csv`);
      const r = await runScrub(app, { entityId: 'acme', input: list, output: out, at: NOW });
      expect(r.counts.rows).toBe(rows);
      const lines = readFileSync(out, 'utf8').trimEnd().split('\n').slice(1);
      for (const [i, line] of lines.entries()) {
        const d = await app.decide({ phone: numbers[i]!, entityId: 'acme', at: NOW });
        expect(line.split(',').slice(2).join(','), numbers[i]).toBe(`${d.phone},${d.allowed},${d.basis ?? ''},${d.denials.join('|')}`);
      }
      // Allowed (the consent) and refused (the objection; no consent since 2026-07-01) both come up.
      expect(new Set(lines.map((l) => l.split(',')[3]))).toEqual(new Set(['true', 'false']));
    }, 120_000);
  }
});
