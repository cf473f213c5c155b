/**
 * Runs a scrub: streams a CSV list through the engine and writes the scrubbed list, the rejects
 * and the summary.
 *
 *  - Memory does not grow with the list: the input is read in 4 MB blocks cut at row boundaries,
 *    at most two chunks per worker are in flight, results are written in input order.
 *  - Both cores: with a SQLite store file, chunks go to worker threads (one per core, at most
 *    OPTLINE_SCRUB_WORKERS) that share the register indexes; small lists, in-memory and
 *    PostgreSQL stores are scrubbed on the calling thread.
 *  - Outputs are written to temporary files beside their final names and renamed only when the
 *    scrub is complete, so an interrupted scrub never leaves a partial file under the final name.
 */
import { accessSync, closeSync, constants, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Optline } from '../service/optline.js';
import { newId } from '../store/repository.js';
import { RULES_VERSION } from '../law/version.js';
import type { LineType, SubscriberType } from '../law/types.js';
import { CsvError, lastRowBoundary, readDialect, csvField, columnNotes, type ColumnNotes, type Dialect } from './csv.js';
import { fileProblem, InputError } from '../service/errors.js';
import { ScrubCore, type Reject, type ScrubQuestion, type ScrubSuppressions } from './core.js';
import { entryOf, type SuppressionEntry } from '../service/suppression.js';
import { entityEventCount, entityEvents, EventIndex, eventsFromParts, lastEventRowid, SqliteHistory, StoreHistory, type EntityEvents, type EventIndexImage, type EventRecordPart } from './history.js';
import type { ChunkReply, FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { addCounts, emptyCounts, summaryJson, type ScrubCounts } from './summary.js';
import { SCRUB_HEARTBEAT_MS, ScrubStore } from './store.js';
import { AtomicFile, writableTarget } from './atomic-file.js';
import { isSqliteFile, type StoreKind } from '../store/connect.js';

export interface ScrubOptions {
  entityId: string;
  /** The list (CSV file). */
  input: string;
  /** Where the scrubbed list goes (written under a temporary name, renamed at the end). */
  output: string;
  rejects?: string | null;
  summary?: string | null;
  /** Moment to decide for (epoch ms); default now. */
  at?: number;
  productCategory?: string | null;
  /** The campaign dials automatically / plays a prerecorded message (as in POST /v1/decisions). */
  autodialed?: boolean;
  prerecorded?: boolean;
  /** Every number on the list is of this line type (as lineType in POST /v1/decisions); default: from each number. */
  lineType?: LineType | null;
  /** Who the list's numbers belong to (as subscriberType in POST /v1/decisions); default consumer. */
  subscriberType?: SubscriberType;
  phoneColumn?: string | null;
  /** A column giving each row's line type (mobile, wireless, cell … / fixed, landline, wireline …); it comes before lineType. */
  lineTypeColumn?: string | null;
  /** Worker threads (a SQLite file store only; see scrubWorkers); default: one per core (max 2 here) for lists over 48 MB, over 100,000 rows mostly of the caller's customers (see readEventsWhole), or with keepThreadFree for a caller with 200,000 events or more (unless its history is read by number). */
  workers?: number;
  onProgress?: (p: ScrubProgress) => void;
  signal?: AbortSignal;
  keyId?: string | null;
  /** The list's name in the scrub record (default: the input file's name; null: none given, as for an upload without a file name). */
  inputName?: string | null;
  /** Id for the scrub record (default: a new one). */
  id?: string;
  /** Reuse nothing: decide each number with its own PhoneInfo. Default: OPTLINE_SCRUB_EXACT. */
  exact?: boolean;
  /** Called once the scrub's record exists in the store. */
  onStart?: (id: string) => void;
  /** Waited for once the record exists, before any work: the server's turn for its scrubs (a slot). */
  waitTurn?: () => Promise<void>;
  /** Size of the blocks the list is read and handed out in (default 4 MB; tests use small ones for many chunks). */
  chunkBytes?: number;
  /** The longest row read before the list is refused (default 64 MB; tests use less). */
  maxRowBytes?: number;
  /** Worker threads started with startScrubWorkers (none: as `workers` says); runScrub ends them. */
  threads?: Worker[];
  /**
   * Read the caller's events whole at the start (a SQLite file store; see EventRecords) instead of
   * one by one for the rows that need them. Default: when the list has from a third to four times
   * as many rows as the caller has events (see readWhole).
   */
  readEventsWhole?: boolean;
  /** The most memory the caller's events read whole may take (default 512 MB); beyond it their rowids are read instead. */
  maxEventRecordBytes?: number;
  /** The calling thread serves others (the API server): large reads go to worker threads. */
  keepThreadFree?: boolean;
  /**
   * Read each row's history by number instead of first finding the numbers the caller has events
   * for (without worker threads). Default: for lists with fewer than a twentieth as many rows as
   * the caller has events.
   */
  historiesByNumber?: boolean;
}

export interface ScrubProgress {
  bytes: number;
  totalBytes: number;
  rows: number;
  elapsedMs: number;
}

export interface ScrubOutcome {
  id: string;
  counts: ScrubCounts;
  dialect: Dialect;
  columnNotes: ColumnNotes;
  durationMs: number;
  workers: number;
  /** Numbers that needed libphonenumber (not in E.164 or plain national format). */
  slowReads: number;
}

export class ScrubAborted extends Error {
  /** `reason`: the signal's, when it says why in words (a scrub cancelled over HTTP). */
  constructor(reason?: unknown) {
    super(typeof reason === 'string' ? reason : 'The scrub was interrupted; no output was written.');
    this.name = 'ScrubAborted';
  }
}

const BLOCK = 4 << 20;
/** A chunk of a scrub that shares its thread with a server (keepThreadFree without workers). */
const SHARED_BLOCK = 128 << 10;
const DEBUG = process.env.OPTLINE_SCRUB_DEBUG === '1';
const debug = (msg: string, t0: number) => {
  if (DEBUG) console.error(`[scrub +${Date.now() - t0} ms, process ${Math.round(process.uptime() * 1000)} ms] ${msg}`);
};
const MAX_ROW = 64 << 20;
/** From this many events a caller's event numbers are read in a worker thread, whatever the list's size. */
const MANY_EVENTS = 200_000;
/** The caller's events are read whole (EventRecords) up to this size by default; beyond it their rowids are read instead. */
const MAX_RECORD_BYTES = 512 << 20;
/** Lists from this size on have their scrubbed output written with direct I/O. */
const DIRECT_OUTPUT_FROM = 32 << 20;

/** The worker's module: beside this one in the sources (through tsx), or the bundle's own (dist/, scripts/build-cli.mjs). */
function workerEntry(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./worker-boot.mjs', here) : new URL('./scrub-worker.mjs', here);
}

/**
 * How many worker threads a scrub of this size on this store uses: `requested` (--workers), else
 * OPTLINE_SCRUB_WORKERS, else one per core for large lists – and none for a store other than a
 * SQLite file, whatever was asked: workers read histories from the file themselves.
 */
export function scrubWorkers(store: { kind: StoreKind; location: string }, inputBytes: number, requested?: number): number {
  if (!isSqliteFile(store)) return 0;
  if (requested !== undefined) return requested;
  const env = process.env.OPTLINE_SCRUB_WORKERS;
  const wanted = env !== undefined && env !== '' ? Math.max(0, Math.floor(Number(env)) || 0) : Math.min(2, availableParallelism());
  // Below ~1M rows the threads' start-up and warm-up (each compiles the hot code itself) cost more than they save.
  if (env === undefined && inputBytes < 48 << 20) return 0;
  return wanted;
}

/**
 * Starts scrub worker threads ahead of runScrub (pass them as `threads`): loading their code
 * then overlaps opening the store and loading the register copies.
 */
export function startScrubWorkers(count: number): Worker[] {
  // A young generation of 64 MB instead of 16: a chunk's short-lived objects (history rows,
  // facts, decisions) then die before a scavenge copies them.
  return Array.from({ length: count }, () => new Worker(workerEntry(), { resourceLimits: { maxYoungGenerationSizeMb: 64 } }));
}

/** The suppression list as the scrub needs it: all entries by number hash (small: erased people only), and their tags by pepper. */
async function loadSuppressions(app: Optline): Promise<ScrubSuppressions> {
  const rows = await app.store.db.selectFrom('suppressions').selectAll().orderBy('at').orderBy('id').execute();
  const byHash = new Map<string, SuppressionEntry[]>();
  if (rows.length === 0) return { secrets: [], byHash, tags: null };
  for (const r of rows) {
    const list = byHash.get(r.phone_hash) ?? [];
    list.push(entryOf(r));
    byHash.set(r.phone_hash, list);
  }
  // Entries under a pepper this process does not know would match no row: refused, as a decision is.
  await app.suppressions.requireKnownPeppersOf(rows);
  const peppers = await app.suppressions.peppers();
  // Entries from before tags (migration 0008) can be told apart only by their hash.
  const tagged = rows.every((r) => r.tag !== null);
  const tags = tagged ? peppers.map((p) => ({ secret: p.secret, tags: rows.filter((r) => r.pepper_id === p.id).map((r) => r.tag!) })).filter((p) => p.tags.length > 0) : null;
  return { secrets: peppers.map((p) => p.secret), byHash, tags };
}

/** The line number (1-based) at a byte offset of the list, for a message about the row there. */
function lineAt(fd: number, offset: number): number {
  const buf = Buffer.allocUnsafe(1 << 20);
  let line = 1;
  for (let at = 0; at < offset; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, offset - at), at);
    if (n <= 0) break;
    const got = buf.subarray(0, n);
    for (let i = got.indexOf(10); i >= 0; i = got.indexOf(10, i + 1)) line++;
    at += n;
  }
  return line;
}

