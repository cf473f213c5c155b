/**
 * The compact register index: membership and listing days against a plain Map, duplicates,
 * every layout (16/32-bit offsets, 16/32-bit days, several number lengths), snapshots.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { NumberIndex, NumberIndexBuilder, e164ToNumber } from '../src/registers/number-index.js';
import { readSnapshot, removeOtherGenerations, snapshotPath, writeSnapshot } from '../src/registers/snapshot.js';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'optline-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the index must answer: the earliest known listing day of each number. */
function reference(entries: Array<[number, number | null]>): Map<number, number | null> {
  const m = new Map<number, number | null>();
  for (const [n, at] of entries) {
    const day = at === null ? null : Math.floor(at / DAY) * DAY;
    const prev = m.get(n);
    if (prev === undefined) m.set(n, day);
    else if (day !== null && (prev === null || day < prev)) m.set(n, day);
  }
  return m;
}

function check(index: NumberIndex, ref: Map<number, number | null>, probes: number[]): void {
  expect(index.size).toBe(ref.size);
  for (const [n, day] of ref) expect(index.lookupNum(n), `number ${n}`).toBe(day);
  for (const p of probes) expect(index.has(p), `probe ${p}`).toBe(ref.has(p));
  const all = [...index.entries()];
  expect(all.map((e) => e.num)).toEqual([...ref.keys()].sort((a, b) => a - b));
  // The batch look-up agrees with the single one.
  const nums = new Float64Array([...ref.keys(), ...probes]);
  const out = new Int32Array(nums.length);
  index.indexOfMany(nums, nums.length, out);
  nums.forEach((n, i) => expect(out[i]).toBe(index.indexOf(n)));
}

const number = fc.oneof(
  fc.integer({ min: 31_600_000_000, max: 31_699_999_999 }),
  fc.integer({ min: 12_000_000_000, max: 19_999_999_999 }),
  fc.integer({ min: 4_915_100_000_000, max: 4_915_100_099_999 }),
  fc.integer({ min: 1_000_000, max: 999_999_999_999_999 }),
);
const when = fc.option(fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2199, 0, 1) }), { nil: null });

describe('NumberIndex', () => {
  it('answers membership and listing days like a Map, whatever the numbers and dates', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(number, when), { maxLength: 400 }), fc.array(number, { maxLength: 50 }), (entries, probes) => {
        const b = new NumberIndexBuilder();
        for (const [n, at] of entries) b.add(n, at);
        const index = b.finish();
        const ref = reference(entries);
        check(index, ref, [...probes, ...entries.map(([n]) => n + 1)]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the earliest known listing day of a duplicate', () => {
    const index = NumberIndex.build([
      { e164: '+31612345678', listedAt: null },
      { e164: '+31612345678', listedAt: Date.UTC(2015, 5, 1, 13) },
      { e164: '+31612345678', listedAt: Date.UTC(2012, 1, 1) },
      { e164: '+31612345679', listedAt: null },
      { e164: '+31612345679', listedAt: null },
    ]);
    expect(index.size).toBe(2);
    expect(index.lookup('+31612345678')).toBe(Date.UTC(2012, 1, 1));
    expect(index.lookup('+31612345679')).toBeNull();
    expect(index.lookup('+31612345670')).toBeUndefined();
  });

  it('holds a large register compactly and finds every number', () => {
    const b = new NumberIndexBuilder();
    const n = 2_000_000;
    let x = 12345;
    const sample: number[] = [];
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const num = 12_000_000_000 + (x % 8_000_000_000) + (i % 3) * 1_000_000_000;
      b.add(num, null);
      if (i % 1000 === 0) sample.push(num);
    }
    const index = b.finish();
    expect(index.byteLength / index.size).toBeLessThan(3.5);
    for (const s of sample) expect(index.has(s)).toBe(true);
    expect(index.has(11_999_999_999)).toBe(false);
    expect(NumberIndex.empty().has(31_612_345_678)).toBe(false);
  });

  it('stages past its first 4M numbers in place, with listing days that start arriving before it grows', () => {
    // The staging array grows in place (a resizable buffer) and becomes the sorted key array;
    // listing days switch on before it grows, and the grown part starts undated.
    const n = 4_500_000;
    const firstDated = 4_000_000;
    const b = new NumberIndexBuilder();
    const dayOf = (k: number) => (k % 7 === 0 ? Date.UTC(2010, 0, 1) + (k % 1000) * 86_400_000 : null);
    for (let i = 0; i < n; i++) {
      const k = (i * 7_919) % n; // every k once, out of order
      b.add(12_000_000_000 + k * 13, i >= firstDated ? dayOf(k) : null);
    }
    const index = b.finish();
    expect(index.size).toBe(n);
    for (let i = 0; i < n; i += 997) {
      const k = (i * 7_919) % n;
      const num = 12_000_000_000 + k * 13;
      expect(index.lookupNum(num), `number ${num}`).toBe(i >= firstDated ? dayOf(k) : null);
      expect(index.has(num + 1)).toBe(false);
    }
  }, 60_000);

  it('builds from arrays without touching them (callers keep other data by position)', () => {
    // EventIndex keeps rowids beside the numbers it builds from: sorting or compacting its array
    // in place would pair numbers with other numbers' events.
    const nums = Float64Array.from([31_612_345_679, 31_612_345_678, 31_612_345_678, 12_025_550_123]);
    const before = Array.from(nums);
    const index = NumberIndex.fromArrays(nums, null);
    expect(Array.from(nums)).toEqual(before);
    expect(index.size).toBe(3);
    for (const n of before) expect(index.has(n)).toBe(true);
  });

  it('reads E.164 text the way the store writes it', () => {
    expect(e164ToNumber('+31612345678')).toBe(31_612_345_678);
    expect(e164ToNumber('+999999999999999')).toBe(999_999_999_999_999);
  });
});

