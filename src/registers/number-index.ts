/**
 * A register copy in memory: up to hundreds of millions of numbers in typed arrays.
 *
 * An E.164 number has at most 15 digits, so it is exact as a float64. Numbers are grouped by
 * their digit count (segments); within a segment the range [min, max] is cut into equal buckets
 * of 2^shift numbers, about eight numbers a bucket. A bucket-offset table (Uint32) says where each
 * bucket's numbers start, and a number is stored only as its offset inside its bucket – 16 bits
 * when buckets are at most 65,536 wide (any segment with more than ~1 number per 8,000 of its
 * range, e.g. every real national register), 32 bits otherwise. Membership is: compute the
 * bucket, binary-search its few entries: two or three cache misses instead of ~27 for a binary
 * search over 100 million float64s, whatever the size.
 *
 * Memory: about 2.5 bytes a number (+2 bytes with listing days), so a 240-million register takes
 * ~600 MB where a JS Set could not hold it at all (2^24 entries) and sorted float64s take 1.9 GB.
 *
 * The whole index lives in one buffer with a fixed layout (the "image"), so a snapshot file is
 * that buffer as is (see snapshot.ts), and worker threads share it as a SharedArrayBuffer
 * instead of copying it.
 */

const DAY_MS = 86_400_000;
/** Days array sentinel for "listed, date unknown" (Int32 layout). */
const NO_DAY = -2147483648;
/** Days array sentinel in the compact Uint16 layout (days stored + 0, in [0, 65534]). */
const NO_DAY16 = 0xffff;

const IMAGE_MAGIC = 0x584e4c4f; // 'OLNX'
const IMAGE_VERSION = 1;
const HEADER_BYTES = 64;
const SEGMENT_BYTES = 64;
const FLAG_DAYS = 1;
const FLAG_DAYS16 = 2;
/** Target numbers per bucket. */
const PER_BUCKET = 8;
/** Buckets up to this size are sorted by insertion; larger ones with a native sort. */
const SMALL_BUCKET = 48;

const POW10: number[] = [];
for (let i = 0, p = 1; i <= 16; i++, p *= 10) POW10.push(p);

/** Number of decimal digits of a positive integer below 10^16 (E.164 numbers of up to 11 digits counted up, longer ones compared: the scrub writes one per row). */
export function digitCount(n: number): number {
  if (n < 1e10) {
    let d = 1;
    while (d < 10 && n >= POW10[d]!) d++;
    return d;
  }
  return n < 1e11 ? 11 : n < 1e12 ? 12 : n < 1e13 ? 13 : n < 1e14 ? 14 : n < 1e15 ? 15 : 16;
}

export function e164ToNumber(e164: string): number {
  return Number(e164.charCodeAt(0) === 43 ? e164.slice(1) : e164);
}

export function numberToE164(n: number): string {
  return '+' + String(n);
}

const align8 = (n: number): number => (n + 7) & ~7;

interface SegmentPlan {
  digits: number;
  count: number;
  min: number;
  max: number;
  shift: number;
  buckets: number;
  wide: boolean;
  /** Start of this segment's bucket offsets (bucket count + 1 entries) in the offsets array. */
  offStart: number;
  /** Start of this segment's entries in the days array (global entry index). */
  base: number;
  /** Start of this segment's entries in res16 or res32. */
  resStart: number;
}

interface Layout {
  offsets: number;
  res16: number;
  res32: number;
  days: number;
  total: number;
}

function layoutOf(segCount: number, offsetCount: number, res16Count: number, res32Count: number, count: number, daysBytes: number): Layout {
  const offsets = align8(HEADER_BYTES + segCount * SEGMENT_BYTES);
  const res16 = align8(offsets + offsetCount * 4);
  const res32 = align8(res16 + res16Count * 2);
  const days = align8(res32 + res32Count * 4);
  const total = align8(days + count * daysBytes);
  return { offsets, res16, res32, days, total };
}

