/**
 * Imports a caller's existing records – consents, objections, relationships, contact requests,
 * presumed consents – from a CSV file, as a CRM or a former system exports them.
 *
 * The file is read once: every row is checked and its event kept in a spool (src/imports/spool.ts);
 * only when every row passed (or the bad ones are to be left out) are the events appended, in one
 * transaction with the import's record. So an import is all or nothing – a file with a wrong row,
 * a crash or a kill halfway leave the store as it was – and a row whose record is on file already
 * (the same file imported twice, an export that overlaps the last) is not recorded twice.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parse as parseCsv, CsvError as CsvParseError } from 'csv-parse';
import { InputError, NotFoundError } from '../service/errors.js';
import type { Optline } from '../service/optline.js';
import { newId } from '../store/repository.js';
import { findPhoneColumn } from '../scrub/csv.js';
import { COUNTRY_ZONES, RECORD_KINDS, columnKey, fieldNames, requiredFields, rowEvent, type FieldSources, type ImportKindName, type RecordKind, type RowError } from './records.js';
import { findImport, recordImport, type ImportRecord } from './store.js';
import { EventSpool } from './spool.js';

export interface ImportOptions {
  entityId: string;
  kind: ImportKindName;
  /** IANA zone of dates and local times without an offset (default: the caller's country's, none for the US). */
  timeZone?: string | null;
  /** Field → header name, where the file's names are not the API's (`at` → `Opt-in date`). */
  columns?: Readonly<Record<string, string>>;
  /** Field → the same value for every row (`channel` → `phone`), where the file has no column for it. */
  fixed?: Readonly<Record<string, string>>;
  /** Check every row and write nothing. */
  dryRun?: boolean;
  /** Import the rows that pass and leave out the others (they are in `errors`); default: all or nothing. */
  skipInvalid?: boolean;
  inputName?: string | null;
  keyId?: string | null;
  /** The file's header row, as read. */
  onHeader?: (header: readonly string[]) => void;
  /** Each row left out, with what is wrong with it (for a rejects file). */
  onRejected?: (line: number, errors: Array<{ path: string; message: string }>, cells: readonly string[]) => void;
  onProgress?: (rows: number) => void;
  /** How many row errors the result keeps (default 1,000; all are counted). */
  maxErrors?: number;
}

export interface ImportResult {
  /** The import's record; null for a dry run or when nothing was imported. */
  id: string | null;
  entityId: string;
  kind: ImportKindName;
  dryRun: boolean;
  /** Data rows in the file (empty lines not counted). */
  rows: number;
  /** Rows whose events were written (a dry run: would be). */
  imported: number;
  /** Rows whose record is on file already – the same type, number, moment and content – and were not recorded again. */
  onRecord: number;
  /**
   * Rows about a number erased at its holder's request for this caller, dated on or before that
   * erasure: the erased person's data, not brought back by an old export (GDPR art. 17). A record
   * made after the erasure (a new consent) is imported.
   */
  erased: number;
  /** The lines of the first maxErrors of them. */
  erasedLines: number[];
  /** Rows refused, and the first maxErrors of their errors. */
  rejected: number;
  errors: RowError[];
  /** Columns of the file that are no field of the records (not imported). */
  ignoredColumns: string[];
  /** Which column each field was read from. */
  columns: Record<string, string>;
  /** SHA-256 of the file's bytes. */
  sha256: string;
  /** The latest earlier import of the same file (the same bytes) for this caller and kind, if any. */
  importedBefore: ImportRecord | null;
}

/** The file's bytes (read once). */
export type ImportSource = AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>;

/** Why nothing was imported: the result, with the rows' errors by line (also as `errors`, each path `line N: field`). */
export class ImportRefused extends InputError {
  constructor(
    message: string,
    readonly result: ImportResult,
  ) {
    super(
      message,
      result.errors.map((e) => ({ path: e.path ? `line ${e.line}: ${e.path}` : `line ${e.line}`, message: e.message })),
    );
    this.name = 'ImportRefused';
  }
}

const DELIMITERS = [',', ';', '\t', '|'];
const BATCH = 1_000;

