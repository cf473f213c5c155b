/**
 * The scrub's first check of a row against the suppression list (erased people's objections, kept
 * as HMAC-SHA256 of the number under each pepper: Suppressions in src/service/suppression.ts).
 *
 * Entries carry a 16-bit keyed tag of their number (since migration 0008): rows are compared by
 * tag, a few multiplications each. For entries made before, each row's HMAC must be computed.
 * Why by hand: node:crypto's createHmac costs about 2.9 µs a call (an object and a native call a
 * number), and the scrub checks every row under every pepper – with one erased person in the
 * store, a scrub of 10 million rows went from 7.4 s to 26 s. Here the key's two padded blocks are
 * hashed once; a number is then two SHA-256 compressions of one block each, without allocating.
 * Only the digest's first 32 bits are compared with the entries'; a row that matches one is
 * checked in full by the caller with phoneHash (node:crypto). test/scrub-suppression.test.ts
 * compares digests with node:crypto's for random keys and numbers.
 */
import { createHash } from 'node:crypto';
import { digitCount } from '../registers/number-index.js';
import { suppressionTag, tagSeed } from '../service/suppression.js';

// prettier-ignore
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// prettier-ignore
const H0 = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/** One SHA-256 compression: `out` = state after `block` (16 big-endian words) from `from`. */
export function compress(from: Int32Array, block: Int32Array, out: Int32Array, w: Int32Array): void {
  for (let t = 0; t < 16; t++) w[t] = block[t]!;
  for (let t = 16; t < 64; t++) {
    const a = w[t - 15]!;
    const b = w[t - 2]!;
    const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
    const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = from[0]!;
  let b = from[1]!;
  let c = from[2]!;
  let d = from[3]!;
  let e = from[4]!;
  let f = from[5]!;
  let g = from[6]!;
  let h = from[7]!;
  for (let t = 0; t < 64; t++) {
    const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t]! + w[t]!) | 0;
    const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  out[0] = (from[0]! + a) | 0;
  out[1] = (from[1]! + b) | 0;
  out[2] = (from[2]! + c) | 0;
  out[3] = (from[3]! + d) | 0;
  out[4] = (from[4]! + e) | 0;
  out[5] = (from[5]! + f) | 0;
  out[6] = (from[6]! + g) | 0;
  out[7] = (from[7]! + h) | 0;
}

/** A 64-byte block as 16 big-endian words. */
function words(bytes: Uint8Array): Int32Array {
  const out = new Int32Array(16);
  for (let i = 0; i < 16; i++) out[i] = (bytes[4 * i]! << 24) | (bytes[4 * i + 1]! << 16) | (bytes[4 * i + 2]! << 8) | bytes[4 * i + 3]!;
  return out;
}

/** HMAC-SHA256 under one key, for messages of at most 55 bytes (one block after the key's). */
export class ShortHmac {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly block = new Int32Array(16);
  private readonly mid = new Int32Array(8);
  private readonly w = new Int32Array(64);
  /** The last digest (8 words). */
  readonly digest = new Int32Array(8);

  constructor(key: string) {
    // RFC 2104: a key longer than the block is hashed first; the key is then padded with zeros.
    let k = Buffer.from(key, 'utf8');
    if (k.length > 64) k = createHash('sha256').update(k).digest();
    const pad = new Uint8Array(64);
    pad.set(k);
    compress(H0, words(pad.map((b) => b ^ 0x36)), this.inner, this.w);
    compress(H0, words(pad.map((b) => b ^ 0x5c)), this.outer, this.w);
  }

  /**
   * The HMAC of the message bytes already in `message` (ASCII, `length` ≤ 55, as 16 words whose
   * bytes beyond `length` are zero): sets `digest` and returns its first word.
   */
  ofBlock(message: Int32Array, length: number): number {
    const block = this.block;
    for (let i = 0; i < 16; i++) block[i] = message[i]!;
    // Padding: 0x80 after the message, the length in bits (after the key's block) at the end.
    block[length >> 2]! |= 0x80 << (24 - 8 * (length & 3));
    block[15] = (64 + length) * 8;
    compress(this.inner, block, this.mid, this.w);
    for (let i = 0; i < 8; i++) block[i] = this.mid[i]!;
    block[8] = 0x80000000 | 0;
    for (let i = 9; i < 15; i++) block[i] = 0;
    block[15] = (64 + 32) * 8;
    compress(this.outer, block, this.digest, this.w);
    return this.digest[0]!;
  }
}

/** The tags of the suppression entries (suppressionTag), by the pepper they were made under. */
export type TagsByPepper = Array<{ secret: string; tags: number[] }>;

/**
 * Says quickly that a number has no suppression entries. The entries' hashes are known, their
 * numbers not (that is the point of hashing them). Entries made since migration 0008 carry a 16-bit
 * keyed tag of the number (suppressionTag): each row's tag under each pepper is looked up in a
 * bitmap of the entries' tags – a few multiplications a row. Entries from before have only their
 * hash: then each row's number is hashed under each pepper (ShortHmac) and the first 32 bits are
 * looked up among the entries'.
 */
export class SuppressionFilter {
  private readonly hmacs: ShortHmac[];
  private readonly prefixes: Set<number>;
  /** Tag mode: per pepper with entries, its keys and a bit per tag of its entries. */
  private readonly tagged: Array<{ seed: [number, number]; bits: Int32Array }> | null;
  /** "+" and the digits, as big-endian words (bytes past the number zero). */
  private readonly message = new Int32Array(16);

  constructor(secrets: string[], hashes: Iterable<string>, tags: TagsByPepper | null = null) {
    this.tagged = tags
      ? tags.map(({ secret, tags: list }) => {
          const bits = new Int32Array(65536 / 32);
          for (const t of list) if (t >= 0) bits[t >>> 5]! |= 1 << (t & 31);
          return { seed: tagSeed(secret), bits };
        })
      : null;
    // The HMAC path only where some entry has no tag.
    this.hmacs = tags ? [] : secrets.map((s) => new ShortHmac(s));
    this.prefixes = new Set(tags ? [] : [...hashes].map((h) => Number.parseInt(h.slice(0, 8), 16) | 0));
  }

  /** False: the number (E.164 digits) has no entries. True: it may have – check with phoneHash. */
  mayHave(num: number): boolean {
    // Beyond 2^53 the float is not the number's digits: the caller checks those in full.
    if (!(num <= Number.MAX_SAFE_INTEGER) || num < 1) return true;
    if (this.tagged) {
      for (const { seed, bits } of this.tagged) {
        const t = suppressionTag(seed, num);
        if ((bits[t >>> 5]! & (1 << (t & 31))) !== 0) return true;
      }
      return false;
    }
    const m = this.message;
    m.fill(0);
    const len = 1 + digitCount(num);
    // '+' then the digits, the last first: hi·10^8 + lo, both int32 (num < 2^53 < 10^16).
    putByte(m, 0, 43);
    let lo = num % 1e8 | 0;
    let hi = ((num - lo) / 1e8) | 0;
    for (let i = len - 1; i >= 1; i--) {
      if (i >= len - 8) {
        const q = (lo / 10) | 0;
        putByte(m, i, 48 + lo - q * 10);
        lo = q;
      } else {
        const q = (hi / 10) | 0;
        putByte(m, i, 48 + hi - q * 10);
        hi = q;
      }
    }
    for (const h of this.hmacs) if (this.prefixes.has(h.ofBlock(m, len))) return true;
    return false;
  }
}

function putByte(words: Int32Array, i: number, byte: number): void {
  words[i >> 2]! |= byte << (24 - 8 * (i & 3));
}
