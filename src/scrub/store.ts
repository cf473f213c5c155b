/** The record of each scrub (table `scrubs`, migration 0002_scrubs). */
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import type { Store } from '../store/repository.js';
import { isSqliteFile } from '../store/connect.js';
import { recordedCounts, type LineTypeCounts, type ScrubCounts } from './summary.js';
import type { ColumnNotes } from './csv.js';
import { SUBSCRIBER_TYPES, type LineType, type SubscriberType } from '../law/types.js';

export interface ScrubsTable {
  id: string;
  entity_id: string;
  key_id: string | null;
  status: string;
  at: string;
  product_category: string | null;
  autodialed: number;
  prerecorded: number;
  line_type: string | null;
  subscriber_type: string;
  input_name: string | null;
  phone_column: string | null;
  /** Migration 0016: the column of each row's line type, and how its values were read (JSON). */
  line_type_column?: string | null;
  line_types?: string | null;
  /** Migration 0017: when the process running it last said it still runs. */
  heartbeat_at?: string | null;
  /** Migration 0019: ColumnNotes (JSON). */
  column_notes?: string | null;
  rows: number;
  allowed: number;
  denied: number;
  invalid: number;
  by_basis: string;
  by_denial: string;
  rules_version: string | null;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  error: string | null;
  error_details: string | null;
  output_path: string | null;
  rejects_path: string | null;
}

interface ScrubDb {
  scrubs: ScrubsTable;
}

export type ScrubStatus = 'running' | 'done' | 'failed';

export interface ScrubRecord extends ScrubCounts {
  id: string;
  entityId: string;
  keyId: string | null;
  status: ScrubStatus;
  /** The moment the rows were decided for (RFC 3339). */
  at: string;
  productCategory: string | null;
  /** The question's dialling: an automatic dialer, a prerecorded message. */
  autodialed: boolean;
  prerecorded: boolean;
  /** The line type the caller gave for every number, or null: from each number. */
  lineType: LineType | null;
  /** Who the list's numbers belong to (consumer unless the caller said otherwise). */
  subscriberType: SubscriberType;
  inputName: string | null;
  phoneColumn: string | null;
  /** The column that gave each row's line type (it comes before lineType), or null. */
  lineTypeColumn: string | null;
  /** Other columns that look like phone numbers (only the phone column was checked); a list scrubbed before. */
  otherPhoneColumns: string[];
  scrubbedBefore: boolean;
  rulesVersion: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  /** For input that was refused: what was wrong, by field (as problem+json's errors). */
  errorDetails: Array<{ path: string; message: string }> | null;
  outputPath: string | null;
  rejectsPath: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();
/** Text as every store keeps it: PostgreSQL takes no U+0000, SQLite does. */
const storable = (text: string | null): string | null => (text === null ? null : text.replace(/\0/g, '\uFFFD'));

/** How often a running scrub says it still runs. */
export const SCRUB_HEARTBEAT_MS = 30_000;
/** A scrub silent this long is no longer running: its process stopped without recording an end. */
export const SCRUB_STALE_MS = 4 * SCRUB_HEARTBEAT_MS;
const INTERRUPTED = 'interrupted: the process running the scrub stopped before it ended (killed, or the machine went down); check the list again';

/** A 'running' row whose process stopped saying so: failed, as it will never end. */
function interrupted(r: ScrubsTable, now: number): boolean {
  return r.status === 'running' && Date.parse(r.heartbeat_at ?? r.started_at) < now - SCRUB_STALE_MS;
}

function columnNotes(json: string | null | undefined): ColumnNotes {
  const notes = json ? (JSON.parse(json) as Partial<ColumnNotes>) : {};
  return { otherPhoneColumns: notes.otherPhoneColumns ?? [], scrubbedBefore: notes.scrubbedBefore ?? false };
}

function toRecord(r: ScrubsTable): ScrubRecord {
  const stopped = interrupted(r, Date.now());
  return {
    id: r.id,
    entityId: r.entity_id,
    keyId: r.key_id,
    status: stopped ? 'failed' : (r.status as ScrubStatus),
    at: r.at,
    productCategory: r.product_category,
    autodialed: Boolean(Number(r.autodialed)),
    prerecorded: Boolean(Number(r.prerecorded)),
    lineType: r.line_type === 'mobile' || r.line_type === 'fixed' ? r.line_type : null,
    subscriberType: (SUBSCRIBER_TYPES as readonly string[]).includes(r.subscriber_type) ? (r.subscriber_type as SubscriberType) : 'consumer',
    inputName: r.input_name,
    phoneColumn: r.phone_column,
    lineTypeColumn: r.line_type_column ?? null,
    ...columnNotes(r.column_notes),
    rows: Number(r.rows),
    allowed: Number(r.allowed),
    denied: Number(r.denied),
    invalid: Number(r.invalid),
    byBasis: JSON.parse(r.by_basis) as Record<string, number>,
    byDenial: JSON.parse(r.by_denial) as Record<string, number>,
    ...(r.line_types ? { lineTypes: JSON.parse(r.line_types) as LineTypeCounts } : {}),
    rulesVersion: r.rules_version,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms == null ? null : Number(r.duration_ms),
    error: stopped ? INTERRUPTED : r.error,
    errorDetails: r.error_details ? (JSON.parse(r.error_details) as Array<{ path: string; message: string }>) : null,
    outputPath: r.output_path,
    rejectsPath: r.rejects_path,
  };
}

export class ScrubStore {
  private readonly db: Kysely<ScrubDb>;