/** The delimiter the header uses most, outside quotes (Excel writes ';' where ',' is the decimal mark). */
function sniffDelimiter(headerLine: string): string {
  const counts = new Map(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const d of DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

/** The file read once: its rows in order, then its digest. */
interface Reading {
  rows: AsyncIterable<{ cells: string[]; line: number }>;
  /** SHA-256 of the bytes, once the rows are all read. */
  sha256: () => string;
}

/**
 * Reads the file: its header (to `onHeader`), then each data row with the line it starts on.
 * Decoded as UTF-8; a byte that is not (a Latin-1 export) shows as U+FFFD, which the import
 * refuses with its line.
 */
function readRows(source: ImportSource, onHeader: (header: string[]) => void): Reading {
  const hash = createHash('sha256');
  let digest: string | null = null;
  async function* text(): AsyncGenerator<string> {
    const decoder = new TextDecoder('utf-8');
    for await (const chunk of source) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      hash.update(bytes);
      yield decoder.decode(bytes, { stream: true });
    }
    yield decoder.decode();
    digest = hash.digest('hex');
  }
  async function* rows(): AsyncGenerator<{ cells: string[]; line: number }> {
    const chunks = text();
    // The delimiter is told by the header line: read up to its end first.
    let head = '';
    let separator: string | undefined;
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      head += next.value;
      if (head.includes('\n') || head.length >= 1 << 20) break;
    }
    if (head.charCodeAt(0) === 0xfeff) head = head.slice(1);
    if (head.trim() === '') throw new InputError('The file is empty: it needs a header row naming the columns, and a row for each record.');
    if (head.startsWith('PK\u0003\u0004')) throw new InputError('The file is a spreadsheet workbook, not CSV text: save it as CSV UTF-8.');
    const start = head.slice(0, 200);
    if (/^\uFFFD\uFFFD/.test(head) || (start.match(/\0/g)?.length ?? 0) > start.length / 5) throw new InputError('The file is not UTF-8 text (UTF-16?): save it as CSV UTF-8.');
    // Leading empty lines, and Excel's "sep=;" line, come before the header.
    let line = 1;
    for (;;) {
      const m = /^(?:[ \t]*|sep=(.))\r?\n/i.exec(head);
      if (!m) break;
      head = head.slice(m[0].length);
      line++;
      if (m[1]) separator = m[1];
    }
    const skipped = line - 1;
    const parser = parseCsv({ delimiter: separator ?? sniffDelimiter(head.split(/\r?\n/, 1)[0]!), relax_column_count: true, raw: true });
    const input = Readable.from(
      (async function* () {
        yield head;
        for (;;) {
          const next = await chunks.next();
          if (next.done) return;
          yield next.value;
        }
      })(),
    );
    input.on('error', (err) => parser.destroy(err));
    input.pipe(parser);
    let header = false;
    let records = 0;
    try {
      for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
        // The lines a record spans, counted here: csv-parse counts a CRLF inside quotes as two.
        const at = line;
        line += 1 + (raw.replace(/\r?\n?$/, '').match(/\n/g)?.length ?? 0);
        if (!header) {
          header = true;
          onHeader(record);
        } else if (record.some((c) => c.trim() !== '')) {
          // Rows with no value at all (an empty line, Excel's ";;;" below the data) are skipped.
          yield { cells: record, line: at };
        }
        if (++records % 1_000 === 0) await new Promise((r) => setImmediate(r)); // a server's other requests get their turn
      }
    } catch (err) {
      if (err instanceof CsvParseError) throw new InputError(`The file is not CSV that can be read: ${csvProblem(err, skipped)}.`);
      throw err;
    }
  }
  return {
    rows: rows(),
    sha256: () => {
      if (digest === null) throw new Error('the file was not read to its end');
      return digest;
    },
  };
}

/** `skipped`: lines before the header that the parser did not see. */
function csvProblem(err: CsvParseError, skipped: number): string {
  const lines = (err as { lines?: number }).lines;
  const line = lines ? lines + skipped : null;
  const where = line ? `line ${line}: ` : '';
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') return `${where}a quote opened and never closed`;
  if (err.code === 'CSV_INVALID_CLOSING_QUOTE' || err.code === 'INVALID_OPENING_QUOTE') return `${where}a quote inside an unquoted field or after a closing quote`;
  return `${where}${err.message}`;
}

