/**
 * A scrub worker thread: scrubs the chunks the runner sends, with register indexes shared
 * (SharedArrayBuffer, no copy) and its own read-only connection to the SQLite store for the
 * histories of numbers that have events.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NumberIndex } from '../registers/number-index.js';
import { ScrubCore, type CoreInit } from './core.js';
import { EventIndex, readEventNumbers, readEventRecords, SqliteHistory } from './history.js';
import type { WorkerInit, ToWorker, FromWorker } from './protocol.js';

let core: ScrubCore | null = null;
let history: SqliteHistory | null = null;
let settings: WorkerInit | null = null;

/** Built when the runner sends what the scrub needs (the worker starts before that is known). */
function start(init: WorkerInit): void {
  settings = init;
  history = new SqliteHistory(init.dbPath, init.question.entity.id);
  core = new ScrubCore({
    question: init.question,
    dialect: init.dialect,
    registers: init.registers.map((r) => ({ meta: r.meta, index: NumberIndex.fromImage(r.image) })),
    events: init.events ? EventIndex.fromImage(init.events) : null,
    history,
    auditEvery: init.auditEvery,
    phoneAuditEvery: init.phoneAuditEvery,
    exact: init.exact,
    suppressions: init.suppressions ? { secrets: init.suppressions.secrets, byHash: new Map(init.suppressions.entries), tags: init.suppressions.tags } : undefined,
  } satisfies CoreInit);
}

if (workerData) start(workerData as WorkerInit);

const port = parentPort!;
let queue: Promise<void> = Promise.resolve();

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'stop') {
    history?.close();
    port.close();
    return;
  }
  if (msg.type === 'init') {
    start(msg.init);
    return;
  }
  if (msg.type === 'readEventNumbers' || msg.type === 'readEvents') {
    // At once, before the chunks queued behind it: the runner waits for the caller's events.
    try {
      if (!settings) throw new Error(`scrub worker: ${msg.type} arrived before init`);
      const { dbPath, question } = settings;
      if (msg.type === 'readEventNumbers') {
        port.postMessage({ type: 'eventIndexBuilt', events: EventIndex.build(readEventNumbers(dbPath, question.entity.id)).image } satisfies FromWorker);
      } else {
        const part = readEventRecords(dbPath, question.entity.id, msg.part, msg.fromRowid, msg.toRowid, msg.maxBytes);
        port.postMessage({ type: 'eventsRead', part } satisfies FromWorker, part ? [part.nums.buffer as ArrayBuffer, part.refs.buffer as ArrayBuffer] : []);
      }
    } catch (err) {
      port.postMessage({ type: 'eventsFailed', message: (err as Error).message ?? String(err) } satisfies FromWorker);
    }
    return;
  }
  if (msg.type === 'events') {
    // Not queued behind the chunks: a chunk may be waiting for them.
    core?.setEvents(EventIndex.fromImage(msg.events));
    return;
  }
  if (msg.type === 'recycle') {
    core?.recycle(msg.buffer);
    return;
  }
  queue = queue.then(async () => {
    try {
      const bytes = Buffer.from(msg.buffer, msg.offset, msg.length);
      const t0 = Date.now();
      if (!core) throw new Error('scrub worker: a chunk arrived before init');
      const r = await core.processChunk(bytes, msg.final);
      if (process.env.OPTLINE_SCRUB_DEBUG === '1') console.error(`[worker] chunk ${msg.seq}: ${Date.now() - t0} ms; ${core.phaseReport()}`);
      const out = r.output;
      const reply: FromWorker = { type: 'done', seq: msg.seq, output: out.buffer as ArrayBuffer, outputOffset: out.byteOffset, outputLength: out.length, rejects: r.rejects, lines: r.lines, counts: r.counts, slowReads: core.slowReads, input: msg.buffer };
      port.postMessage(reply, [out.buffer as ArrayBuffer, msg.buffer]);
    } catch (err) {
      const reply: FromWorker = { type: 'error', seq: msg.seq, message: (err as Error).message ?? String(err) };
      port.postMessage(reply);
    }
  });
});
