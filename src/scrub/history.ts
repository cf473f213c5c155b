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
import type { HistoryByNumber, HistoryByRef, NumberHistoryLite } from './core.js';
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

/** Event rows of several numbers, grouped by number as they come in. */
class RowsByNumber {
  private readonly groups = new Map<string, EventRow[]>();

  add(row: EventRow): void {
    const g = this.groups.get(row.phone!);
    if (g) g.push(row);
    else this.groups.set(row.phone!, [row]);
  }

  histories(): Map<string, NumberHistoryLite> {
    const out = new Map<string, NumberHistoryLite>();
    for (const rows of this.groups.values()) {
      if (rows.length > 1) rows.sort(byAtThenId);
      rowsToHistories(rows, out);
    }
    return out;
  }
}

/** Reads a SQLite store file directly, read-only: one connection per worker thread. */
export class SqliteHistory implements HistoryByRef {
  private readonly db: Database.Database;
  private readonly entityId: string;
  private readonly rowidStatements = new Map<number, Database.Statement>();

  constructor(path: string, entityId: string) {
    this.entityId = entityId;
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
  }

  /**
   * The events with these rowids (EventIndex), as histories by number. Rows of another entity
   * are left out: a rowid freed by an erasure may have been given to a new event meanwhile.
   */
  async byRef(rowids: number[]): Promise<Map<string, NumberHistoryLite>> {
    const rows = new RowsByNumber();
    for (let i = 0; i < rowids.length; i += BATCH) {
      const batch = rowids.slice(i, i + BATCH);
      let s = this.rowidStatements.get(batch.length);
      if (!s) {
        // Erased rows hold no number; the filter keeps one edited back in out, as Store.history does.
        s = this.db.prepare(`SELECT id, type, entity_id, phone, at, payload FROM events WHERE rowid IN (${new Array(batch.length).fill('?').join(',')}) AND erased_at IS NULL`).raw(true);
        this.rowidStatements.set(batch.length, s);
      }
      for (const r of s.all(...batch) as RawRow[]) {
        if (r[3] === null || (r[2] !== this.entityId && r[2] !== null)) continue;
        rows.add({ id: r[0], type: r[1], entity_id: r[2], phone: r[3], at: r[4], payload: r[5] });
      }
    }
    return rows.histories();
  }

  close(): void {
    this.db.close();
  }
}

/** Record and field separators of EventRecords: valid JSON never holds these bytes raw (JSON escapes every control character in strings), nor do numbers, ids, types or times. */
const RECORD_END = 0x1e;
const FIELD_END = 0x1f;

/** References to records of part k are k·PART_STRIDE + the record's offset in the part (exact in a float64). */
const PART_STRIDE = 2 ** 36;

/**
 * The caller's events read in one pass over the events table and kept as UTF-8 records in shared
 * memory, which worker threads read without a copy: "phone id type entity at payload", fields
 * ended by 0x1F, records by 0x1E, an empty entity for a reassignment (entity_id null). Read in
 * parts (a range of rowids each: the worker threads read one each, at the same time).
 *
 * Why: read one by one by rowid, an event costs a B-tree search and a page read (about 5 µs in
 * the scrub: the events of a list's numbers lie all over the table); the table scan costs about
 * 1.5 µs an event for all of the caller's events, and a record read from here about 0.5 µs.
 * runScrub chooses this for lists with a third to four times as many rows as the caller has events.
 */
export class EventRecords implements HistoryByRef {
  private readonly bufs: Buffer[];

  constructor(readonly parts: SharedArrayBuffer[]) {
    this.bufs = parts.map((p) => Buffer.from(p));
  }

  /** The events of these records (references from EventIndex), as histories by number. */
  async byRef(refs: number[]): Promise<Map<string, NumberHistoryLite>> {
    const rows = new RowsByNumber();
    for (const ref of refs) {
      const part = Math.floor(ref / PART_STRIDE);
      const buf = this.bufs[part]!;
      const start = ref - part * PART_STRIDE;
      const f = buf.toString('utf8', start, buf.indexOf(RECORD_END, start)).split('\x1f');
      rows.add({ phone: f[0]!, id: f[1]!, type: f[2]!, entity_id: f[3] === '' ? null : f[3]!, at: f[4]!, payload: f[5]! });
    }
    return rows.histories();
  }
}