/** Which column each field is read from, by the header; what is missing or named twice refuses the file. */
function fieldSources(k: RecordKind, header: readonly string[], opts: Pick<ImportOptions, 'columns' | 'fixed'>): { sources: FieldSources; ignored: string[]; named: Record<string, string> } {
  const byPath = new Map(k.fields.map(([path, fieldKind]) => [path, fieldKind]));
  const names = fieldNames(k);
  // A field as the caller named it: its path, or any name a column could have for it (`wording`, `Source method`).
  const fieldOf = (name: string, how: string): string => {
    const path = byPath.has(name) ? name : names.get(columnKey(name));
    if (path) return path;
    throw new InputError(`${how} names "${name}", which is no field of ${k.name}: ${k.fields.map(([p]) => p).join(', ')}.`, [{ path: name, message: 'not a field' }]);
  };
  const byField = (given: Readonly<Record<string, string>> | undefined, how: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(given ?? {})) {
      const path = fieldOf(name, how);
      if (path in out) throw new InputError(`${how} gives ${path} twice.`, [{ path, message: 'given twice' }]);
      out[path] = value;
    }
    return out;
  };
  opts = { columns: byField(opts.columns, 'A column mapping'), fixed: byField(opts.fixed, 'A value for every row') };
  const taken = new Map<string, number>();
  // A column named by the caller: as the header writes it, or else whatever its case and spaces.
  const chosen = new Map<number, string>();
  for (const [path, name] of Object.entries(opts.columns ?? {})) {
    let i = header.findIndex((h) => h.trim() === name.trim());
    if (i < 0) i = header.findIndex((h) => h.trim().toLowerCase() === name.trim().toLowerCase());
    if (i < 0) throw new InputError(`No column "${name}" for ${path}; the columns are: ${header.join(', ')}.`, [{ path, message: 'no such column' }]);
    if (chosen.has(i)) throw new InputError(`Column "${header[i]}" is named for both ${chosen.get(i)} and ${path}.`, [{ path, message: 'one column for two fields' }]);
    chosen.set(i, path);
  }
  const mapped = new Set(chosen.values());
  header.forEach((name, i) => {
    // A column named for a field the caller mapped to another column is not read for it.
    const found = names.get(columnKey(name));
    const path = chosen.get(i) ?? (found && !mapped.has(found) ? found : undefined);
    if (!path) return;
    if (taken.has(path)) {
      throw new InputError(`Columns "${header[taken.get(path)!]}" and "${name}" both give ${path}: rename one, or name the one to read.`, [{ path, message: 'two columns' }]);
    }
    taken.set(path, i);
  });
  for (const path of Object.keys(opts.fixed ?? {})) {
    if (taken.has(path)) throw new InputError(`${path} is given for every row and by column "${header[taken.get(path)!]}": give it one way.`, [{ path, message: 'given twice' }]);
  }
  const given = (path: string): boolean => taken.has(path) || (opts.fixed !== undefined && path in opts.fixed);
  const missing = requiredFields(k).filter((path) => !given(path));
  if (k.oneOf && !k.oneOf.some(given)) missing.push(k.oneOf.join(' or '));
  if (missing.length > 0) {
    const phoneHint = missing.some((m) => m.startsWith('phone')) && findPhoneColumn(header) >= 0 ? ` (is it "${header[findPhoneColumn(header)]}"?)` : '';
    throw new InputError(
      `The file has no column for ${missing.join(', ')}${phoneHint}. A row of ${k.name} is the body of ${k.call}; the columns seen are: ${header.join(', ') || '(none)'}.`,
      missing.map((path) => ({ path, message: 'no column' })),
    );
  }
  const sources: FieldSources = {
    columns: [...taken].map(([path, i]) => [path, byPath.get(path)!, i]),
    fixed: Object.entries(opts.fixed ?? {}).map(([path, value]) => [path, byPath.get(path)!, value]),
  };
  const used = new Set(taken.values());
  return { sources, ignored: header.filter((_, i) => !used.has(i)), named: Object.fromEntries([...taken].map(([path, i]) => [path, header[i]!])) };
}