describe('snapshots', () => {
  const index = NumberIndex.build([
    { e164: '+31612345678', listedAt: Date.UTC(2014, 2, 3) },
    { e164: '+31201234567', listedAt: null },
    { e164: '+3197012345678', listedAt: Date.UTC(2019, 0, 1) },
  ]);
  const meta = { id: 'nl-bel-me-niet', country: 'NL', asOf: Date.UTC(2021, 5, 1), loadedAt: 1_700_000_000_000 };

  it('round-trips through a file, in shared memory', () => {
    const path = writeSnapshot(dir, meta, index);
    expect(path).toBe(snapshotPath(dir, meta.id, meta.loadedAt));
    const back = readSnapshot(path);
    expect(back.meta).toMatchObject({ ...meta, count: 3 });
    expect(back.index.image).toBeInstanceOf(SharedArrayBuffer);
    expect([...back.index.entries()]).toEqual([...index.entries()]);
    expect(back.index.lookup('+31612345678')).toBe(Date.UTC(2014, 2, 3));
  });

  it('refuses a damaged or truncated file', () => {
    const path = writeSnapshot(dir, { ...meta, loadedAt: 2 }, index);
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(path, bytes);
    expect(() => readSnapshot(path)).toThrow(/damaged/);
    writeFileSync(path, bytes.subarray(0, bytes.length - 8));
    expect(() => readSnapshot(path)).toThrow(/bytes/);
    writeFileSync(path, 'hello');
    expect(() => readSnapshot(path)).toThrow();
  });

  it('clean-up keeps the copy in force and newer ones', () => {
    const sub = mkdtempSync(join(dir, 'gen-'));
    for (const gen of [10, 20, 30]) writeSnapshot(sub, { ...meta, loadedAt: gen }, index);
    writeFileSync(join(sub, `${meta.id}.15.bin.tmp-1-1`), 'partial');
    removeOtherGenerations(sub, meta.id, 20);
    expect(() => readSnapshot(snapshotPath(sub, meta.id, 20))).not.toThrow();
    expect(() => readSnapshot(snapshotPath(sub, meta.id, 30))).not.toThrow();
    expect(() => readSnapshot(snapshotPath(sub, meta.id, 10))).toThrow();
    expect(() => readFileSync(join(sub, `${meta.id}.15.bin.tmp-1-1`))).toThrow();
  });
});