/** (number, reference) per event, in arrays that double when full. */
class EventRefs {
  nums = new Float64Array(1 << 16);
  refs = new Float64Array(1 << 16);
  length = 0;

  push(num: number, ref: number): void {
    if (this.length === this.nums.length) {
      const nums = new Float64Array(this.length * 2);
      nums.set(this.nums);
      this.nums = nums;
      const refs = new Float64Array(this.length * 2);
      refs.set(this.refs);
      this.refs = refs;
    }
    this.nums[this.length] = num;
    this.refs[this.length++] = ref;
  }
}

/** One part of the caller's events as records, with (number, reference) per event. */
export interface EventRecordPart {
  bytes: SharedArrayBuffer;
  nums: Float64Array;
  refs: Float64Array;
}

/** The largest rowid of the events table (0: empty), to split the reading of records into parts. */
export function lastEventRowid(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT max(rowid) FROM events').pluck().get() as number | null) ?? 0;
  } finally {
    db.close();
  }
}

/**
 * Reads the entity's events and reassignments with rowids in (fromRowid, toRowid] as part `part`
 * of EventRecords: page by page in rowid order (a scan of that stretch of the table, each page of
 * it read once), one string a page built by SQLite (a row per event through better-sqlite3 takes
 * longer). null: they take more than maxBytes.
 */
export function readEventRecords(path: string, entityId: string, part: number, fromRowid: number, toRowid: number, maxBytes: number, pageRows = 25_000): EventRecordPart | null {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const found = new EventRefs();
  const push = (num: number, offset: number) => found.push(num, part * PART_STRIDE + offset);
  try {
    const page = db
      .prepare(
        `SELECT group_concat(r, ''), count(*), max(k) FROM (
           SELECT rowid AS k, phone || char(31) || id || char(31) || type || char(31) || ifnull(entity_id, '') || char(31) || at || char(31) || payload || char(30) AS r
           FROM events NOT INDEXED WHERE rowid > ? AND rowid <= ? AND (entity_id = ? OR entity_id IS NULL) AND phone IS NOT NULL AND erased_at IS NULL ORDER BY rowid LIMIT ?)`,
      )
      .raw(true);
    const bytes = new SharedArrayBuffer(0, { maxByteLength: maxBytes });
    let buf = Buffer.from(bytes);
    let used = 0;
    for (let after = fromRowid; ; ) {
      const [text, count, last] = page.get(after, toRowid, entityId, pageRows) as [string | null, number, number | null];
      if (text !== null) {
        // At most three bytes of UTF-8 per UTF-16 unit; the exact size only when that bound does not fit.
        let need = used + text.length * 3;
        if (need > maxBytes) need = used + Buffer.byteLength(text);
        if (need > maxBytes) return null;
        if (need > bytes.byteLength) {
          bytes.grow(Math.min(maxBytes, Math.max(need, Math.floor(bytes.byteLength * 1.5))));
          buf = Buffer.from(bytes);
        }
        const start = used;
        used += buf.write(text, used);
        indexRecords(buf, start, used, push);
      }
      if (count < pageRows || last === null) break;
      after = last;
    }
    return { bytes, nums: found.nums.slice(0, found.length), refs: found.refs.slice(0, found.length) };
  } finally {
    db.close();
  }
}

/** Pushes (number, offset) for each record in buf[from, to); a record whose phone is not E.164 digits is skipped (as parsePairs skips it). */
function indexRecords(buf: Buffer, from: number, to: number, push: (num: number, offset: number) => void): void {
  for (let p = from; p < to; ) {
    let q = p + 1;
    let ok = buf[p] === 43;
    let num = 0;
    for (; q < to && buf[q] !== FIELD_END; q++) {
      const c = buf[q]!;
      if (c < 48 || c > 57) ok = false;
      num = num * 10 + (c - 48);
    }
    const digits = q - p - 1;
    if (digits > 15) num = Number(buf.toString('latin1', p + 1, q));
    if (ok && digits > 0 && num > 0) push(num, p);
    const end = buf.indexOf(RECORD_END, q);
    p = end < 0 || end >= to ? to : end + 1;
  }
}