/** Checks every row of the file and, unless it is a dry run or a row failed, imports them all in one transaction. */
export async function runImport(app: Optline, source: ImportSource, opts: ImportOptions): Promise<ImportResult> {
  const k = RECORD_KINDS[opts.kind];
  if (!k) throw new InputError(`Unknown kind of record "${opts.kind}": one of ${Object.keys(RECORD_KINDS).join(', ')}.`, [{ path: 'kind', message: 'unknown' }]);
  const entity = await app.entity(opts.entityId);
  if (!entity) throw new NotFoundError(`Unknown entity "${opts.entityId}".`);
  const zone = opts.timeZone ?? COUNTRY_ZONES[entity.country] ?? null;
  const now = app.clock();
  const maxErrors = opts.maxErrors ?? 1_000;

  const result: ImportResult = {
    id: null,
    entityId: entity.id,
    kind: k.name,
    dryRun: opts.dryRun === true,
    rows: 0,
    imported: 0,
    rejected: 0,
    onRecord: 0,
    erased: 0,
    erasedLines: [],
    errors: [],
    ignoredColumns: [],
    columns: {},
    sha256: '',
    importedBefore: null,
  };
  let sources: FieldSources | null = null;
  let width = 0;
  const onHeader = (header: string[]): void => {
    opts.onHeader?.(header);
    const s = fieldSources(k, header, opts);
    sources = s.sources;
    width = header.length;
    result.ignoredColumns = s.ignored;
    result.columns = s.named;
  };
  /** A row's event, or what is wrong with it. */
  const evaluate = (cells: readonly string[]): ReturnType<typeof rowEvent> => {
    // Only the columns read count: an accent in a column left out (a city) does not refuse the row.
    for (const [path, , index] of sources!.columns) {
      const cell = cells[index] ?? '';
      if (cell.includes('\uFFFD')) return { errors: [{ path, message: 'not UTF-8 text (a Latin-1 or Windows export?): save the file as CSV UTF-8' }] };
      // As the API refuses it: PostgreSQL cannot store U+0000, SQLite would.
      if (cell.includes('\0')) return { errors: [{ path, message: 'contains U+0000 (a NUL character), which cannot be stored' }] };
    }
    // More fields than the header names: a delimiter inside an unquoted value has cut it, and each
    // value after it stands under another column's name (a trailing empty field is only a delimiter).
    if (cells.length > width && cells.slice(width).some((c) => c.trim() !== '')) {
      return { errors: [{ path: '', message: `the row has ${cells.length} fields where the header names ${width}: quote a value that holds the delimiter` }] };
    }
    return rowEvent(app, k, sources!, cells, { entity, zone, now });
  };

  // Before the spool exists: an unknown pepper refuses the import here (its erasures cannot be matched).
  const erasedAt = await app.suppressions.erasures(entity.id);
  // The file read and every row checked, nothing written: the events wait in a spool.
  const spool = new EventSpool();
  try {
    const reading = readRows(source, onHeader);
    for await (const { cells, line } of reading.rows) {
      result.rows++;
      const r = evaluate(cells);
      const erased = 'event' in r && erasedAt && r.event.phone ? erasedAt(r.event.phone) : null;
      if ('event' in r && erased !== null && r.event.fact.at <= erased) {
        result.erased++;
        if (result.erasedLines.length < maxErrors) result.erasedLines.push(line);
      } else if ('event' in r) {
        result.imported++;
        spool.add({ ...r.event, keyId: opts.keyId ?? null });
      } else {
        result.rejected++;
        for (const e of r.errors) if (result.errors.length < maxErrors) result.errors.push({ line, ...e });
        opts.onRejected?.(line, r.errors, cells);
      }
      if (result.rows % 10_000 === 0) opts.onProgress?.(result.rows);
    }
    result.sha256 = reading.sha256();
    if (result.rows === 0) throw new InputError(`The file has a header but no rows: no ${k.name} to import.`);
    if (result.rejected > 0 && !opts.skipInvalid) {
      throw new ImportRefused(
        `${result.rejected.toLocaleString('en-US')} of ${result.rows.toLocaleString('en-US')} rows cannot be imported, so none was: correct them, or import the others and leave them out.`,
        result,
      );
    }
    result.importedBefore = await findImport(app.store.db as never, entity.id, k.name, result.sha256);
    if (result.imported === 0) return result;
    if (opts.dryRun) {
      result.onRecord = await app.store.countOnRecord(entity.id, spool.batches(BATCH), now);
      result.imported -= result.onRecord;
      return result;
    }

    // The events appended in one transaction with the import's record: all or none.
    const id = newId();
    const { sha256, rows, rejected } = result;
    const counts = await app.store.appendEventStream(entity.id, id, () => spool.batches(BATCH), app.clock, async (trx, { appended, onRecord, recordedAt }) => {
      if (appended === 0) return; // every row on record already: nothing was imported
      await recordImport(trx, { id, entityId: entity.id, kind: k.name, sha256, inputName: opts.inputName ?? null, rows, imported: appended, onRecord, erased: result.erased, rejected, keyId: opts.keyId ?? null, createdAt: new Date(recordedAt).toISOString() });
    });
    result.imported = counts.appended;
    result.onRecord = counts.onRecord;
    result.id = counts.appended > 0 ? id : null;
    return result;
  } finally {
    spool.close();
  }
}