  constructor(store: Store) {
    this.db = store.db as unknown as Kysely<ScrubDb>;
  }

  async start(s: { id: string; entityId: string; keyId: string | null; at: number; productCategory: string | null; autodialed: boolean; prerecorded: boolean; lineType: LineType | null; subscriberType: SubscriberType; inputName: string | null; startedAt: number; rulesVersion: string }): Promise<void> {
    await this.db
      .insertInto('scrubs')
      .values({
        id: s.id,
        entity_id: s.entityId,
        key_id: s.keyId,
        status: 'running',
        at: iso(s.at),
        product_category: s.productCategory,
        autodialed: s.autodialed ? 1 : 0,
        prerecorded: s.prerecorded ? 1 : 0,
        line_type: s.lineType,
        subscriber_type: s.subscriberType,
        input_name: s.inputName,
        phone_column: null,
        rows: 0,
        allowed: 0,
        denied: 0,
        invalid: 0,
        by_basis: '{}',
        by_denial: '{}',
        rules_version: s.rulesVersion,
        started_at: iso(s.startedAt),
        heartbeat_at: iso(s.startedAt),
        finished_at: null,
        duration_ms: null,
        error: null,
        error_details: null,
        output_path: null,
        rejects_path: null,
      })
      .execute();
  }

  /** Says the scrub still runs (every SCRUB_HEARTBEAT_MS while it does). */
  async heartbeat(id: string, now: number): Promise<void> {
    await this.db.updateTable('scrubs').set({ heartbeat_at: iso(now) }).where('id', '=', id).where('status', '=', 'running').execute();
  }

  /**
   * Records as failed the scrubs whose process stopped without saying how they ended (they would
   * say "running" for ever).
   */
  async failInterrupted(now: number): Promise<void> {
    const rows = await this.db.selectFrom('scrubs').selectAll().where('status', '=', 'running').execute();
    const stale = rows.filter((r) => interrupted(r, now));
    for (const r of stale) {
      await this.db
        .updateTable('scrubs')
        .set({ status: 'failed', error: INTERRUPTED, finished_at: iso(now), output_path: null, rejects_path: null })
        .where('id', '=', r.id)
        .where('status', '=', 'running')
        .execute();
    }
  }

  /** The records of these scrubs (the ones there are), by id. */
  async byIds(ids: string[]): Promise<Map<string, ScrubRecord>> {
    const found = new Map<string, ScrubRecord>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db.selectFrom('scrubs').selectAll().where('id', 'in', ids.slice(i, i + 500)).execute();
      for (const r of rows) found.set(r.id, toRecord(r));
    }
    return found;
  }

