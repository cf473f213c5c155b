import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, SqliteDialect, PostgresDialect, type DatabaseConnection, type Driver } from 'kysely';
import SQLite from 'better-sqlite3';
import { createRequire } from 'node:module';
import type pg from 'pg';
import type { Database } from './schema.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface Connection {
  db: Kysely<Database>;
  kind: StoreKind;
  /** Where the data lives, for messages (password stripped). */
  location: string;
  /** PostgreSQL's pool, for the one thing Kysely cannot do: COPY (bulk register loads). */
  pgPool?: pg.Pool;
  /** SQLite's one connection, which Kysely's transactions run on: an import's inserts run its statement themselves (Store.insertEvents). */
  sqlite?: SQLite.Database;
  /** SQLite: throws (SQLITE_CANTOPEN) when the file opened is no longer the one at its path. */
  checkFile?: () => void;
}

/** Which store an `OPTLINE_DB` names: a postgres:// URL, else a SQLite file path (or `:memory:`). */
export function storeKindOf(target: string): StoreKind {
  return /^postgres(ql)?:\/\//.test(target) ? 'postgres' : 'sqlite';
}

/** A store in a SQLite file (not `:memory:`): other threads and processes can open the file themselves. */
export function isSqliteFile(store: { kind: StoreKind; location: string }): boolean {
  return store.kind === 'sqlite' && store.location !== ':memory:';
}

/** `OPTLINE_DB`: a SQLite file path (or `:memory:`), or a postgres:// URL. */
export interface ConnectOptions {
  /**
   * SQLite: how long a statement waits, blocking its thread, for another connection's write lock
   * (default 5000 ms). A server sets it short: while it waits nothing else runs, decisions
   * included, so it rather gives up soon and retries without blocking (withRetry).
   */
  busyTimeoutMs?: number;
}

export function connect(target: string, opts: ConnectOptions = {}): Connection {
  if (storeKindOf(target) === 'postgres') {
    // Loaded only for PostgreSQL stores: SQLite users (and every short CLI command) skip its load time.
    const { Pool } = createRequire(import.meta.url)('pg') as typeof pg;
    // Writers waiting for a chain's head lock hold only a few of these connections at a time
    // (lockHead in src/store/chain.ts): one entity's long write does not starve the others.
    const pool = new Pool({ connectionString: target, max: 10, connectionTimeoutMillis: 5000 });
    // An idle client whose server went away emits 'error'; unhandled it would end the process.
    // The pool drops that client and the next query connects anew, so the server heals itself.
    pool.on('error', (err) => console.error('store: idle PostgreSQL connection lost: %s', err.message));
    // A connection that drops while a query runs emits 'error' on its client too, and the pool
    // listens only while the client is idle: unhandled, that would end the process. The query
    // itself fails (answered 503); the broken client is discarded when released.
    pool.on('connect', (client) => client.on('error', (err) => console.error('store: PostgreSQL connection lost: %s', err.message)));
    return {
      db: new Kysely<Database>({ dialect: new GuardedPostgresDialect({ pool }) }),
      kind: 'postgres',
      location: target.replace(/\/\/[^@/]*@/, '//***@'),
      pgPool: pool,
    };
  }
  if (target !== ':memory:') mkdirSync(dirname(target), { recursive: true });
  const sqlite = new SQLite(target);
  const file = target === ':memory:' ? null : fileIdentity(target);
  // WAL lets readers run beside the writer; synchronous=FULL makes every acknowledged commit
  // survive a power cut, not just a process crash.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.round(opts.busyTimeoutMs ?? 5000))}`);
  sqlite.pragma('foreign_keys = ON');
  // An erasure rewrites rows in place: the space the old content held is zeroed, not left in the
  // file's free pages where the erased number could still be read (see eraseSubject).
  sqlite.pragma('secure_delete = ON');
  const checkFile = (): void => {
    if (target !== ':memory:') checkSameFile(target, file);
  };
  const cached = withStatementCache(sqlite);
  return { db: new Kysely<Database>({ dialect: new GuardedSqliteDialect({ database: cached }, checkFile) }), kind: 'sqlite', location: target, checkFile, sqlite: cached };
}

interface FileIdentity {
  dev: number;
  ino: number;
}

function fileIdentity(path: string): FileIdentity | null {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/**
 * An open SQLite file that was deleted or replaced goes on working through its handle: writes
 * would be acknowledged into a file nobody will open again. Checked before every transaction and
 * by the health check (a stat, a few µs), the error answered 503 like any store that is gone.
 */
function checkSameFile(path: string, opened: FileIdentity | null): void {
  const now = fileIdentity(path);
  if (!opened || !now || now.dev !== opened.dev || now.ino !== opened.ino) {
    throw Object.assign(new Error(`The store file ${path} was removed or replaced while open: restart the server on the right file.`), { code: 'SQLITE_CANTOPEN' });
  }
}

/**
 * Kysely's SQLite dialect with two guards: a transaction starts only on the file the store opened
 * (checkSameFile), and a failed transaction reports its own error. SQLite itself rolls back on a
 * full disk or an I/O error; Kysely's ROLLBACK then fails with "no transaction is active", and
 * that error would hide the one that says the disk is full (answered 500 instead of 503).
 */
class GuardedSqliteDialect extends SqliteDialect {
  readonly #check: () => void;
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0], check: () => void) {
    super(config);
    this.#check = check;
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const begin = driver.beginTransaction.bind(driver);
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.beginTransaction = async (connection: DatabaseConnection, settings) => {
      this.#check();
      return begin(connection, settings);
    };
    driver.rollbackTransaction = async (connection: DatabaseConnection) => {
      try {
        await rollback(connection);
      } catch (err) {
        if (!/no transaction is active/i.test((err as Error).message)) throw err;
      }
    };
    return driver;
  }
}

/**
 * Kysely's PostgreSQL dialect with the same rollback guard: a transaction that failed because its
 * connection broke (a server restart, a network cut) has Kysely send ROLLBACK on that connection,
 * which fails as well ("Connection terminated unexpectedly", "Client has encountered a connection
 * error and is not queryable") and would hide the error that says what happened. The client is
 * useless then, and pg's pool discards it when it is released. Any other failed ROLLBACK still
 * throws: a client left inside a transaction must not go back to the pool unnoticed.
 */
class GuardedPostgresDialect extends PostgresDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.rollbackTransaction = async (connection: DatabaseConnection) => {
      try {
        await rollback(connection);
      } catch (err) {
        // The connection is gone: pg's own error (no `severity`: not from the server), or the
        // server's SQLSTATE 08 (connection) or 57P (shutting down).
        const e = err as { severity?: unknown; code?: unknown };
        if (e.severity !== undefined && !/^(08|57P)/.test(String(e.code))) throw err;
      }
    };
    return driver;
  }
}

/**
 * Kysely's SQLite driver prepares every statement anew; preparing costs more than running the
 * hot lookups. Caches prepared statements by their SQL text (bounded: batch inserts vary).
 */
function withStatementCache(sqlite: SQLite.Database, max = 256): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') {
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      return (sql: string) => {
        let stmt = cache.get(sql);
        if (!stmt) {
          stmt = target.prepare(sql);
          if (cache.size >= max) cache.delete(cache.keys().next().value!);
          cache.set(sql, stmt);
        }
        return stmt;
      };
    },
  });
}

/** Whether a Kysely instance (or transaction) speaks to PostgreSQL: FOR UPDATE is PostgreSQL-only here. */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}
