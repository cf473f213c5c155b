// Writes batches of decision rows into the SQLite file on its own thread and connection, so the
// audit log's inserts do not take the request thread's time. Plain JavaScript on purpose: a
// worker thread does not inherit the TypeScript loader in every runner (vitest, tsx, node).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

// fileMustExist: a store file removed meanwhile must not be created anew, empty, and written to.
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 10000');
// As the store's own connection (connect.ts): pages this thread rewrites keep no stale copies of
// rows an erasure later redacts.
db.pragma('secure_delete = ON');
const insert = db.prepare(
  'insert into decisions (id, entity_id, phone, at, recorded_at, allowed, basis, denials, rules_version, request, response, key_id) ' +
    'values (@id, @entity_id, @phone, @at, @recorded_at, @allowed, @basis, @denials, @rules_version, @request, @response, @key_id)',
);
const writeAll = db.transaction((rows) => {
  for (const r of rows) insert.run(r);
});

parentPort.on('message', (msg) => {
  if (msg.type === 'close') {
    db.close();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  try {
    writeAll(msg.rows);
    parentPort.postMessage({ type: 'done', seq: msg.seq });
  } catch (err) {
    parentPort.postMessage({ type: 'failed', seq: msg.seq, message: String(err && err.message), code: err && err.code });
  }
});
