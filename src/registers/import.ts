/**
 * Importing a register copy: streams the text, builds the compact index without an object per
 * entry, persists it and swaps it in – all or nothing.
 *
 * Storage choice. Inserting rows is the bottleneck for national registers: SQLite takes minutes
 * for 50 million rows (and PostgreSQL longer), and reading them back at every start takes about
 * as long again. So:
 *  - registers up to OPTLINE_REGISTER_TABLE_MAX numbers (default 1,000,000), and every register
 *    of a store without a snapshot directory (in-memory SQLite, PostgreSQL unless
 *    OPTLINE_REGISTERS_DIR is set), keep one row per number in `register_entries` as before; the
 *    snapshot is then only a cache for fast starts and is rebuilt from the table when missing;
 *  - larger registers keep only their metadata row in `registers`; the snapshot file
 *    (`<db>.registers/<id>.<loaded_at>.bin`) is the copy of record. A missing or damaged file is
 *    then an error at start (fail closed: the engine never runs with a register silently empty).
 * Either way the new snapshot is written and renamed into place before the row that points at it
 * is committed, so a failed import leaves the old copy in force (snapshot.ts).
 */
import { createReadStream, unlinkSync } from 'node:fs';
import type { Jurisdiction } from '../law/types.js';
import type { Store, RegisterMeta } from '../store/repository.js';
import { InputError, NotFoundError } from '../service/errors.js';
import { FastPhoneReader } from '../scrub/fast-phone.js';
import { NumberIndex, NumberIndexBuilder, numberToE164 } from './number-index.js';
import { REGISTERS, type Registry } from './registry.js';
import { removeOtherGenerations, snapshotDirFor, snapshotPath, writeSnapshot } from './snapshot.js';

export interface RegisterImportResult {
  count: number;
  /** The first rejected lines (at most `maxRejected`). */
  rejected: Array<{ line: number; reason: string }>;
  rejectedCount: number;
  lines: number;
  storage: 'table' | 'snapshot';
  asOf: number;
  loadedAt: number;
  /** What the caller should know about the copy now in force (an older copy than before, many lines rejected). */
  warnings: string[];
}

export interface RegisterImportOptions {
  country: string;
  asOf: number;
  /**
   * Put the copy in force although more of its lines were rejected than read, by the thousand (a
   * file of the wrong country or format would otherwise replace a good copy with a few numbers).
   */
  force?: boolean;
  maxRejected?: number;
  /** Called now and then with the number of bytes read. */
  onProgress?: (bytes: number, lines: number) => void;
}

/** What importRegister needs of the application (Optline satisfies it). */
export interface RegisterHost {
  store: Store;
  registry: Registry;
  clock: () => number;
}

/** A moment's UTC calendar date, YYYY-MM-DD. */
const isoDate = (t: number): string => new Date(t).toISOString().slice(0, 10);

