/** The record of each import of a caller's records (table `imports`, migration 0020_imports). */
import type { Kysely } from 'kysely';
import type { ImportKindName } from './records.js';

export interface ImportsTable {
  id: string;
  entity_id: string;
  kind: string;
  sha256: string;
  input_name: string | null;
  rows: number;
  imported: number;
  on_record: number;
  /** Rows about a number erased before their moment: not imported (migration 0021). */
  erased: number;
  rejected: number;
  key_id: string | null;
  created_at: string;
}

interface ImportDb {
  imports: ImportsTable;
}

export interface ImportRecord {
  id: string;
  entityId: string;
  kind: ImportKindName;
  sha256: string;
  inputName: string | null;
  rows: number;
  imported: number;
  /** Rows whose record was on file already: not recorded again. */
  onRecord: number;
  /** Rows about a number erased for the caller on or after their moment: the erased person's data, not imported again. */
  erased: number;
  /** Rows left out (skipInvalid). */
  rejected: number;
  keyId: string | null;
  createdAt: string;
}

function toRecord(r: ImportsTable): ImportRecord {
  return {
    id: r.id,
    entityId: r.entity_id,
    kind: r.kind as ImportKindName,
    sha256: r.sha256,
    inputName: r.input_name,
    rows: Number(r.rows),
    imported: Number(r.imported),
    onRecord: Number(r.on_record),
    erased: Number(r.erased),
    rejected: Number(r.rejected),
    keyId: r.key_id,
    createdAt: r.created_at,
  };
}

// Any store's Kysely (or a transaction on it): the imports table is all these functions touch.
const imports = (db: Kysely<never>): Kysely<ImportDb> => db as unknown as Kysely<ImportDb>;

/** The latest import of the same content for this caller and kind, if any. */
export async function findImport(db: Kysely<never>, entityId: string, kind: string, sha256: string): Promise<ImportRecord | null> {
  const r = await imports(db)
    .selectFrom('imports')
    .selectAll()
    .where('entity_id', '=', entityId)
    .where('sha256', '=', sha256)
    .where('kind', '=', kind)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return r ? toRecord(r) : null;
}

export async function recordImport(db: Kysely<never>, r: ImportRecord): Promise<void> {
  await imports(db)
    .insertInto('imports')
    .values({
      id: r.id,
      entity_id: r.entityId,
      kind: r.kind,
      sha256: r.sha256,
      input_name: r.inputName,
      rows: r.rows,
      imported: r.imported,
      on_record: r.onRecord,
      erased: r.erased,
      rejected: r.rejected,
      key_id: r.keyId,
      created_at: r.createdAt,
    })
    .execute();
}

/** The imports of these entities, newest first. */
export async function listImports(db: Kysely<never>, entityIds: readonly string[] | '*', limit = 50): Promise<ImportRecord[]> {
  let q = imports(db).selectFrom('imports').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
  if (entityIds !== '*') {
    if (entityIds.length === 0) return [];
    q = q.where('entity_id', 'in', [...entityIds]);
  }
  return (await q.execute()).map(toRecord);
}

/** These imports (a proof names the imports that wrote its events). */
export async function importsById(db: Kysely<never>, ids: readonly string[]): Promise<ImportRecord[]> {
  if (ids.length === 0) return [];
  return (await imports(db).selectFrom('imports').selectAll().where('id', 'in', [...ids]).orderBy('created_at').execute()).map(toRecord);
}