  async finish(
    id: string,
    r: { status: 'done' | 'failed'; counts: ScrubCounts; finishedAt: number; durationMs: number; phoneColumn: string | null; lineTypeColumn?: string | null; columnNotes?: ColumnNotes | null; error?: string | null; errorDetails?: Array<{ path: string; message: string }> | null; outputPath?: string | null; rejectsPath?: string | null },
  ): Promise<void> {
    await this.db
      .updateTable('scrubs')
      .set({
        status: r.status,
        phone_column: storable(r.phoneColumn),
        line_type_column: storable(r.lineTypeColumn ?? null),
        column_notes: r.columnNotes ? storable(JSON.stringify(r.columnNotes)) : null,
        // Counts only: the values not read are the list's data (recordedCounts).
        line_types: r.counts.lineTypes ? JSON.stringify(recordedCounts(r.counts).lineTypes) : null,
        rows: r.counts.rows,
        allowed: r.counts.allowed,
        denied: r.counts.denied,
        invalid: r.counts.invalid,
        by_basis: JSON.stringify(r.counts.byBasis),
        by_denial: JSON.stringify(r.counts.byDenial),
        finished_at: iso(r.finishedAt),
        duration_ms: Math.round(r.durationMs),
        // A list's header names come back in errors: one with U+0000 would fail this very update on
        // PostgreSQL, and the scrub would say "running" until its heartbeat ran out.
        error: storable(r.error ?? null),
        error_details: r.errorDetails?.length ? JSON.stringify(r.errorDetails.map((e) => ({ path: storable(e.path), message: storable(e.message) }))) : null,
        output_path: r.outputPath ?? null,
        rejects_path: r.rejectsPath ?? null,
      })
      .where('id', '=', id)
      .execute();
  }

  async get(id: string): Promise<ScrubRecord | null> {
    const r = await this.db.selectFrom('scrubs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  /** Recent scrubs, newest first; `entityIds` null: every entity. */
  async recent(entityIds: string[] | null, limit: number): Promise<ScrubRecord[]> {
    if (entityIds && entityIds.length === 0) return [];
    let q = this.db.selectFrom('scrubs').selectAll();
    if (entityIds) q = q.where('entity_id', 'in', entityIds);
    const rows = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toRecord);
  }

  /** Scrubs whose files are older than the cut-off, for clean-up. */
  async withFilesBefore(cutoff: number): Promise<ScrubRecord[]> {
    const rows = await this.db.selectFrom('scrubs').selectAll().where('started_at', '<', iso(cutoff)).where('output_path', 'is not', null).execute();
    return rows.map(toRecord);
  }

  async forgetFiles(id: string): Promise<void> {
    await this.db.updateTable('scrubs').set({ output_path: null, rejects_path: null }).where('id', '=', id).execute();
  }

  /** Deletes a scrub's files that `kept` says are this process's, and forgets them all; the record stays. */
  async removeFiles(r: ScrubRecord, kept: (path: string | null) => boolean): Promise<void> {
    for (const p of [r.outputPath, r.rejectsPath]) {
      if (!p || !kept(p)) continue;
      try {
        unlinkSync(p);
      } catch {
        /* gone already */
      }
    }
    await this.forgetFiles(r.id);
  }

  /**
   * After an erasure: the kept files of scrubs that hold the erased number (its E.164 form is in
   * the output's e164 column) are deleted and forgotten – the scrub's record and counts stay.
   * Only files `kept` says are this process's to delete. Returns the scrubs whose files went.
   */
  async forgetFilesHolding(e164: string, inScope: (entityId: string) => boolean, kept: (path: string | null) => boolean): Promise<string[]> {
    const rows = await this.db.selectFrom('scrubs').selectAll().where('output_path', 'is not', null).execute();
    const gone: string[] = [];
    for (const r of rows.map(toRecord)) {
      if (!inScope(r.entityId) || !kept(r.outputPath) || !fileHolds(r.outputPath!, e164)) continue;
      await this.removeFiles(r, kept);
      gone.push(r.id);
    }
    return gone;
  }
}

/** Whether a file holds `text` (ASCII), read in blocks that overlap by the text's length. */
function fileHolds(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const needle = Buffer.from(text, 'latin1');
    const buf = Buffer.allocUnsafe(4 << 20);
    let keep = 0;
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, keep, buf.length - keep, pos);
      if (n <= 0) return false;
      const have = keep + n;
      if (buf.subarray(0, have).includes(needle)) return true;
      pos += n;
      keep = Math.min(needle.length - 1, have);
      buf.copy(buf, 0, have - keep, have);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Where uploads and outputs are kept: OPTLINE_SCRUBS_DIR, else beside a SQLite store file; null
 * for other stores (the server then uses a temporary directory of its own, removed at close).
 */
export function scrubDirFor(app: { store: Store }, env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.OPTLINE_SCRUBS_DIR) return env.OPTLINE_SCRUBS_DIR;
  if (isSqliteFile(app.store)) return `${app.store.location}.scrubs`;
  return null;
}

/** Whether `path` (absolute, as scrub records keep them) lies inside `dir`. */
export function insideDir(dir: string, path: string | null): boolean {
  if (!path || !isAbsolute(path)) return false;
  const rel = relative(resolve(dir), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