export async function runScrub(app: Optline, opts: ScrubOptions): Promise<ScrubOutcome> {
  let heartbeat: NodeJS.Timeout | null = null;
  try {
    return await scrub(app, opts, (id) => {
      // While it runs (also while it waits its turn), the scrub says so: a record left "running"
      // by a killed process is then told apart and counted as failed (ScrubStore.failInterrupted).
      const scrubs = new ScrubStore(app.store);
      heartbeat = setInterval(() => void scrubs.heartbeat(id, Date.now()).catch(() => undefined), SCRUB_HEARTBEAT_MS);
      heartbeat.unref();
    });
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    // Threads handed in end with the scrub, also when it failed before using them.
    for (const w of opts.threads ?? []) void w.terminate();
  }
}

/**
 * The files a scrub reads and writes, checked before it starts: one file named twice would be
 * overwritten by another (the list by its own output), and an output that cannot be written
 * would otherwise fail only at the end – after the others were put in place.
 */
function unreadableList(input: string, err: unknown): InputError {
  return new InputError(`Cannot read the list (${input}): ${fileProblem(err)}.`, [{ path: 'input', message: fileProblem(err) }]);
}

function checkFiles(opts: ScrubOptions): void {
  const cap = (t: string): string => t.charAt(0).toUpperCase() + t.slice(1);
  const named: Array<[what: string, path: string]> = [['the list', opts.input], ['the output', opts.output]];
  if (opts.rejects) named.push(['the rejects file', opts.rejects]);
  if (opts.summary) named.push(['the summary', opts.summary]);
  let listProblem: unknown = null;
  const stats = named.map(([, p], k) => {
    try {
      return statSync(p);
    } catch (err) {
      if (k === 0) listProblem = err;
      return null;
    }
  });
  for (let a = 0; a < named.length; a++) {
    for (let b = a + 1; b < named.length; b++) {
      const same = resolve(named[a]![1]) === resolve(named[b]![1]) || (stats[a] && stats[b] && stats[a]!.dev === stats[b]!.dev && stats[a]!.ino === stats[b]!.ino);
      if (same) throw new InputError(`${cap(named[a]![0])} and ${named[b]![0]} are the same file (${named[b]![1]}): name another file for ${named[b]![0]}.`, [{ path: 'files', message: 'the same file twice' }]);
    }
  }
  // Said before the scrub is recorded: a list that is not there was never scrubbed.
  if (!stats[0]) throw unreadableList(opts.input, listProblem);
  // Read by position (and by worker threads at once): a pipe cannot be.
  if (stats[0] && !stats[0].isFile()) {
    const why = stats[0].isDirectory() ? 'is a directory: name the CSV file' : `is not a file${stats[0].isFIFO() ? ' but a pipe' : ''}: save it to a file first`;
    throw new InputError(`The list (${opts.input}) ${why}.`, [{ path: 'input', message: 'not a file' }]);
  }
  for (let k = 1; k < named.length; k++) {
    const [what, p] = named[k]!;
    if (stats[k]?.isDirectory()) throw new InputError(`${cap(what)} (${p}) is a directory: name a file.`, [{ path: 'files', message: 'a directory' }]);
    let target: string;
    try {
      target = writableTarget(p);
    } catch {
      // /dev/stdout, /dev/null, a pipe: the output is renamed into place, which would replace it.
      throw new InputError(`Cannot write ${what} (${p}): it is not a file (a device, a pipe or a link to nothing). Name a file to write.`, [{ path: 'files', message: 'not a file' }]);
    }
    const dir = dirname(resolve(target));
    if (!existsSync(dir)) throw new InputError(`Cannot write ${what} (${p}): the directory ${dir} does not exist.`, [{ path: 'files', message: 'no such directory' }]);
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      throw new InputError(`Cannot write ${what} (${p}): no permission to write in ${dir}.`, [{ path: 'files', message: 'no permission' }]);
    }
  }
}

