/**
 * Histories of numbers for the scrub, read in batches. The rows become facts as Store.history
 * (src/store/repository.ts) makes them – same columns, same order (at, id), the same rowToFact –
 * but only the scrubbing entity's events and reassignments: another entity's events never change
 * the outcome (see entityEvents), only the explanation, which a scrub does not write.
 * test/scrub.test.ts compares scrub rows with single decisions.
 */
import Database from 'better-sqlite3';
import type { EntityFact } from '../law/types.js';
import { rowToFact, type Store } from '../store/repository.js';
import type { HistoryByNumber, HistoryByRowid, NumberHistoryLite } from './core.js';
import { NumberIndex } from '../registers/number-index.js';
import { isSqliteFile } from '../store/connect.js';

interface EventRow {
  id: string;
  type: string;
  entity_id: string | null;
  phone: string | null;
  at: string;
  payload: string;
}

const BATCH = 500;

type RawRow = [id: string, type: string, entityId: string | null, phone: string | null, at: string, payload: string];

/** rows: ordered by phone, at, id. */
export function rowsToHistories(rows: EventRow[], into = new Map<string, NumberHistoryLite>()): Map<string, NumberHistoryLite> {
  for (const row of rows) {
    if (row.phone === null) continue;
    let h = into.get(row.phone);
    if (!h) {
      h = { events: [], reassignments: [] };
      into.set(row.phone, h);
    }
    const f = rowToFact(row);
    if (f.type === 'reassignment') h.reassignments.push({ type: 'reassignment', id: f.id, at: f.at });
    else h.events.push(f as EntityFact);
  }
  return into;
}