const DATE = /^(\d{4})-(\d{2})-(\d{2})([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

/** The calendar day a date is written for (a listing's, a copy's), as midnight UTC; the time of day, if any, does not matter. NaN for what is no date, also for 30 February. */
export function calendarDay(text: string): number {
  const m = DATE.exec(text);
  if (!m) return NaN;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return isoDate(t) === `${m[1]}-${m[2]}-${m[3]}` ? t : NaN;
}

/**
 * The date a copy counts as taken on, as midnight UTC, given its moment: the earlier of the date
 * written with it and its UTC date. A US copy taken at 22:00 in New York (-04:00) is already the
 * next day in UTC, and read by its UTC date it would pass for fresh a day past the 31 days (US-2).
 * The engine counts a call by its later date (US: its UTC date), so a copy is never taken for
 * younger than it is on either calendar – the law does not say which one its days are on.
 */
export function copyDay(moment: number, written: string): number {
  return Math.min(calendarDay(written.slice(0, 10)), Math.floor(moment / 86_400_000) * 86_400_000);
}

/** A copy's date may be this much after the importer's clock (its day may have begun elsewhere); later is refused. */
const AS_OF_AHEAD_MS = 86_400_000;
/** A copy with more lines rejected than read is refused unless forced from this many rejected lines… */
const MOSTLY_REJECTED_REFUSED = 1000;
/** …or when the copy in force holds more than this many times its numbers. */
const SHRINK_FACTOR = 10;
/** A clean copy this many times smaller is refused too, unless forced, once the copy in force holds this many numbers. */
const SHRINK_REFUSED_FROM = 1000;

export function tableMax(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.OPTLINE_REGISTER_TABLE_MAX);
  return Number.isFinite(v) && v >= 0 && env.OPTLINE_REGISTER_TABLE_MAX !== undefined && env.OPTLINE_REGISTER_TABLE_MAX !== '' ? v : 1_000_000;
}

/**
 * Reads register lines into a builder. One number a line, optionally a listing date in a second
 * column (comma, semicolon or tab); the US registry's own layout – area code, 7-digit number –
 * for us-dnc; a header line and # comments are skipped; bad lines are counted and the first
 * `maxRejected` reported with their line numbers.
 */
export class RegisterLineParser {
  readonly builder = new NumberIndexBuilder();
  readonly rejected: Array<{ line: number; reason: string }> = [];
  rejectedCount = 0;
  lines = 0;
  /** Numbers kept although their listing date could not be read, and the first such line. */
  undatedCount = 0;
  firstUndated: { line: number; text: string } | null = null;
  private readonly reader: FastPhoneReader;
  private readonly country: string;
  private readonly areaCodeLayout: boolean;
  private readonly maxRejected: number;
  /** The copy's date: no listing may come after it. */
  private readonly asOf: number;
  private tail = '';
  private started = false;

  constructor(country: string, opts: { areaCodeLayout?: boolean; maxRejected?: number; asOf?: number } = {}) {
    this.country = country;
    this.reader = new FastPhoneReader(country, { latin1: true });
    this.areaCodeLayout = opts.areaCodeLayout ?? false;
    this.maxRejected = opts.maxRejected ?? 10_000;
    this.asOf = opts.asOf ?? Infinity;
  }

  /** Feeds a chunk of the file decoded as latin1 (one char a byte). */
  push(text: string): void {
    if (!this.started) {
      this.started = true;
      if (text.startsWith('\u00ef\u00bb\u00bf')) text = text.slice(3);
    }
    let data = this.tail + text;
    let pos = 0;
    for (;;) {
      const nl = data.indexOf('\n', pos);
      if (nl < 0) break;
      this.line(data, pos, nl);
      pos = nl + 1;
    }
    this.tail = data.slice(pos);
    data = '';
  }

  end(): void {
    if (this.tail !== '') this.line(this.tail, 0, this.tail.length);
    this.tail = '';
  }

  private reject(line: number, reason: string): void {
    this.rejectedCount++;
    if (this.rejected.length < this.maxRejected) this.rejected.push({ line, reason });
  }

  private line(data: string, from: number, to: number): void {
    const line = ++this.lines;
    if (to > from && data.charCodeAt(to - 1) === 13) to--;
    let text = data.slice(from, to);
    if (text.length === 0) return;
    const c0 = text.charCodeAt(0);
    if (c0 <= 32 || text.charCodeAt(text.length - 1) <= 32) {
      text = text.trim();
      if (text === '') return;
    }
    if (text.charCodeAt(0) === 35) return; // # comment
    let num = text;
    let listed = '';
    let sep = -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 44 || c === 59 || c === 9) {
        sep = i;
        break;
      }
    }
    if (sep >= 0) {
      const cols = text.split(/[,;\t]/).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
      num = cols[0] ?? '';
      listed = cols[1] ?? '';
      if (this.areaCodeLayout && /^\d{3}$/.test(num) && /^\d{7}$/.test(listed)) {
        num = '+1' + num + listed;
        listed = cols[2] ?? '';
      }
    } else if (text.charCodeAt(0) === 34) {
      num = text.replace(/^"(.*)"$/, '$1');
    }
    if (line === 1 && !/\d/.test(num)) return; // header
    if (this.reader.read(num) < 0) {
      this.reject(line, `"${num.slice(0, 40)}" is not a valid phone number: ${this.reader.error}`);
      return;
    }
    if (this.reader.country !== this.country) {
      this.reject(line, `${this.reader.e164} is not a ${this.country} number`);
      return;
    }
    let listedAt: number | null = null;
    if (listed) {
      const t = calendarDay(listed);
      if (Number.isNaN(t)) {
        // The number is listed whatever its date says: kept, with no date – protected at once, as
        // when a copy gives none. Dropping the line would make a listed number callable.
        this.undatedCount++;
        this.firstUndated ??= { line, text: listed.slice(0, 40) };
        this.builder.add(this.reader.num, null);
        return;
      }
      // A copy cannot list a number from after its own date: a wrong asOf or a damaged file. The
      // whole import is refused – dropping the line would make a listed number callable.
      if (t > this.asOf + AS_OF_AHEAD_MS) {
        throw new InputError(`Line ${line}: ${this.reader.e164} is listed on ${listed.slice(0, 10)}, after the copy's date ${isoDate(this.asOf)}: check asOf. The copy in force is kept.`, [
          { path: 'asOf', message: 'before a listing date in the copy' },
        ]);
      }
      listedAt = t;
    }
    this.builder.add(this.reader.num, listedAt);
  }
}