/** Shared memory where available, so worker threads can read the index without a copy. */
function allocate(bytes: number): SharedArrayBuffer | ArrayBuffer {
  return typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

export class NumberIndex {
  /** The index image: header, segment table, offsets, residues, days. */
  readonly image: SharedArrayBuffer | ArrayBuffer;
  private readonly count: number;
  private readonly segCount: number;
  private readonly segMin: Float64Array;
  private readonly segMax: Float64Array;
  private readonly segInv: Float64Array;
  private readonly segWidth: Float64Array;
  private readonly segOff: Int32Array;
  private readonly segBase: Int32Array;
  private readonly segRes: Int32Array;
  private readonly segWide: Uint8Array;
  private readonly offsets: Uint32Array;
  private readonly res16: Uint16Array;
  private readonly res32: Uint32Array;
  private readonly days16: Uint16Array | null;
  private readonly days32: Int32Array | null;

  private constructor(image: SharedArrayBuffer | ArrayBuffer) {
    this.image = image;
    const h = new DataView(image, 0, HEADER_BYTES);
    if (image.byteLength < HEADER_BYTES || h.getUint32(0, true) !== IMAGE_MAGIC) throw new Error('not a number index image');
    if (h.getUint32(4, true) !== IMAGE_VERSION) throw new Error(`number index image version ${h.getUint32(4, true)} is not supported`);
    const flags = h.getUint32(8, true);
    this.segCount = h.getUint32(12, true);
    this.count = h.getFloat64(16, true);
    const offsetCount = h.getFloat64(24, true);
    const res16Count = h.getFloat64(32, true);
    const res32Count = h.getFloat64(40, true);
    const daysBytes = flags & FLAG_DAYS ? (flags & FLAG_DAYS16 ? 2 : 4) : 0;
    const l = layoutOf(this.segCount, offsetCount, res16Count, res32Count, this.count, daysBytes);
    if (l.total !== image.byteLength) throw new Error(`number index image is ${image.byteLength} bytes, its header says ${l.total}`);
    const n = this.segCount;
    this.segMin = new Float64Array(n);
    this.segMax = new Float64Array(n);
    this.segInv = new Float64Array(n);
    this.segWidth = new Float64Array(n);
    this.segOff = new Int32Array(n);
    this.segBase = new Int32Array(n);
    this.segRes = new Int32Array(n);
    this.segWide = new Uint8Array(n);
    const s = new DataView(image, HEADER_BYTES, n * SEGMENT_BYTES);
    for (let k = 0; k < n; k++) {
      const o = k * SEGMENT_BYTES;
      this.segMin[k] = s.getFloat64(o, true);
      this.segMax[k] = s.getFloat64(o + 8, true);
      const shift = s.getUint32(o + 16, true);
      this.segWide[k] = s.getUint32(o + 20, true);
      this.segOff[k] = s.getFloat64(o + 24, true);
      this.segBase[k] = s.getFloat64(o + 32, true);
      this.segRes[k] = s.getFloat64(o + 40, true);
      this.segWidth[k] = 2 ** shift;
      this.segInv[k] = 2 ** -shift;
    }
    this.offsets = new Uint32Array(image, l.offsets, offsetCount);
    this.res16 = new Uint16Array(image, l.res16, res16Count);
    this.res32 = new Uint32Array(image, l.res32, res32Count);
    this.days16 = daysBytes === 2 ? new Uint16Array(image, l.days, this.count) : null;
    this.days32 = daysBytes === 4 ? new Int32Array(image, l.days, this.count) : null;
  }

  /** An index over an image made by this class (a snapshot, or another thread's index). */
  static fromImage(image: SharedArrayBuffer | ArrayBuffer): NumberIndex {
    return new NumberIndex(image);
  }

  /** Builds from objects (small registers, tests). Large inputs: NumberIndexBuilder. */
  static build(entries: Iterable<{ e164: string; listedAt: number | null }>): NumberIndex {
    const b = new NumberIndexBuilder();
    for (const e of entries) b.add(e164ToNumber(e.e164), e.listedAt);
    return b.finish();
  }

  /** Builds from parallel arrays of E.164 numbers (digits as numbers) and listing days (NO_DAY: unknown), which are left as they are. */
  static fromArrays(nums: Float64Array, days: Int32Array | null, length = nums.length): NumberIndex {
    return buildImage([{ nums, days, length }], false);
  }

  static empty(): NumberIndex {
    return buildImage([], true);
  }

  get size(): number {
    return this.count;
  }

  get byteLength(): number {
    return this.image.byteLength;
  }

  get hasDays(): boolean {
    return this.days16 !== null || this.days32 !== null;
  }

  /** Position of a number (E.164 digits as a number) in the index, or -1. */
  indexOf(num: number): number {
    const segs = this.segCount;
    for (let k = 0; k < segs; k++) {
      const min = this.segMin[k]!;
      if (num < min || num > this.segMax[k]!) continue;
      const d = num - min;
      const b = (d * this.segInv[k]!) | 0;
      const r = d - b * this.segWidth[k]!;
      const o = this.segOff[k]! + b;
      const rs = this.segRes[k]!;
      const lo = rs + this.offsets[o]!;
      const hi = rs + this.offsets[o + 1]! - 1;
      const at = this.segWide[k] === 1 ? search32(this.res32, lo, hi, r) : search16(this.res16, lo, hi, r);
      return at < 0 ? -1 : this.segBase[k]! + (at - rs);
    }
    return -1;
  }

  /**
   * indexOf for many numbers at once: first every bucket's bounds, then every search. The loads
   * of one pass do not depend on each other, so the CPU overlaps their cache misses (about 3x
   * faster than one number at a time on a register that does not fit in the cache).
   * `out[i]` is the entry position of nums[i] or -1; `bounds` is scratch space (2 * n).
   */
  indexOfMany(nums: Float64Array, n: number, out: Int32Array, bounds: Uint32Array = new Uint32Array(2 * n)): void {
    const segs = this.segCount;
    const offsets = this.offsets;
    const segMin = this.segMin;
    const segMax = this.segMax;
    const segInv = this.segInv;
    const segOff = this.segOff;
    for (let i = 0; i < n; i++) {
      const num = nums[i]!;
      let k = 0;
      while (k < segs && (num < segMin[k]! || num > segMax[k]!)) k++;
      if (k === segs) {
        out[i] = -1;
        continue;
      }
      out[i] = k;
      const o = segOff[k]! + Math.floor((num - segMin[k]!) * segInv[k]!);
      bounds[2 * i] = offsets[o]!;
      bounds[2 * i + 1] = offsets[o + 1]!;
    }
    const { segWidth, segRes, segBase, segWide } = this;
    const res16 = this.res16;
    const res32 = this.res32;
    for (let i = 0; i < n; i++) {
      const k = out[i]!;
      if (k < 0) continue;
      const d = nums[i]! - segMin[k]!;
      const r = d - Math.floor(d * segInv[k]!) * segWidth[k]!;
      const lo = segRes[k]! + bounds[2 * i]!;
      const hi = segRes[k]! + bounds[2 * i + 1]! - 1;
      // One search function per array type: each keyed load then sees one element kind.
      const at = segWide[k] === 1 ? search32(res32, lo, hi, r) : search16(res16, lo, hi, r);
      out[i] = at < 0 ? -1 : segBase[k]! + (at - segRes[k]!);
    }
  }

  has(num: number): boolean {
    return this.indexOf(num) >= 0;
  }

  /** Listing day of the entry at `i` as epoch ms (day start UTC), or null when unknown. */
  listedAtOf(i: number): number | null {
    if (this.days16) {
      const d = this.days16[i]!;
      return d === NO_DAY16 ? null : d * DAY_MS;
    }
    if (this.days32) {
      const d = this.days32[i]!;
      return d === NO_DAY ? null : d * DAY_MS;
    }
    return null;
  }

  /** Listing day as a day number (days since 1970-01-01), or NO_DAY when unknown. */
  dayOf(i: number): number {
    if (this.days16) {
      const d = this.days16[i]!;
      return d === NO_DAY16 ? NO_DAY : d;
    }
    return this.days32 ? this.days32[i]! : NO_DAY;
  }

  /** undefined: not listed; null: listed, date unknown; number: listed since (epoch ms). */
  lookupNum(num: number): number | null | undefined {
    const i = this.indexOf(num);
    return i < 0 ? undefined : this.listedAtOf(i);
  }

  /** undefined: not listed; null: listed, date unknown; number: listed since (epoch ms, day start UTC). */
  lookup(e164: string): number | null | undefined {
    return this.lookupNum(e164ToNumber(e164));
  }

  /** Every entry in ascending order (tests, exports). */
  *entries(): Generator<{ num: number; listedAt: number | null }> {
    for (let k = 0; k < this.segCount; k++) {
      const res = this.segWide[k] === 1 ? this.res32 : this.res16;
      const o = this.segOff[k]!;
      const rs = this.segRes[k]!;
      const base = this.segBase[k]!;
      const min = this.segMin[k]!;
      const width = this.segWidth[k]!;
      const end = k + 1 < this.segCount ? this.segBase[k + 1]! : this.count;
      let b = 0;
      for (let i = 0; i < end - base; i++) {
        while (this.offsets[o + b + 1]! <= i) b++;
        yield { num: min + b * width + res[rs + i]!, listedAt: this.listedAtOf(base + i) };
      }
    }
  }
}

/** Position of r in the sorted res[lo..hi], or -1 (indexOf, indexOfMany; one function per array type, so each keyed load sees one element kind). */
function search16(res: Uint16Array, lo: number, hi: number, r: number): number {
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = res[mid]!;
    if (v === r) return mid;
    if (v < r) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function search32(res: Uint32Array, lo: number, hi: number, r: number): number {
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = res[mid]!;
    if (v === r) return mid;
    if (v < r) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

export const NUMBER_INDEX_NO_DAY = NO_DAY;

interface Staged {
  nums: Float64Array;
  days: Int32Array | null;
  length: number;
}

/** A staging array's first size, and the most one grows to (resizable ArrayBuffers stop at 4 GB). */
const CHUNK = 1 << 22;
const MAX_STAGED = 2 ** 32 / 8;

/**
 * Staging arrays grow in place: a resizable ArrayBuffer reserves its address space up front and
 * takes memory only as it grows, so a register of any size up to 512M numbers stays in one array
 * that is sorted where it lies – no second array to copy it into (that doubled the import's peak).
 */
function stagedNums(length: number): Float64Array {
  return new Float64Array(new ArrayBuffer(8 * length, { maxByteLength: 8 * MAX_STAGED }));
}

function stagedDays(length: number): Int32Array {
  return new Int32Array(new ArrayBuffer(4 * length, { maxByteLength: 4 * MAX_STAGED })).fill(NO_DAY);
}

/** Doubles a staging array's room (up to MAX_STAGED numbers); false when it is as large as it gets. */
function growStaged(c: Staged): boolean {
  const old = c.nums.length;
  if (old >= MAX_STAGED) return false;
  const length = Math.min(MAX_STAGED, old * 2);
  (c.nums.buffer as ArrayBuffer).resize(8 * length);
  c.nums = new Float64Array(c.nums.buffer, 0, length);
  if (c.days) {
    (c.days.buffer as ArrayBuffer).resize(4 * length);
    c.days = new Int32Array(c.days.buffer, 0, length);
    c.days.fill(NO_DAY, old);
  }
  return true;
}

/**
 * Collects numbers without a JS object per entry (chunks of 4M float64s, listing days only once a
 * dated entry arrives) and builds the index in O(n): counting sort into buckets, then a small sort
 * inside each bucket.
 */
export class NumberIndexBuilder {
  private chunks: Staged[] = [];
  private current: Staged | null = null;
  private anyDay = false;
  private total = 0;

  /** num: E.164 digits as a number; listedAt: epoch ms or null. */
  add(num: number, listedAt: number | null): void {
    if (!(num >= 1 && num < 1e16 && Math.floor(num) === num)) throw new RangeError(`not an E.164 number: ${num}`);
    let c = this.current;
    if (!c || (c.length === c.nums.length && !growStaged(c))) {
      c = { nums: stagedNums(CHUNK), days: this.anyDay ? stagedDays(CHUNK) : null, length: 0 };
      this.chunks.push(c);
      this.current = c;
    }
    if (listedAt != null) {
      if (!this.anyDay) {
        this.anyDay = true;
        for (const ch of this.chunks) ch.days = stagedDays(ch.nums.length);
      }
      c.days![c.length] = Math.floor(listedAt / DAY_MS);
    }
    c.nums[c.length++] = num;
    this.total++;
  }

  get count(): number {
    return this.total;
  }

  finish(): NumberIndex {
    const chunks = this.chunks;
    this.chunks = [];
    this.current = null;
    return buildImage(chunks, true);
  }
}

interface Stats {
  count: Float64Array;
  min: Float64Array;
  max: Float64Array;
  hasDays: boolean;
  days16: boolean;
}

function statsOf(chunks: Staged[]): Stats {
  const count = new Float64Array(17);
  const min = new Float64Array(17).fill(Infinity);
  const max = new Float64Array(17).fill(-Infinity);
  let hasDays = false;
  let days16 = true;
  for (const c of chunks) {
    const { nums, days, length } = c;
    for (let i = 0; i < length; i++) {
      const n = nums[i]!;
      const d = digitCount(n);
      count[d]!++;
      if (n < min[d]!) min[d] = n;
      if (n > max[d]!) max[d] = n;
      if (days) {
        const day = days[i]!;
        if (day !== NO_DAY) {
          hasDays = true;
          if (day < 0 || day >= NO_DAY16) days16 = false;
        }
      }
    }
  }
  return { count, min, max, hasDays, days16 };
}

/** Segment plans for the digit counts present, with their bucket sizes and places in the image. */
function planSegments(count: Float64Array, min: Float64Array, max: Float64Array): { segs: SegmentPlan[]; offsetCount: number; res16Count: number; res32Count: number; total: number } {
  const segs: SegmentPlan[] = [];
  let offsetCount = 0;
  let base = 0;
  let res16Count = 0;
  let res32Count = 0;
  for (let d = 1; d <= 16; d++) {
    const n = count[d]!;
    if (n === 0) continue;
    const range = max[d]! - min[d]!;
    const target = Math.max(1, Math.ceil(n / PER_BUCKET));
    let shift = 0;
    while (shift < 32 && Math.floor(range / 2 ** shift) + 1 > target) shift++;
    const buckets = Math.floor(range / 2 ** shift) + 1;
    const wide = shift > 16;
    segs.push({ digits: d, count: n, min: min[d]!, max: max[d]!, shift, buckets, wide, offStart: offsetCount, base, resStart: wide ? res32Count : res16Count });
    offsetCount += buckets + 1;
    base += n;
    if (wide) res32Count += n;
    else res16Count += n;
  }
  return { segs, offsetCount, res16Count, res32Count, total: base };
}

/**
 * Builds the image. The usual way: one key per number (the number itself, or with listing days
 * the number's offset in its segment * 65536 + the day, when that stays below 2^53), a native
 * sort of one Float64Array, then one sequential pass. Anything else (dated entries spread over
 * a huge range) takes the bucket counting sort.
 */
function buildImage(chunks: Staged[], ownsChunks: boolean): NumberIndex {
  const st = statsOf(chunks);
  const { count, min, max, hasDays, days16 } = st;
  let total = 0;
  let keySpace = 0;
  const keyBase = new Float64Array(17);
  for (let d = 1; d <= 16; d++) {
    if (count[d] === 0) continue;
    total += count[d]!;
    keyBase[d] = keySpace;
    keySpace += (max[d]! - min[d]! + 1) * 65536;
  }
  if (hasDays && (!days16 || keySpace >= 2 ** 53)) return buildByBuckets(chunks, st);

  // Keys: the builder's one staging array (any register up to 512M numbers) becomes the key array
  // where it lies – sorted and compacted in place, so never a caller's array (fromArrays); others
  // are copied chunk by chunk into one array (each released once copied).
  const single = ownsChunks && chunks.length === 1 ? chunks[0]! : null;
  const keys = single ? single.nums.subarray(0, single.length) : new Float64Array(total);
  let at = 0;
  for (const c of chunks) {
    const { nums, days, length } = c;
    if (hasDays) {
      // Also in place (keys is then this chunk's own array): key i depends only on number i and day i.
      for (let i = 0; i < length; i++) {
        const n = nums[i]!;
        const dg = digitCount(n);
        const day = days ? days[i]! : NO_DAY;
        keys[at++] = keyBase[dg]! + (n - min[dg]!) * 65536 + (day === NO_DAY ? NO_DAY16 : day);
      }
    } else if (c !== single) {
      keys.set(length === nums.length ? nums : nums.subarray(0, length), at);
      at += length;
    }
    c.nums = new Float64Array(0);
    c.days = null;
  }
  keys.sort();

  // Drop duplicates in place (sorted: a number's earliest known day comes first), counting per segment.
  const kept = new Float64Array(17);
  let w = 0;
  let seg = 1;
  let prevNum = -1;
  for (let i = 0; i < total; i++) {
    const key = keys[i]!;
    let num: number;
    if (hasDays) {
      while (seg < 16 && (count[seg] === 0 || key >= keyBase[seg]! + (max[seg]! - min[seg]! + 1) * 65536)) seg++;
      num = min[seg]! + Math.floor((key - keyBase[seg]!) / 65536);
    } else {
      num = key;
      while (seg < 16 && (count[seg] === 0 || num > max[seg]!)) seg++;
    }
    if (num === prevNum) continue;
    prevNum = num;
    keys[w++] = key;
    kept[seg]!++;
  }
  const plan = planSegments(kept, min, max);
  const daysBytes = hasDays ? 2 : 0;
  const l = layoutOf(plan.segs.length, plan.offsetCount, plan.res16Count, plan.res32Count, plan.total, daysBytes);
  const image = allocate(l.total);
  const offsets = new Uint32Array(image, l.offsets, plan.offsetCount);
  const res16 = new Uint16Array(image, l.res16, plan.res16Count);
  const res32 = new Uint32Array(image, l.res32, plan.res32Count);
  const outDays = daysBytes ? new Uint16Array(image, l.days, plan.total) : null;
  let i = 0;
  for (const s of plan.segs) {
    const inv = 2 ** -s.shift;
    const width = 2 ** s.shift;
    const kb = keyBase[s.digits]!;
    for (let j = 0; j < s.count; j++, i++) {
      const key = keys[i]!;
      let dlt: number;
      if (outDays) {
        const q = Math.floor((key - kb) / 65536);
        outDays[s.base + j] = key - kb - q * 65536;
        dlt = q;
      } else {
        dlt = key - s.min;
      }
      const b = Math.floor(dlt * inv);
      offsets[s.offStart + b + 1]!++;
      if (s.wide) res32[s.resStart + j] = dlt - b * width;
      else res16[s.resStart + j] = dlt - b * width;
    }
    let acc = 0;
    for (let b = 0; b <= s.buckets; b++) {
      acc += offsets[s.offStart + b]!;
      offsets[s.offStart + b] = acc;
    }
  }
  return finishImage(image, plan.segs, plan.offsetCount, plan.res16Count, plan.res32Count, plan.total, daysBytes);
}

function buildByBuckets(chunks: Staged[], st: Stats): NumberIndex {
  const { count, min, max, hasDays, days16 } = st;
  const segOfDigits = new Int32Array(17).fill(-1);
  const plan = planSegments(count, min, max);
  const segs = plan.segs;
  for (let k = 0; k < segs.length; k++) segOfDigits[segs[k]!.digits] = k;
  const offsetCount = plan.offsetCount;
  let res16Count = plan.res16Count;
  let res32Count = plan.res32Count;
  const total = plan.total;
  const daysBytes = hasDays ? (days16 ? 2 : 4) : 0;
  let l = layoutOf(segs.length, offsetCount, res16Count, res32Count, total, daysBytes);
  let image = allocate(l.total);
  const offsets = new Uint32Array(image, l.offsets, offsetCount);
  const res16 = new Uint16Array(image, l.res16, res16Count);
  const res32 = new Uint32Array(image, l.res32, res32Count);
  const outDays = new Int32Array(hasDays ? total : 0);

  // 2. Count per bucket, then prefix sums (offsets[b] = start of bucket b, local to the segment).
  for (const c of chunks) {
    const { nums, length } = c;
    for (let i = 0; i < length; i++) {
      const n = nums[i]!;
      const s = segs[segOfDigits[digitCount(n)]!]!;
      offsets[s.offStart + Math.floor((n - s.min) * 2 ** -s.shift) + 1]!++;
    }
  }
  for (const s of segs) {
    let acc = 0;
    for (let b = 0; b <= s.buckets; b++) {
      acc += offsets[s.offStart + b]!;
      offsets[s.offStart + b] = acc;
    }
  }
  // 3. Scatter each number into its bucket.
  const cursor = offsets.slice();
  for (const c of chunks) {
    const { nums, days, length } = c;
    for (let i = 0; i < length; i++) {
      const n = nums[i]!;
      const s = segs[segOfDigits[digitCount(n)]!]!;
      const dlt = n - s.min;
      const b = Math.floor(dlt * 2 ** -s.shift);
      const r = dlt - b * 2 ** s.shift;
      const pos = cursor[s.offStart + b]!++;
      if (s.wide) res32[s.resStart + pos] = r;
      else res16[s.resStart + pos] = r;
      if (hasDays) outDays[s.base + pos] = days ? days[i]! : NO_DAY;
    }
    // The staged chunk is no longer needed: let it go before the next one is scattered.
    c.nums = new Float64Array(0);
    c.days = null;
  }
  // 4. Sort inside buckets and drop duplicates (a duplicate keeps the earliest known listing day).
  let removed = 0;
  for (const s of segs) {
    const res: Uint16Array | Uint32Array = s.wide ? res32 : res16;
    let w = 0;
    for (let b = 0; b < s.buckets; b++) {
      const from = offsets[s.offStart + b]!;
      const to = offsets[s.offStart + b + 1]!;
      sortBucket(res, outDays, hasDays, s.resStart, s.base, from, to);
      offsets[s.offStart + b] = w;
      for (let i = from; i < to; i++) {
        const r = res[s.resStart + i]!;
        if (w > offsets[s.offStart + b]! && res[s.resStart + w - 1] === r) {
          if (hasDays) {
            const day = outDays[s.base + i]!;
            const kept = outDays[s.base + w - 1]!;
            if (day !== NO_DAY && (kept === NO_DAY || day < kept)) outDays[s.base + w - 1] = day;
          }
          continue;
        }
        res[s.resStart + w] = r;
        if (hasDays) outDays[s.base + w] = outDays[s.base + i]!;
        w++;
      }
    }
    offsets[s.offStart + s.buckets] = w;
    removed += s.count - w;
    s.count = w;
  }
  // 5. With duplicates gone, compact into an image of the exact size.
  if (removed > 0) {
    let b16 = 0;
    let b32 = 0;
    let bAll = 0;
    const newBase: number[] = [];
    const newRes: number[] = [];
    for (const s of segs) {
      newBase.push(bAll);
      newRes.push(s.wide ? b32 : b16);
      bAll += s.count;
      if (s.wide) b32 += s.count;
      else b16 += s.count;
    }
    const l2 = layoutOf(segs.length, offsetCount, b16, b32, bAll, daysBytes);
    const image2 = allocate(l2.total);
    new Uint32Array(image2, l2.offsets, offsetCount).set(offsets);
    const r16 = new Uint16Array(image2, l2.res16, b16);
    const r32 = new Uint32Array(image2, l2.res32, b32);
    const compactDays = new Int32Array(hasDays ? bAll : 0);
    segs.forEach((s, k) => {
      if (s.wide) r32.set(res32.subarray(s.resStart, s.resStart + s.count), newRes[k]);
      else r16.set(res16.subarray(s.resStart, s.resStart + s.count), newRes[k]);
      if (hasDays) compactDays.set(outDays.subarray(s.base, s.base + s.count), newBase[k]);
      s.base = newBase[k]!;
      s.resStart = newRes[k]!;
    });
    image = image2;
    l = l2;
    res16Count = b16;
    res32Count = b32;
    writeDays(image, l, compactDays, daysBytes);
    return finishImage(image, segs, offsetCount, res16Count, res32Count, bAll, daysBytes);
  }
  writeDays(image, l, outDays, daysBytes);
  return finishImage(image, segs, offsetCount, res16Count, res32Count, total, daysBytes);
}

function writeDays(image: SharedArrayBuffer | ArrayBuffer, l: Layout, days: Int32Array, daysBytes: number): void {
  if (daysBytes === 4) new Int32Array(image, l.days, days.length).set(days);
  else if (daysBytes === 2) {
    const out = new Uint16Array(image, l.days, days.length);
    for (let i = 0; i < days.length; i++) {
      const d = days[i]!;
      out[i] = d === NO_DAY ? NO_DAY16 : d;
    }
  }
}

function finishImage(
  image: SharedArrayBuffer | ArrayBuffer,
  segs: SegmentPlan[],
  offsetCount: number,
  res16Count: number,
  res32Count: number,
  count: number,
  daysBytes: number,
): NumberIndex {
  const h = new DataView(image, 0, HEADER_BYTES);
  h.setUint32(0, IMAGE_MAGIC, true);
  h.setUint32(4, IMAGE_VERSION, true);
  h.setUint32(8, daysBytes === 0 ? 0 : daysBytes === 2 ? FLAG_DAYS | FLAG_DAYS16 : FLAG_DAYS, true);
  h.setUint32(12, segs.length, true);
  h.setFloat64(16, count, true);
  h.setFloat64(24, offsetCount, true);
  h.setFloat64(32, res16Count, true);
  h.setFloat64(40, res32Count, true);
  const t = new DataView(image, HEADER_BYTES, segs.length * SEGMENT_BYTES);
  segs.forEach((s, k) => {
    const o = k * SEGMENT_BYTES;
    t.setFloat64(o, s.min, true);
    t.setFloat64(o + 8, s.max, true);
    t.setUint32(o + 16, s.shift, true);
    t.setUint32(o + 20, s.wide ? 1 : 0, true);
    t.setFloat64(o + 24, s.offStart, true);
    t.setFloat64(o + 32, s.base, true);
    t.setFloat64(o + 40, s.resStart, true);
  });
  return NumberIndex.fromImage(image);
}

/** Sorts res[rs+from .. rs+to) ascending, carrying days[base+i] along. */
function sortBucket(res: Uint16Array | Uint32Array, days: Int32Array, hasDays: boolean, rs: number, base: number, from: number, to: number): void {
  const n = to - from;
  if (n < 2) return;
  if (n <= SMALL_BUCKET) {
    for (let i = from + 1; i < to; i++) {
      const v = res[rs + i]!;
      const dv = hasDays ? days[base + i]! : 0;
      let j = i - 1;
      while (j >= from && res[rs + j]! > v) {
        res[rs + j + 1] = res[rs + j]!;
        if (hasDays) days[base + j + 1] = days[base + j]!;
        j--;
      }
      res[rs + j + 1] = v;
      if (hasDays) days[base + j + 1] = dv;
    }
    return;
  }
  if (!hasDays) {
    res.subarray(rs + from, rs + to).sort();
    return;
  }
  // Large bucket with days (rare: very clustered input): sort an index permutation.
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const vals = res.slice(rs + from, rs + to);
  const ds = days.slice(base + from, base + to);
  order.sort((a, b) => vals[a]! - vals[b]!);
  for (let i = 0; i < n; i++) {
    res[rs + from + i] = vals[order[i]!]!;
    days[base + from + i] = ds[order[i]!]!;
  }
}