async function scrub(app: Optline, opts: ScrubOptions, onRecorded: (id: string) => void): Promise<ScrubOutcome> {
  const started = Date.now();
  checkFiles(opts);
  const entity = await app.requireEntity(opts.entityId, 'entityId');
  const at = opts.at ?? app.clock();
  const question: ScrubQuestion = { entity, at, productCategory: opts.productCategory ?? null, autodialed: opts.autodialed ?? false, prerecorded: opts.prerecorded ?? false, lineType: opts.lineType ?? null, subscriberType: opts.subscriberType ?? 'consumer' };
  const exact = opts.exact ?? process.env.OPTLINE_SCRUB_EXACT === '1';

  const scrubs = new ScrubStore(app.store);
  const id = opts.id ?? newId();
  await scrubs.start({ id, entityId: entity.id, keyId: opts.keyId ?? null, at, productCategory: question.productCategory, autodialed: question.autodialed, prerecorded: question.prerecorded, lineType: question.lineType, subscriberType: question.subscriberType ?? 'consumer', inputName: opts.inputName !== undefined ? opts.inputName : basename(opts.input), startedAt: started, rulesVersion: RULES_VERSION });
  onRecorded(id);
  opts.onStart?.(id);
  if (opts.waitTurn) {
    try {
      await opts.waitTurn();
      if (opts.signal?.aborted) throw new ScrubAborted(opts.signal?.reason);
    } catch (thrown) {
      // Stopped while waiting: the wait rejects with the signal's reason, which need not be an Error.
      const err = opts.signal?.aborted && !(thrown instanceof ScrubAborted) ? new ScrubAborted(opts.signal.reason) : thrown;
      await scrubs.finish(id, { status: 'failed', counts: emptyCounts(), finishedAt: Date.now(), durationMs: Date.now() - started, phoneColumn: null, error: (err as Error).message, errorDetails: null });
      throw err;
    }
  }
  let inFd: number;
  try {
    inFd = openSync(opts.input, 'r');
  } catch (err) {
    // Gone or unreadable since checkFiles looked.
    const refused = unreadableList(opts.input, err);
    await scrubs.finish(id, { status: 'failed', counts: emptyCounts(), finishedAt: Date.now(), durationMs: Date.now() - started, phoneColumn: null, error: refused.message, errorDetails: refused.errors });
    throw refused;
  }
  const files: AtomicFile[] = [];
  const workers: Worker[] = [];
  let bootError: Error | null = null;
  let cleanupOnExit: (() => void) | null = null;
  let dialect: Dialect | null = null;
  const counts = emptyCounts();
  try {
    const totalBytes = fstatSync(inFd).size;
    // Workers start now unless started earlier (startScrubWorkers): loading their code takes a
    // moment, done while this thread reads the header and what the rows are decided with. They get
    // that in an 'init' message.
    const addWorkers = (started: Worker[]) => {
      for (const worker of started) worker.on('error', (err) => (bootError ??= err));
      workers.push(...started);
    };
    addWorkers(opts.threads?.length ? opts.threads : startScrubWorkers(scrubWorkers(app.store, totalBytes, opts.workers)));
    // The header: read until its row is complete.
    const headBlock = opts.chunkBytes ?? BLOCK;
    let head = Buffer.allocUnsafeSlow(Math.min(headBlock, Math.max(totalBytes, 1)));
    let headLen = readSync(inFd, head, 0, head.length, 0);
    while (headLen < totalBytes && headLen < MAX_ROW && head.subarray(0, headLen).indexOf(10) < 0) {
      const more = Buffer.allocUnsafeSlow(Math.min(totalBytes, head.length * 2));
      head.copy(more, 0, 0, headLen);
      head = more;
      headLen += readSync(inFd, head, headLen, head.length - headLen, headLen);
    }
    const read = readDialect(head.subarray(0, headLen).toString('latin1'), { phoneColumn: opts.phoneColumn, lineTypeColumn: opts.lineTypeColumn, atEnd: headLen >= totalBytes });
    dialect = read.dialect;
    const d = dialect;
    let headerLines = 0;
    for (let i = head.indexOf(10); i >= 0 && i < read.dataStart; i = head.indexOf(10, i + 1)) headerLines++;
    if (read.dataStart >= headLen && headLen >= totalBytes && head[headLen - 1] !== 10) headerLines++;

    // Direct I/O for lists worth it (see AtomicFile): its set-up allocates 16 MB and tries a few writes.
    const out = new AtomicFile(opts.output, { direct: totalBytes >= DIRECT_OUTPUT_FROM });
    files.push(out);
    debug(`output written ${out.direct ? 'with direct I/O' : 'through the page cache'}`, started);
    const rej = opts.rejects ? new AtomicFile(opts.rejects) : null;
    if (rej) files.push(rej);
    // Opened now, so a summary that cannot be written stops the scrub before it starts.
    const sum = opts.summary ? new AtomicFile(opts.summary) : null;
    if (sum) files.push(sum);
    cleanupOnExit = () => files.forEach((f) => f.discard());
    process.once('exit', cleanupOnExit);
    const bom = d.bom ? '\u00ef\u00bb\u00bf' : '';
    const dl = d.delimiter;
    out.write(`${bom}${d.headerRaw}${dl}e164${dl}allowed${dl}basis${dl}denials${d.eol}`);
    rej?.write(`${bom}line${dl}reason${dl}${d.headerRaw}${d.eol}`);

    // What the rows are decided with. The caller's events take a while to read (0.5 s for 600,000):
    // worker threads get them once their first chunks are under way (see below).
    const registers = app.registry.all();
    const suppressions = await loadSuppressions(app);
    const maxRecordBytes = opts.maxEventRecordBytes ?? MAX_RECORD_BYTES;
    // Rows of the list, estimated from the first block's, against the caller's events: they decide
    // how the histories are read.
    let headRows = 0;
    for (let i = head.indexOf(10, read.dataStart); i >= 0 && i < headLen; i = head.indexOf(10, i + 1)) headRows++;
    const estimatedRows = headRows === 0 ? 0 : (totalBytes - read.dataStart) / ((headLen - read.dataStart) / headRows);
    const eventCount = await entityEventCount(app.store, entity.id);
    const readWhole = () => {
      if (opts.readEventsWhole !== undefined) return opts.readEventsWhole;
      if (!isSqliteFile(app.store)) return false;
      // A table scan costs about 1.5 µs a caller's event, a search about 5 µs an event of the list's
      // numbers: the scan pays when most of the caller's events are on the list. A list about the
      // size of the caller's history is mostly its customers (measured: 38 % faster on a list of
      // them); on a list many times larger, mostly of strangers, it came out even (at half of the
      // events on the list) and costs the records' memory.
      return eventCount > 0 && eventCount <= 3 * estimatedRows && estimatedRows <= 4 * eventCount;
    };
    const indexEvents = (found: EntityEvents) => {
      const events = EventIndex.build(found);
      debug(`${events.numbers.size} numbers with events of ${entity.id}${events.records ? ', read whole' : ''}`, started);
      return events;
    };
    const whole = readWhole();
    // A short list for a caller with many events: each row's history read by number (about 20 µs a
    // row with its engine call) costs less than reading the numbers of all the caller's events
    // first (about 1 µs each) – and keeps a server that scrubs over HTTP from stopping for it.
    const everyRow = opts.historiesByNumber ?? (!whole && estimatedRows * 20 < eventCount);
    // Worker threads below 48 MB too: a list mostly of the caller's customers takes the full path
    // on most rows (a history and an engine call, about 10 µs a row), so they pay from 100,000 rows
    // on; and in a server, for a caller with many events, the first of them reads the events'
    // numbers (0.25 s a 200,000) so that the server's thread does not stop for it. (For the command,
    // threads for a short list cost more than that read: 3.1 s against 2.1 s for 40,000 rows.)
    const manyEvents = opts.keepThreadFree === true && !everyRow && isSqliteFile(app.store) && eventCount >= MANY_EVENTS;
    if (workers.length === 0 && opts.workers === undefined && ((whole && estimatedRows >= 100_000) || manyEvents)) {
      addWorkers(startScrubWorkers(scrubWorkers(app.store, Number.MAX_SAFE_INTEGER)));
    }
    const nWorkers = workers.length;
    // Such a list costs about 10 µs a row: chunks of 1 MB (about 50,000 rows, half a second) keep
    // both threads busy to the end, where three or four chunks of 4 MB left one thread waiting.
    // A server scrubbing on its own thread (a short list; any list on PostgreSQL) gives the event
    // loop a turn after every chunk of 128 KB – a few thousand rows, tens of ms even for a CRM
    // export full of numbers to parse – so that agents' checks and other uploads are answered
    // meanwhile: it did the whole list in one go, and a 500,000-row export held them 8–12 s.
    const shareThread = opts.keepThreadFree === true && nWorkers === 0;
    const block = opts.chunkBytes ?? (shareThread ? SHARED_BLOCK : whole ? BLOCK >> 2 : BLOCK);
    debug(`header read${whole ? `; the caller's events are read whole` : ''}; ${nWorkers} worker threads`, started);

    let linesBefore = headerLines;
    let bytesDone = read.dataStart;
    let slowReads = 0;
    const writeResult = (r: { output: Uint8Array; rejects: Reject[]; lines: number; counts: ScrubCounts }, chunkBytes: number) => {
      out.write(r.output);
      if (rej) {
        if (r.rejects.length > 0) rej.write(r.rejects.map((x) => `${linesBefore + x.line}${dl}${csvField(x.reason, dl)}${dl}${x.raw}${d.eol}`).join(''));
      }
      linesBefore += r.lines;
      bytesDone += chunkBytes;
      addCounts(counts, r.counts);
      opts.onProgress?.({ bytes: bytesDone, totalBytes, rows: counts.rows, elapsedMs: Date.now() - started });
    };
    const checkAbort = () => {
      if (opts.signal?.aborted) throw new ScrubAborted(opts.signal?.reason);
    };

    // The input in chunks of whole rows.
    let carry: Buffer = head.subarray(read.dataStart, headLen);
    let pos = headLen;
    // Input buffers come back once their chunk is scrubbed and are read into again: fresh memory
    // costs a page fault every 4 KB.
    const freeInputs: ArrayBuffer[] = [];
    const inputBuffer = (size: number): Buffer => {
      const k = freeInputs.findIndex((b) => b.byteLength >= size);
      return k >= 0 ? Buffer.from(freeInputs.splice(k, 1)[0]!, 0, size) : Buffer.from(new ArrayBuffer(size));
    };
    const giveBackInput = (b: ArrayBuffer) => {
      if (freeInputs.length < 2 * nWorkers + 2) freeInputs.push(b);
    };
    async function* chunks(): AsyncGenerator<{ buf: Buffer; final: boolean }> {
      for (;;) {
        if (carry.length > block) {
          // What the header's read brought beyond a block: a chunk of its own.
          const cut = lastRowBoundary(carry, block, dl);
          if (cut > 0) {
            const buf = inputBuffer(cut);
            carry.copy(buf, 0, 0, cut);
            carry = carry.subarray(cut);
            yield { buf, final: false };
            continue;
          }
        }
        // About a block a chunk: the first carries most of a block from reading the header.
        const want = Math.max(block - carry.length, block >> 2);
        const buf = inputBuffer(carry.length + want);
        carry.copy(buf, 0);
        const n = readSync(inFd, buf, carry.length, want, pos);
        pos += n;
        const len = carry.length + n;
        if (n === 0) {
          if (len > 0) yield { buf: buf.subarray(0, len), final: true };
          return;
        }
        const cut = lastRowBoundary(buf, len, dl);
        if (cut <= 0) {
          const maxRow = opts.maxRowBytes ?? MAX_ROW;
          if (len > maxRow) {
            const size = maxRow >= 1 << 20 ? `${maxRow >> 20} MB` : `${maxRow} bytes`;
            throw new CsvError(`Line ${lineAt(inFd, pos - len)}: the row runs on for more than ${size} – a quote (") opened at the start of a field and never closed?`);
          }
          carry = buf.subarray(0, len);
          continue;
        }
        carry = Buffer.from(buf.subarray(cut, len));
        yield { buf: buf.subarray(0, cut), final: false };
      }
    }

    if (nWorkers === 0) {
      const history = isSqliteFile(app.store) && !everyRow ? new SqliteHistory(app.store.location, entity.id) : new StoreHistory(app.store, entity.id);
      const events = everyRow ? ('every row' as const) : indexEvents(await entityEvents(app.store, entity.id, { records: whole, maxRecordBytes }));
      debug(everyRow ? "every row's history read by number" : 'events loaded', started);
      const core = new ScrubCore({ question, dialect: d, registers, events, history, exact, suppressions });
      try {
        for await (const c of chunks()) {
          checkAbort();
          const r = await core.processChunk(c.buf, c.final);
          writeResult(r, c.buf.length);
          core.recycle(r.output.buffer as ArrayBuffer);
          giveBackInput(c.buf.buffer as ArrayBuffer);
          debug(`chunk written (${r.counts.rows} rows); ${core.phaseReport()}`, started);
          if (shareThread) await new Promise<void>((res) => setImmediate(res));
        }
      } finally {
        if (history instanceof SqliteHistory) history.close();
      }
      slowReads = core.slowReads;
    } else {
      const init: WorkerInit = {
        question,
        dialect: { delimiter: d.delimiter, phoneIndex: d.phoneIndex, phoneColumn: d.phoneColumn, eol: d.eol, columns: d.columns, lineTypeIndex: d.lineTypeIndex },
        registers: registers.map((r) => ({ meta: r.meta, image: r.index.image })),
        events: null,
        dbPath: app.store.location,
        exact,
        suppressions: { secrets: suppressions.secrets, entries: [...suppressions.byHash], tags: suppressions.tags },
      };
      const pending = new Map<number, { resolve: (m: ChunkReply) => void; reject: (e: Error) => void }>();
      const inFlight = new Array<number>(nWorkers).fill(0);
      let failure: Error | null = null;
      const slowBy = new Array<number>(nWorkers).fill(0);
      if (bootError) throw bootError;
      // The caller's events, read by the workers before their first chunks: whole, a range of
      // rowids each (EventRecords), or their numbers and rowids, read and indexed by the first.
      // Either way this thread – a server's, for a scrub over HTTP – is not held up by the read
      // (0.7 s for 600,000 events).
      const asked: Array<{ resolve: (answer: unknown) => void; reject: (e: Error) => void }> = [];
      const answerOf = <T,>(w: number) => new Promise<T>((resolve, reject) => (asked[w] = { resolve: resolve as (answer: unknown) => void, reject }));
      const lastRowid = whole ? lastEventRowid(app.store.location) : 0;
      const eventIndex: Promise<EventIndexImage> = whole
        ? Promise.all(workers.map((_, w) => answerOf<EventRecordPart | null>(w))).then(async (read) =>
            // Parts too large to keep: the rowids instead.
            indexEvents(read.every((p) => p !== null) ? eventsFromParts(read as EventRecordPart[]) : await entityEvents(app.store, entity.id)).image,
          )
        : answerOf<EventIndexImage>(0);
      // Unhandled until sendEvents awaits it: a worker failing meanwhile fails the scrub there.
      eventIndex.catch(() => {});
      for (let w = 0; w < nWorkers; w++) {
        const worker = workers[w]!;
        worker.postMessage({ type: 'init', init } satisfies ToWorker);
        if (!whole && w === 0) worker.postMessage({ type: 'readEventNumbers' } satisfies ToWorker);
        if (whole) {
          const range = (k: number) => (k === nWorkers ? Number.MAX_SAFE_INTEGER : Math.floor((lastRowid * k) / nWorkers));
          worker.postMessage({ type: 'readEvents', part: w, fromRowid: range(w), toRowid: range(w + 1), maxBytes: Math.floor(maxRecordBytes / nWorkers) } satisfies ToWorker);
        }
        worker.on('message', (m: FromWorker) => {
          if (m.type === 'eventsRead') return asked[w]?.resolve(m.part);
          if (m.type === 'eventIndexBuilt') return asked[w]?.resolve(m.events);
          if (m.type === 'eventsFailed') return asked[w]?.reject(new Error(m.message));
          inFlight[w]!--;
          if (m.type === 'done') slowBy[w] = m.slowReads;
          const p = pending.get(m.seq);
          pending.delete(m.seq);
          p?.resolve(m);
        });
        worker.on('error', (err) => {
          failure = err;
          asked[w]?.reject(err);
          for (const p of pending.values()) p.reject(err);
          pending.clear();
        });
      }
      let eventsSent = false;
      const sendEvents = async () => {
        if (eventsSent) return;
        eventsSent = true;
        const events = await eventIndex;
        debug("the caller's events indexed", started);
        for (const worker of workers) worker.postMessage({ type: 'events', events } satisfies ToWorker);
      };
      const results = new Map<number, Promise<ChunkReply>>();
      const sizes = new Map<number, number>();
      const workerOf = new Map<number, number>();
      let seq = 0;
      let next = 0;
      const drain = async (upTo: number) => {
        while (next < seq && (seq - next > upTo || upTo === 0)) {
          const m = await results.get(next)!;
          results.delete(next);
          if (m.type === 'error') throw new Error(m.message);
          writeResult({ output: new Uint8Array(m.output, m.outputOffset, m.outputLength), rejects: m.rejects, lines: m.lines, counts: m.counts }, sizes.get(next)!);
          // Both buffers are used again: the output by its worker, the input by the reader.
          workers[workerOf.get(next)!]!.postMessage({ type: 'recycle', buffer: m.output } satisfies ToWorker, [m.output]);
          workerOf.delete(next);
          giveBackInput(m.input);
          debug(`chunk ${next} written`, started);
          sizes.delete(next);
          next++;
          checkAbort();
        }
      };
      for await (const c of chunks()) {
        checkAbort();
        if (failure) throw failure;
        let w = 0;
        for (let k = 1; k < nWorkers; k++) if (inFlight[k]! < inFlight[w]!) w = k;
        const s = seq++;
        sizes.set(s, c.buf.length);
        results.set(
          s,
          new Promise<ChunkReply>((resolve, reject) => pending.set(s, { resolve, reject })),
        );
        inFlight[w]!++;
        workerOf.set(s, w);
        const msg: ToWorker = { type: 'chunk', seq: s, buffer: c.buf.buffer as ArrayBuffer, offset: c.buf.byteOffset, length: c.buf.length, final: c.final };
        workers[w]!.postMessage(msg, [c.buf.buffer as ArrayBuffer]);
        // The caller's events: read while the workers read and look up their first chunks, given
        // before waiting for any result (each chunk waits for them after its register look-ups).
        if (seq === 2 * nWorkers) await sendEvents();
        await drain(2 * nWorkers - 1);
      }
      await sendEvents();
      await drain(0);
      slowReads = slowBy.reduce((a, b) => a + b, 0);
    }

    debug('all chunks written', started);
    sum?.write(Buffer.from(JSON.stringify(summaryJson(counts), null, 2) + '\n', 'utf8'));
    await out.commit();
    await rej?.commit();
    await sum?.commit();
    debug('output committed', started);
    const durationMs = Date.now() - started;
    const notes = columnNotes(d, Boolean(opts.phoneColumn?.trim()));
    await scrubs.finish(id, { status: 'done', counts, finishedAt: Date.now(), durationMs, phoneColumn: d.phoneColumn, lineTypeColumn: d.lineTypeColumn, columnNotes: notes, outputPath: resolve(opts.output), rejectsPath: opts.rejects ? resolve(opts.rejects) : null });
    debug('recorded', started);
    return { id, counts, dialect: d, columnNotes: notes, durationMs, workers: nWorkers, slowReads };
  } catch (err) {
    for (const f of files) f.discard();
    try {
      await scrubs.finish(id, {
        status: 'failed',
        counts,
        finishedAt: Date.now(),
        durationMs: Date.now() - started,
        phoneColumn: dialect?.phoneColumn ?? null,
        error: (err as Error).message,
        errorDetails: err instanceof InputError ? err.errors : null,
      });
    } catch {
      /* the store may be the problem */
    }
    throw err;
  } finally {
    closeSync(inFd);
    for (const w of workers) void w.terminate();
    if (cleanupOnExit) process.removeListener('exit', cleanupOnExit);
  }
}