/** Serialises imports of one register inside this process. */
const running = new Map<string, Promise<unknown>>();

export async function importRegister(
  host: RegisterHost,
  id: string,
  opts: RegisterImportOptions,
  source: string | AsyncIterable<Buffer | string>,
): Promise<RegisterImportResult> {
  const prev = running.get(id) ?? Promise.resolve();
  const job = prev.catch(() => undefined).then(() => doImport(host, id, opts, source));
  running.set(id, job);
  try {
    return await job;
  } finally {
    if (running.get(id) === job) running.delete(id);
  }
}

async function doImport(host: RegisterHost, id: string, opts: RegisterImportOptions, source: string | AsyncIterable<Buffer | string>): Promise<RegisterImportResult> {
  const known = REGISTERS[id];
  if (!known) throw new NotFoundError(`Unknown register "${id}". Known registers: ${Object.keys(REGISTERS).join(', ')}.`);
  if (opts.country !== known.country) {
    throw new InputError(`Register ${id} holds ${known.country} numbers, not ${opts.country}.`, [{ path: 'country', message: `must be ${known.country}` }]);
  }
  if (!Number.isFinite(opts.asOf)) throw new InputError('asOf is not a date.', [{ path: 'asOf', message: 'expected YYYY-MM-DD or RFC 3339' }]);
  if (opts.asOf > host.clock() + AS_OF_AHEAD_MS) {
    // A copy from the future would count as fresh for years (US-2's 31 days) and answer audits of past calls.
    throw new InputError(`asOf ${isoDate(opts.asOf)} is in the future: give the date the copy was taken.`, [{ path: 'asOf', message: 'in the future' }]);
  }
  // An older copy makes callable again every number listed since: allowed – the law asks for a copy
  // of a certain age at most (US-2, GB-2), which the decisions check – but said.
  const warnings: string[] = [];
  // The copy of record, not this server's copy in memory: another server may have imported a newer
  // one it has not picked up yet, and the checks below would then pass a copy it ought to refuse.
  const stored = (await host.store.listRegisters()).find((r) => r.id === id);
  const inForce = stored ? { asOf: stored.asOf, count: Number(stored.count) } : host.registry.list().find((r) => r.id === id);
  if (inForce && opts.asOf < inForce.asOf) {
    warnings.push(`The copy in force was as of ${isoDate(inForce.asOf)}; this one, as of ${isoDate(opts.asOf)}, is older: numbers listed in between are callable again until a newer copy is loaded.`);
  }
  const parser = new RegisterLineParser(known.country, { areaCodeLayout: known.country === 'US', maxRejected: opts.maxRejected, asOf: opts.asOf });
  if (typeof source === 'string') {
    parser.push(Buffer.from(source, 'utf8').toString('latin1'));
  } else {
    let bytes = 0;
    let last = 0;
    for await (const chunk of source) {
      if (typeof chunk === 'string') {
        parser.push(Buffer.from(chunk, 'utf8').toString('latin1'));
        bytes += chunk.length;
      } else {
        parser.push(chunk.toString('latin1'));
        bytes += chunk.length;
      }
      if (opts.onProgress && bytes - last > 16 << 20) {
        last = bytes;
        opts.onProgress(bytes, parser.lines);
      }
    }
  }
  parser.end();
  const index = parser.builder.finish();
  // An empty or mostly unreadable file must not replace the copy in force: every listed number
  // would become callable.
  if (index.size === 0) {
    throw new InputError(`No number could be read from the copy (${parser.lines} lines, ${parser.rejectedCount} rejected${parser.rejected[0] ? `; line ${parser.rejected[0].line}: ${parser.rejected[0].reason}` : ''}). The copy in force is kept.`, [
      { path: 'body', message: 'no numbers' },
    ]);
  }
  if (parser.rejectedCount > index.size) {
    const first = parser.rejected
      .slice(0, 3)
      .map((r) => `line ${r.line}: ${r.reason}`)
      .join('; ');
    const what = `More lines were rejected (${parser.rejectedCount}) than numbers read (${index.size}) – a file of another country or format? (${first}${parser.rejectedCount > 3 ? '; …' : ''})`;
    // Refused by the thousand, or when it would put a few numbers in place of a copy many times
    // larger (every number listed there would become callable); a short file's rejected lines are
    // otherwise listed in the answer and its numbers put in force.
    const shrinks = inForce !== undefined && inForce.count > SHRINK_FACTOR * index.size;
    if ((parser.rejectedCount >= MOSTLY_REJECTED_REFUSED || shrinks) && !opts.force) {
      throw new InputError(`${what} The copy in force is kept; import with force (--force, or force=true over HTTP) to put it in force anyway.`, [{ path: 'body', message: 'mostly rejected' }]);
    }
    warnings.push(`${what} The numbers read are in force.`);
  }
  // A copy cut short (a download that stopped, the wrong file) reads cleanly but would make every
  // number it lost callable: registers do not shrink tenfold between two copies.
  if (!opts.force && inForce !== undefined && inForce.count >= SHRINK_REFUSED_FROM && inForce.count > SHRINK_FACTOR * index.size) {
    throw new InputError(
      `The copy holds ${index.size} numbers, the copy in force ${inForce.count} – over ${SHRINK_FACTOR} times as many: a download cut short, or the wrong file? The copy in force is kept; import with force (--force, or force=true over HTTP) to put it in force anyway.`,
      [{ path: 'body', message: 'far smaller than the copy in force' }],
    );
  }
  if (parser.firstUndated) {
    const n = parser.undatedCount;
    warnings.push(
      `${n} line${n === 1 ? '' : 's'} gave a listing date that is not a date (first: line ${parser.firstUndated.line}, "${parser.firstUndated.text}"; use YYYY-MM-DD): ${n === 1 ? 'its number is' : 'their numbers are'} kept as listed with no date, so protected at once.`,
    );
  }
  const { loadedAt, storage } = await persistRegister(host, { id, country: known.country, asOf: opts.asOf }, index);
  return { count: index.size, rejected: parser.rejected, rejectedCount: parser.rejectedCount, lines: parser.lines, storage, asOf: opts.asOf, loadedAt, warnings };
}