/** Rows of several numbers, ordered like Store.history orders one number's: by at, then id. */
function byAtThenId(a: EventRow, b: EventRow): number {
  return a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Reads a SQLite store file directly, read-only: one connection per worker thread. */
export class SqliteHistory implements HistoryByRowid {
  private readonly db: Database.Database;
  private readonly entityId: string;

  constructor(path: string, entityId: string) {
    this.entityId = entityId;
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
  }

  /**
   * The events with these rowids (EventIndex), as histories by number. Rows of another entity
   * are left out: a rowid freed by an erasure may have been given to a new event meanwhile.
   */
  async byRowid(rowids: number[]): Promise<Map<string, NumberHistoryLite>> {
    const groups = new Map<string, EventRow[]>();
    for (let i = 0; i < rowids.length; i += BATCH) {
      const batch = rowids.slice(i, i + BATCH);
      let s = this.rowidStatements.get(batch.length);
      if (!s) {
        s = this.db.prepare(`SELECT id, type, entity_id, phone, at, payload FROM events WHERE rowid IN (${new Array(batch.length).fill('?').join(',')})`).raw(true);
        this.rowidStatements.set(batch.length, s);
      }
      this.group((s.all(...batch) as RawRow[]).filter((r) => r[2] === this.entityId || r[2] === null), groups);
    }
    return this.histories(groups);
  }

  private readonly rowidStatements = new Map<number, Database.Statement>();

  private group(rows: RawRow[], groups: Map<string, EventRow[]>): void {
    for (const r of rows) {
      if (r[3] === null) continue;
      const row: EventRow = { id: r[0], type: r[1], entity_id: r[2], phone: r[3], at: r[4], payload: r[5] };
      const g = groups.get(r[3]);
      if (g) g.push(row);
      else groups.set(r[3], [row]);
    }
  }

  private histories(groups: Map<string, EventRow[]>): Map<string, NumberHistoryLite> {
    const out = new Map<string, NumberHistoryLite>();
    for (const rows of groups.values()) {
      if (rows.length > 1) rows.sort(byAtThenId);
      rowsToHistories(rows, out);
    }
    return out;
  }

  close(): void {
    this.db.close();
  }
}

/** Reads through the application's store (any engine): for in-process scrubs. */
export class StoreHistory implements HistoryByNumber {
  private readonly store: Store;
  private readonly entityId: string;

  constructor(store: Store, entityId: string) {
    this.store = store;
    this.entityId = entityId;
  }

  async byNumber(e164s: string[]): Promise<Map<string, NumberHistoryLite>> {
    const out = new Map<string, NumberHistoryLite>();
    for (let i = 0; i < e164s.length; i += BATCH) {
      const batch = e164s.slice(i, i + BATCH);
      const rows = await this.store.db
        .selectFrom('events')
        .select(['id', 'type', 'entity_id', 'phone', 'at', 'payload'])
        .where('phone', 'in', batch)
        .where((eb) => eb.or([eb('entity_id', '=', this.entityId), eb('entity_id', 'is', null)]))
        .orderBy('phone')
        .orderBy('at')
        .orderBy('id')
        .execute();
      rowsToHistories(rows, out);
    }
    return out;
  }
}

/** What entityEvents found: one entry per event (numbers repeat). */
export interface EntityEvents {
  /** The event's number (E.164 digits). */
  nums: Float64Array;
  /** The event's rowid (SQLite files), or null (other stores). */
  rowids: Float64Array | null;
}

/**
 * The events whose numbers' decisions for `entityId` need their history: the entity's own events
 * and reassignments (entity_id null). Another entity's events never change an entity's decision –
 * consent and relationships are per legal entity (NL-3(b), DE-3, GB-3, US-1) and the rule packs
 * read them only to explain why they do not count – so every other number is decided as one with
 * no history (test/law-others.test.ts checks that claim on random facts). Numbers on the
 * suppression list are found separately.
 */
export async function entityEvents(store: Pick<Store, 'kind' | 'location' | 'db'>, entityId: string, pageSize = 1_000_000): Promise<EntityEvents> {
  let nums = new Float64Array(1 << 16);
  let rowids = new Float64Array(1 << 16);
  let n = 0;
  const push = (num: number, rowid: number) => {
    if (n === nums.length) {
      const grownNums = new Float64Array(n * 2);
      grownNums.set(nums);
      nums = grownNums;
      const grownRowids = new Float64Array(n * 2);
      grownRowids.set(rowids);
      rowids = grownRowids;
    }
    nums[n] = num;
    rowids[n++] = rowid;
  };
  /** The digits of an E.164 text; NaN for anything else. Beyond 2^53 a number rounds to a neighbour's float: that can only add history reads, never lose one. */
  const digits = (p: string | null): number => (p && p.charCodeAt(0) === 43 && /^\+\d+$/.test(p) ? Number(p.slice(1)) : NaN);
  if (isSqliteFile(store)) {
    // Straight from the file and from the index events_entity_phone alone (its entries end with
    // the rowid): a page of "phone rowid" pairs joined into one string per query – a row per event
    // through better-sqlite3 takes two to four times as long. Paged by (phone, rowid).
    const db = new Database(store.location, { readonly: true, fileMustExist: true });
    try {
      const range = (who: string) => `FROM events WHERE ${who} AND (phone, rowid) > (?, ?) ORDER BY phone, rowid`;
      const pages = (who: string) => ({
        joined: db.prepare(`SELECT group_concat(p, ','), count(*) FROM (SELECT phone || ' ' || rowid AS p ${range(who)} LIMIT ?)`).raw(true),
        // Where a full page ended (group_concat's order is not promised, so not read from its text).
        last: db.prepare(`SELECT phone, rowid ${range(who)} LIMIT 1 OFFSET ?`).raw(true),
      });
      for (const [page, args] of [
        [pages('entity_id = ?'), [entityId]],
        [pages('entity_id IS NULL'), []],
      ] as const) {
        for (let afterPhone = '', afterRowid = 0; ; ) {
          const [joined, count] = page.joined.get(...args, afterPhone, afterRowid, pageSize) as [string | null, number];
          if (joined !== null) parsePairs(joined, push);
          if (count < pageSize) break;
          [afterPhone, afterRowid] = page.last.get(...args, afterPhone, afterRowid, pageSize - 1) as [string, number];
        }
      }
    } finally {
      db.close();
    }
    return { nums: nums.subarray(0, n), rowids: rowids.subarray(0, n) };
  }
  const rows = await store.db
    .selectFrom('events')
    .select('phone')
    .distinct()
    .where('phone', 'is not', null)
    .where((eb) => eb.or([eb('entity_id', '=', entityId), eb('entity_id', 'is', null)]))
    .execute();
  for (const r of rows) {
    const num = digits(r.phone);
    if (num > 0) push(num, 0);
  }
  return { nums: nums.subarray(0, n), rowids: null };
}

/**
 * Reads "+phone rowid" items joined by commas, without a string per item. Numbers of up to 15
 * digits are summed digit by digit (exact); longer ones go through Number() like the phone
 * reader's, so a number beyond 2^53 rounds to the same float on both sides. Malformed items are skipped.
 */
function parsePairs(s: string, push: (num: number, rowid: number) => void): void {
  const len = s.length;
  let i = 0;
  while (i < len) {
    const start = i;
    let ok = s.charCodeAt(i) === 43;
    i++;
    let num = 0;
    let digits = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 44) break;
      if (c < 48 || c > 57) ok = false;
      num = num * 10 + (c - 48);
      digits++;
    }
    if (digits > 15) num = Number(s.slice(start + 1, i));
    const space = i < len && s.charCodeAt(i) === 32;
    i++;
    let rowid = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c === 44) break;
      if (c < 48 || c > 57) ok = false;
      rowid = rowid * 10 + (c - 48);
    }
    i++;
    if (ok && space && digits > 0 && num > 0) push(num, rowid);
  }
}

