/**
 * Histories of numbers for the scrub, read in batches. The rows become facts exactly as
 * Store.history (src/store/repository.ts) makes them – same columns, same order (at, id), same
 * mapping – but only the scrubbing entity's events and reassignments: another entity's events
 * never change the outcome (see numbersWithEvents), only the explanation, which a scrub does not
 * write. test/scrub.test.ts compares scrub rows with single decisions.
 */
import Database from 'better-sqlite3';
import type { EntityFact, ReassignmentFact } from '../law/types.js';
import type { Store } from '../store/repository.js';
import type { HistorySource, NumberHistoryLite } from './core.js';

interface EventRow {
  id: string;
  type: string;
  entity_id: string | null;
  phone: string | null;
  at: string;
  payload: string;
}

const BATCH = 500;

/** rows: ordered by phone, at, id. */
export function rowsToHistories(rows: EventRow[], into = new Map<string, NumberHistoryLite>()): Map<string, NumberHistoryLite> {
  for (const row of rows) {
    if (row.phone === null) continue;
    let h = into.get(row.phone);
    if (!h) {
      h = { events: [], reassignments: [] };
      into.set(row.phone, h);
    }
    // As Store.history: the payload with id, type, entityId and at set from the row.
    const fact = JSON.parse(row.payload) as Record<string, unknown>;
    fact.id = row.id;
    fact.type = row.type;
    fact.entityId = row.entity_id;
    fact.at = Date.parse(row.at);
    const f = fact as unknown as EntityFact | ReassignmentFact;
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
export class SqliteHistory implements HistorySource {
  private readonly db: Database.Database;
  private readonly statements = new Map<number, Database.Statement>();
  private readonly entityId: string;

  constructor(path: string, entityId: string) {
    this.entityId = entityId;
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
  }

  private statement(n: number): Database.Statement {
    let s = this.statements.get(n);
    if (!s) {
      // Rows as arrays and no ORDER BY (a temporary B-tree per batch): grouped and sorted below.
      s = this.db
        .prepare(`SELECT id, type, entity_id, phone, at, payload FROM events WHERE (entity_id = ? OR entity_id IS NULL) AND phone IN (${new Array(n).fill('?').join(',')})`)
        .raw(true);
      this.statements.set(n, s);
    }
    return s;
  }

  async fetch(e164s: string[]): Promise<Map<string, NumberHistoryLite>> {
    const groups = new Map<string, EventRow[]>();
    for (let i = 0; i < e164s.length; i += BATCH) {
      const batch = e164s.slice(i, i + BATCH);
      for (const r of this.statement(batch.length).all(this.entityId, ...batch) as Array<[string, string, string | null, string, string, string]>) {
        const row: EventRow = { id: r[0], type: r[1], entity_id: r[2], phone: r[3], at: r[4], payload: r[5] };
        const g = groups.get(row.phone!);
        if (g) g.push(row);
        else groups.set(row.phone!, [row]);
      }
    }
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
export class StoreHistory implements HistorySource {
  private readonly store: Store;
  private readonly entityId: string;

  constructor(store: Store, entityId: string) {
    this.store = store;
    this.entityId = entityId;
  }

  async fetch(e164s: string[]): Promise<Map<string, NumberHistoryLite>> {
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

/**
 * E.164 numbers (as digits) whose decision for `entityId` needs their history: numbers with an
 * event of that entity, and reassigned numbers (entity_id null). Another entity's events never
 * change an entity's decision – consent and relationships are per legal entity (NL-3(b), DE-3,
 * GB-3, US-1) and the rule packs read them only to explain why they do not count – so every
 * other number is decided as one with no history (test/law-others.test.ts checks that claim on
 * random facts). Numbers on the suppression list are found separately.
 */
export async function numbersWithEvents(store: Pick<Store, 'kind' | 'location' | 'db'>, entityId: string, pageSize = 1_000_000): Promise<Float64Array> {
  let out = new Float64Array(1 << 16);
  let n = 0;
  const push = (v: number) => {
    if (n === out.length) {
      const grown = new Float64Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    out[n++] = v;
  };
  const add = (p: string | null) => {
    if (!p || p.charCodeAt(0) !== 43) return;
    const v = Number(p.slice(1));
    // Numbers beyond 2^53 round to a neighbour's float: that can only add numbers (a history read for nothing), never lose one.
    if (Number.isInteger(v) && v > 0) push(v);
  };
  if (store.kind === 'sqlite' && store.location !== ':memory:') {
    // Straight from the file (index events_entity_phone), a page of numbers joined into one string
    // per query: a row per number through better-sqlite3 takes two to four times as long.
    const db = new Database(store.location, { readonly: true, fileMustExist: true });
    try {
      const pages = [
        db.prepare("SELECT group_concat(phone, ','), max(phone) FROM (SELECT DISTINCT phone FROM events WHERE entity_id = ? AND phone > ? ORDER BY phone LIMIT ?)").raw(true),
        db.prepare("SELECT group_concat(phone, ','), max(phone) FROM (SELECT DISTINCT phone FROM events WHERE entity_id IS NULL AND ? IS NOT NULL AND phone > ? ORDER BY phone LIMIT ?)").raw(true),
      ];
      for (const page of pages) {
        for (let after = ''; ; ) {
          const [joined, last] = page.get(entityId, after, pageSize) as [string | null, string | null];
          if (joined === null || last === null) break;
          for (let i = 0; i < joined.length; ) {
            let j = joined.indexOf(',', i);
            if (j < 0) j = joined.length;
            add(joined.slice(i, j));
            i = j + 1;
          }
          after = last;
        }
      }
    } finally {
      db.close();
    }
  } else {
    const rows = await store.db
      .selectFrom('events')
      .select('phone')
      .distinct()
      .where('phone', 'is not', null)
      .where((eb) => eb.or([eb('entity_id', '=', entityId), eb('entity_id', 'is', null)]))
      .execute();
    for (const r of rows) add(r.phone);
  }
  return out.subarray(0, n);
}