/** Imports a register file from disk, streaming. */
export function importRegisterFile(host: RegisterHost, id: string, file: string, opts: RegisterImportOptions): Promise<RegisterImportResult> {
  return importRegister(host, id, opts, createReadStream(file, { highWaterMark: 4 << 20 }));
}

/** Persists a built index as the register's copy in force (snapshot first, then the row), and swaps it in. */
export async function persistRegister(
  host: RegisterHost,
  reg: { id: string; country: Jurisdiction; asOf: number },
  index: NumberIndex,
): Promise<{ loadedAt: number; storage: 'table' | 'snapshot' }> {
  const { store } = host;
  const dir = snapshotDirFor(store);
  const current = (await store.listRegisters()).find((r) => r.id === reg.id);
  const loadedAt = Math.max(host.clock(), (current?.loadedAt ?? 0) + 1);
  const storage: 'table' | 'snapshot' = dir && index.size > tableMax() ? 'snapshot' : 'table';
  let written: string | null = null;
  if (dir) written = writeSnapshot(dir, { id: reg.id, country: reg.country, asOf: reg.asOf, loadedAt }, index);
  try {
    const rows = storage === 'table' ? mapIterable(index.entries(), (e) => ({ e164: numberToE164(e.num), listedAt: e.listedAt })) : null;
    await store.replaceRegisterRows({ id: reg.id, country: reg.country, asOf: reg.asOf, count: index.size, loadedAt }, rows, (inForce) => {
      if (inForce != null && inForce > loadedAt) throw new InputError(`A newer copy of ${reg.id} was imported meanwhile; this one was not applied.`, [], 409);
    });
  } catch (err) {
    if (written) {
      try {
        unlinkSync(written);
      } catch {
        /* never written completely */
      }
    }
    throw err;
  }
  const meta: RegisterMeta = { id: reg.id, country: reg.country, asOf: reg.asOf, count: index.size, loadedAt };
  host.registry.put(meta, index);
  if (dir) removeOtherGenerations(dir, reg.id, loadedAt);
  return { loadedAt, storage };
}

export { snapshotPath };

function* mapIterable<T, U>(items: Iterable<T>, f: (t: T) => U): Generator<U> {
  for (const t of items) yield f(t);
}