/** EventIndex in transferable form (shared memory: worker threads read it without a copy). */
export interface EventIndexImage {
  numbers: SharedArrayBuffer | ArrayBuffer;
  offsets: SharedArrayBuffer | null;
  rowids: SharedArrayBuffer | null;
  filter: SharedArrayBuffer;
}

/** A 32-bit mix of a number's float64 value (both halves), for the bit filter. */
function hashNumber(num: number): number {
  const hi = Math.floor(num / 4294967296);
  let h = Math.imul((num - hi * 4294967296) ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The numbers whose decision needs their history (see entityEvents), and – for SQLite files –
 * the rowids of their events, by the number's position in `numbers`: the scrub then reads each
 * event with one B-tree search of the table instead of one of the phone index and one of the table.
 */
export class EventIndex {
  readonly numbers: NumberIndex;
  private readonly offsets: Uint32Array | null;
  private readonly rowids: Float64Array | null;
  /**
   * A bit per hash of each number (16 bits a number: 6 % false positives): most rows of a list
   * have no events, and one bit answers that for them where a look-up in `numbers` costs
   * two cache misses.
   */
  private readonly filter: Int32Array;
  private readonly mask: number;

  private constructor(numbers: NumberIndex, offsets: Uint32Array | null, rowids: Float64Array | null, filter: Int32Array) {
    this.numbers = numbers;
    this.offsets = offsets;
    this.rowids = rowids;
    this.filter = filter;
    this.mask = filter.length * 32 - 1;
  }

  private static filterOf(nums: Float64Array, count: number): Int32Array {
    let bits = 1 << 10;
    while (bits < count * 16 && bits < 1 << 30) bits *= 2;
    const filter = new Int32Array(new SharedArrayBuffer(bits / 8));
    for (let i = 0; i < nums.length; i++) {
      const h = hashNumber(nums[i]!) & (bits - 1);
      filter[h >>> 5]! |= 1 << (h & 31);
    }
    return filter;
  }

  /** False: the number has no events. True: it may have (look it up in `numbers`). */
  mayHave(num: number): boolean {
    const h = hashNumber(num) & this.mask;
    return (this.filter[h >>> 5]! & (1 << (h & 31))) !== 0;
  }

  static build(events: EntityEvents): EventIndex {
    const numbers = NumberIndex.fromArrays(events.nums, null);
    const filter = EventIndex.filterOf(events.nums, numbers.size);
    if (!events.rowids) return new EventIndex(numbers, null, null, filter);
    const n = events.nums.length;
    const pos = new Int32Array(n);
    numbers.indexOfMany(events.nums, n, pos);
    // Rowids grouped by position: offsets[p] .. offsets[p + 1].
    const offsets = new Uint32Array(new SharedArrayBuffer(4 * (numbers.size + 1)));
    for (let i = 0; i < n; i++) if (pos[i]! >= 0) offsets[pos[i]! + 1]!++;
    for (let p = 0; p < numbers.size; p++) offsets[p + 1]! += offsets[p]!;
    const rowids = new Float64Array(new SharedArrayBuffer(8 * Math.max(1, offsets[numbers.size]!)));
    const next = offsets.slice(0, numbers.size);
    for (let i = 0; i < n; i++) if (pos[i]! >= 0) rowids[next[pos[i]!]!++] = events.rowids[i]!;
    return new EventIndex(numbers, offsets, rowids, filter);
  }

  static fromImage(image: EventIndexImage): EventIndex {
    return new EventIndex(
      NumberIndex.fromImage(image.numbers),
      image.offsets ? new Uint32Array(image.offsets) : null,
      image.rowids ? new Float64Array(image.rowids) : null,
      new Int32Array(image.filter),
    );
  }

  get image(): EventIndexImage {
    return {
      numbers: this.numbers.image,
      offsets: (this.offsets?.buffer as SharedArrayBuffer | undefined) ?? null,
      rowids: (this.rowids?.buffer as SharedArrayBuffer | undefined) ?? null,
      filter: this.filter.buffer as SharedArrayBuffer,
    };
  }

  /** Adds the rowids of the events of the number at position p of `numbers`. */
  rowidsAt(p: number, into: number[]): void {
    if (!this.offsets || !this.rowids) throw new Error('scrub: this event index has no rowids (it was not read from a SQLite file)');
    for (let k = this.offsets[p]!, end = this.offsets[p + 1]!; k < end; k++) into.push(this.rowids[k]!);
  }
}
