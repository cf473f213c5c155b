/**
 * The scrub's suppression filter hashes numbers with its own HMAC-SHA256 (src/scrub/suppression-filter.ts):
 * its digests must be node:crypto's, and it must never turn away a number that has entries.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ShortHmac, SuppressionFilter } from '../src/scrub/suppression-filter.js';
import { phoneHash, suppressionTag, tagSeed } from '../src/service/suppression.js';
import { prng } from './helpers/prng.js';

const rnd = prng(20261128);
const int = (n: number): number => Math.floor(rnd() * n);
const KEY_CHARS = 'abcXYZ0189-_/+= ëß€中';
const randomKey = (): string => Array.from({ length: int(140) }, () => KEY_CHARS[int(KEY_CHARS.length)]).join('');

function hex(words: Int32Array): string {
  return [...words].map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('');
}

function messageWords(bytes: Uint8Array): Int32Array {
  const m = new Int32Array(16);
  bytes.forEach((b, i) => (m[i >> 2]! |= b << (24 - 8 * (i & 3))));
  return m;
}

describe('ShortHmac', () => {
  it("gives node:crypto's HMAC-SHA256 for keys of 0 to 139 characters (longer than a block too) and messages of 0 to 55 bytes", () => {
    for (let k = 0; k < 300; k++) {
      const key = k === 0 ? '' : randomKey();
      const hmac = new ShortHmac(key);
      for (let j = 0; j < 10; j++) {
        const bytes = Uint8Array.from({ length: int(56) }, () => 32 + int(95));
        const first = hmac.ofBlock(messageWords(bytes), bytes.length);
        const expected = createHmac('sha256', key).update(bytes).digest('hex');
        expect(hex(hmac.digest), `key ${JSON.stringify(key)}, message ${Buffer.from(bytes).toString('latin1')}`).toBe(expected);
        expect(first >>> 0).toBe(Number.parseInt(expected.slice(0, 8), 16));
      }
    }
  });
});

describe('SuppressionFilter', () => {
  it('lets through every number that has an entry under any pepper, and turns away the others', () => {
    const secrets = [randomKey(), randomKey(), 'pepper'];
    // Numbers of 1 to 16 digits, up to 2^53.
    const numbers = Array.from({ length: 4000 }, (_, i) => (i < 16 ? Math.floor(10 ** i * (1 + rnd() * 8)) : Math.floor(rnd() * 10 ** (8 + int(8)))) + 1);
    numbers.push(Number.MAX_SAFE_INTEGER);
    const withEntries = numbers.filter((_, i) => i % 7 === 0);
    // Each entry is hashed under one of the peppers, as Suppressions.row writes them.
    const hashes = withEntries.map((num, i) => phoneHash(secrets[i % secrets.length]!, `+${num}`));
    const filter = new SuppressionFilter(secrets, hashes);
    for (const num of withEntries) expect(filter.mayHave(num), `+${num}`).toBe(true);
    const others = numbers.filter((_, i) => i % 7 !== 0);
    const passed = others.filter((num) => filter.mayHave(num));
    // Only a 32-bit collision lets another number through (about one in 10^6 here).
    expect(passed.length).toBeLessThanOrEqual(1);
    // Numbers the float cannot hold exactly always go to the full check.
    expect(filter.mayHave(2 ** 53 + 2)).toBe(true);
    expect(filter.mayHave(Number.NaN)).toBe(true);
  });

  it('by tags (entries since migration 0008): lets through every number with an entry, few others, and every number beyond 2^53', () => {
    const secrets = [randomKey(), 'pepper'];
    const numbers = Array.from({ length: 20000 }, () => Math.floor(rnd() * 10 ** (8 + int(8))) + 1);
    const withEntries = numbers.filter((_, i) => i % 50 === 0);
    const bySecret = secrets.map((secret, k) => ({ secret, tags: withEntries.filter((_, i) => i % 2 === k).map((num) => suppressionTag(tagSeed(secret), num)) }));
    const hashes = withEntries.map((num, i) => phoneHash(secrets[i % 2]!, `+${num}`));
    const filter = new SuppressionFilter(secrets, hashes, bySecret);
    for (const num of withEntries) expect(filter.mayHave(num), `+${num}`).toBe(true);
    const others = numbers.filter((_, i) => i % 50 !== 0);
    // 400 entries in 65,536 tags a pepper: about 0.6 % of the other numbers pass to the full check.
    const passed = others.filter((num) => filter.mayHave(num)).length;
    expect(passed).toBeLessThan(others.length * 0.02);
    expect(filter.mayHave(2 ** 53 + 2)).toBe(true);
    expect(suppressionTag(tagSeed('pepper'), 2 ** 53 + 2)).toBe(-1);
  });

  it('tags are 16 bits, keyed: another pepper gives other tags', () => {
    const a = tagSeed('pepper-a');
    const b = tagSeed('pepper-b');
    const nums = Array.from({ length: 1000 }, (_, i) => 31612000000 + i * 7919);
    expect(nums.every((n) => suppressionTag(a, n) >= 0 && suppressionTag(a, n) < 65536)).toBe(true);
    expect(nums.filter((n) => suppressionTag(a, n) === suppressionTag(b, n)).length).toBeLessThan(5);
    // Spread over the 65,536 values: 1,000 numbers, hardly any shared tag.
    expect(new Set(nums.map((n) => suppressionTag(a, n))).size).toBeGreaterThan(980);
  });

  it('without entries turns every number away', () => {
    const filter = new SuppressionFilter(['pepper'], []);
    expect([31612345678, 12025550123, 447400123456].some((n) => filter.mayHave(n))).toBe(false);
  });
});
