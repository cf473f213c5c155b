/**
 * A register copy held in memory as two parallel typed arrays: E.164 digits as float64 (at most
 * 15 digits, so exact) sorted ascending, and the listing day. A JS Set tops out at 2^24 entries
 * and costs ~50 bytes a number; this costs 12 bytes and answers with a binary search.
 */
const NO_DAY = -2147483648;
const DAY_MS = 86_400_000;

export function e164ToNumber(e164: string): number {
  return Number(e164.startsWith('+') ? e164.slice(1) : e164);
}

export class NumberIndex {
  private readonly numbers: Float64Array;
  private readonly days: Int32Array;

  private constructor(numbers: Float64Array, days: Int32Array) {
    this.numbers = numbers;
    this.days = days;
  }

  static build(entries: Iterable<{ e164: string; listedAt: number | null }>): NumberIndex {
    const pairs: Array<[number, number]> = [];
    for (const e of entries) pairs.push([e164ToNumber(e.e164), e.listedAt == null ? NO_DAY : Math.floor(e.listedAt / DAY_MS)]);
    pairs.sort((a, b) => a[0] - b[0]);
    const numbers = new Float64Array(pairs.length);
    const days = new Int32Array(pairs.length);
    let n = 0;
    for (const [num, day] of pairs) {
      // Duplicates keep the earliest listing day.
      if (n > 0 && numbers[n - 1] === num) {
        if (day !== NO_DAY && (days[n - 1] === NO_DAY || day < days[n - 1]!)) days[n - 1] = day;
        continue;
      }
      numbers[n] = num;
      days[n] = day;
      n++;
    }
    return new NumberIndex(numbers.slice(0, n), days.slice(0, n));
  }

  get size(): number {
    return this.numbers.length;
  }

  private find(num: number): number {
    let lo = 0;
    let hi = this.numbers.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.numbers[mid]!;
      if (v === num) return mid;
      if (v < num) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** undefined: not listed; null: listed, date unknown; number: listed since (epoch ms, day start UTC). */
  lookup(e164: string): number | null | undefined {
    const i = this.find(e164ToNumber(e164));
    if (i < 0) return undefined;
    const d = this.days[i]!;
    return d === NO_DAY ? null : d * DAY_MS;
  }
}