/** The caller's events from the parts read (in order of part). */
export function eventsFromParts(parts: EventRecordPart[]): EntityEvents {
  const n = parts.reduce((sum, p) => sum + p.nums.length, 0);
  const nums = new Float64Array(n);
  const refs = new Float64Array(n);
  let k = 0;
  for (const p of parts) {
    nums.set(p.nums, k);
    refs.set(p.refs, k);
    k += p.nums.length;
  }
  return { nums, refs, records: new EventRecords(parts.map((p) => p.bytes)) };
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
        .where('erased_at', 'is', null)
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
  /** Where the event is read from: its rowid (SQLite files), its offset in `records` when those were read, or null (other stores: by number). */
  refs: Float64Array | null;
  /** The events themselves, when asked for and within the size limit. */
  records: EventRecords | null;
}

export interface EntityEventsOptions {
  /** Events a query reads (tests use small pages). */
  pageSize?: number;
  /** Read the events themselves (EventRecords), for a SQLite file: worth it when most of the caller's events are on the list (see runScrub). */
  records?: boolean;
  /** Records beyond this size are not kept: the rowids are read instead. Default 512 MB. */
  maxRecordBytes?: number;
}

/** How many events and reassignments entityEvents would find for the entity (from the index events(entity_id, phone) alone). */
export async function entityEventCount(store: Pick<Store, 'kind' | 'location' | 'db'>, entityId: string): Promise<number> {
  if (isSqliteFile(store)) {
    const db = new Database(store.location, { readonly: true, fileMustExist: true });
    try {
      const count = (who: string, ...args: string[]) => db.prepare(`SELECT count(*) FROM events WHERE ${who} AND phone IS NOT NULL`).pluck().get(...args) as number;
      return count('entity_id = ?', entityId) + count('entity_id IS NULL');
    } finally {
      db.close();
    }
  }
  const row = await store.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('phone', 'is not', null)
    .where((eb) => eb.or([eb('entity_id', '=', entityId), eb('entity_id', 'is', null)]))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The events whose numbers' decisions for `entityId` need their history: the entity's own events
 * and reassignments (entity_id null). Another entity's events never change an entity's decision –
 * consent and relationships are per legal entity (NL-3(b), DE-3, GB-3, US-1) and the rule packs
 * read them only to explain why they do not count – so every other number is decided as one with
 * no history (test/law-others.test.ts checks that claim on random facts). Numbers on the
 * suppression list are found separately.
 */
export async function entityEvents(store: Pick<Store, 'kind' | 'location' | 'db'>, entityId: string, opts: EntityEventsOptions = {}): Promise<EntityEvents> {
  const pageSize = opts.pageSize ?? 1_000_000;
  if (isSqliteFile(store) && opts.records) {
    const part = readEventRecords(store.location, entityId, 0, 0, Number.MAX_SAFE_INTEGER, opts.maxRecordBytes ?? 512 << 20, Math.min(pageSize, 25_000));
    if (part) return eventsFromParts([part]);
    // Too large to keep: the rowids instead.
  }
  if (isSqliteFile(store)) return readEventNumbers(store.location, entityId, pageSize);
  /** The digits of an E.164 text; NaN for anything else. Beyond 2^53 a number rounds to a neighbour's float: that can only add history reads, never lose one. */
  const digits = (p: string | null): number => (p && p.charCodeAt(0) === 43 && /^\+\d+$/.test(p) ? Number(p.slice(1)) : NaN);
  const found = new EventRefs();
  const rows = await store.db
    .selectFrom('events')
    .select('phone')
    .distinct()
    .where('phone', 'is not', null)
    .where((eb) => eb.or([eb('entity_id', '=', entityId), eb('entity_id', 'is', null)]))
    .execute();
  for (const r of rows) {
    const num = digits(r.phone);
    if (num > 0) found.push(num, 0);
  }
  return { nums: found.nums.subarray(0, found.length), refs: null, records: null };
}

/**
 * entityEvents for a SQLite file: (number, rowid) of each of the entity's events and reassignments,
 * straight from the file and from the index events_entity_phone alone (its entries end with the
 * rowid). A page of "phone rowid" pairs is joined into one string per query – a row per event
 * through better-sqlite3 takes two to four times as long. Paged by (phone, rowid). Synchronous:
 * a scrub with worker threads has one of them read this (see runScrub).
 */
export function readEventNumbers(path: string, entityId: string, pageSize = 1_000_000): EntityEvents {
  const found = new EventRefs();
  const push = (num: number, ref: number) => found.push(num, ref);
  const db = new Database(path, { readonly: true, fileMustExist: true });
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
  return { nums: found.nums.slice(0, found.length), refs: found.refs.slice(0, found.length), records: null };
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
  refs: SharedArrayBuffer | null;
  filter: SharedArrayBuffer;
  records: SharedArrayBuffer[] | null;
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
 * where their events are, by the number's position in `numbers`: the offsets of their records
 * when the caller's events were read (`records`), else their rowids – each event is then read
 * with one B-tree search of the table instead of one of the phone index and one of the table.
 */
export class EventIndex {
  readonly numbers: NumberIndex;
  /** The caller's events, when they were read whole: histories come from here. */
  readonly records: EventRecords | null;
  private readonly offsets: Uint32Array | null;
  private readonly refs: Float64Array | null;
  /**
   * A bit per hash of each number (16 bits a number: 6 % false positives): most rows of a list
   * have no events, and one bit answers that for them where a look-up in `numbers` costs
   * two cache misses.
   */
  private readonly filter: Int32Array;
  private readonly mask: number;

  private constructor(numbers: NumberIndex, offsets: Uint32Array | null, refs: Float64Array | null, filter: Int32Array, records: EventRecords | null) {
    this.numbers = numbers;
    this.offsets = offsets;
    this.refs = refs;
    this.filter = filter;
    this.mask = filter.length * 32 - 1;
    this.records = records;
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
    if (!events.refs) return new EventIndex(numbers, null, null, filter, null);
    const n = events.nums.length;
    const pos = new Int32Array(n);
    numbers.indexOfMany(events.nums, n, pos);
    // References grouped by position: offsets[p] .. offsets[p + 1].
    const offsets = new Uint32Array(new SharedArrayBuffer(4 * (numbers.size + 1)));
    for (let i = 0; i < n; i++) if (pos[i]! >= 0) offsets[pos[i]! + 1]!++;
    for (let p = 0; p < numbers.size; p++) offsets[p + 1]! += offsets[p]!;
    const refs = new Float64Array(new SharedArrayBuffer(8 * Math.max(1, offsets[numbers.size]!)));
    const next = offsets.slice(0, numbers.size);
    for (let i = 0; i < n; i++) if (pos[i]! >= 0) refs[next[pos[i]!]!++] = events.refs[i]!;
    return new EventIndex(numbers, offsets, refs, filter, events.records);
  }

  static fromImage(image: EventIndexImage): EventIndex {
    return new EventIndex(
      NumberIndex.fromImage(image.numbers),
      image.offsets ? new Uint32Array(image.offsets) : null,
      image.refs ? new Float64Array(image.refs) : null,
      new Int32Array(image.filter),
      image.records ? new EventRecords(image.records) : null,
    );
  }

  get image(): EventIndexImage {
    return {
      numbers: this.numbers.image,
      offsets: (this.offsets?.buffer as SharedArrayBuffer | undefined) ?? null,
      refs: (this.refs?.buffer as SharedArrayBuffer | undefined) ?? null,
      filter: this.filter.buffer as SharedArrayBuffer,
      records: this.records?.parts ?? null,
    };
  }

  /** Adds the references (record offsets or rowids) of the events of the number at position p of `numbers`. */
  refsAt(p: number, into: number[]): void {
    if (!this.offsets || !this.refs) throw new Error('scrub: this event index has no references (it was not read from a SQLite file)');
    for (let k = this.offsets[p]!, end = this.offsets[p + 1]!; k < end; k++) into.push(this.refs[k]!);
  }
}
