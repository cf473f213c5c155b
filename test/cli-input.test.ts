/**
 * What the `optline` command refuses, and how it says so: a file that is not an Optline store,
 * loose times, settings and option values out of range, a checkpoint that checks nothing, and
 * failures blamed on the right thing (the store, or the address `serve` listens on).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { Store } from '../src/store/repository.js';
import { connect } from '../src/store/connect.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { Optline } from '../src/service/optline.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
let dir: string;
let db: string;

function optline(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, OPTLINE_DB: db, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tablesOf = (path: string): string[] => {
  const sqlite = new SQLite(path, { readonly: true });
  try {
    return (sqlite.prepare("select name from sqlite_master where type = 'table' order by name").all() as Array<{ name: string }>).map((r) => r.name);
  } finally {
    sqlite.close();
  }
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'optline-cli-input-'));
  db = join(dir, 'optline.db');
  const store = await Store.open(db);
  const app = await Optline.open(store);
  await app.putEntity('voltana', { name: 'Voltana Energie B.V.', kind: 'company', country: 'NL' });
  await app.putEntity('sonnig', { name: 'Sonnig Energie GmbH', kind: 'company', country: 'DE' });
  const source = { method: 'web_form', wording: 'Bel mij over aanbiedingen.' } as const;
  await app.recordConsent({ phone: '+31612345678', entityId: 'voltana', channel: 'phone', status: 'granted', at: Date.parse('2026-01-05T10:00:00Z'), source });
  await app.recordConsent({ phone: '+4915112345678', entityId: 'sonnig', channel: 'phone', status: 'granted', at: Date.parse('2026-01-05T10:00:00Z'), source });
  await app.close();
  await store.close();
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OPTLINE_DB that is not an Optline store', () => {
  it('refuses an empty file and leaves it empty', () => {
    const zero = join(dir, 'zero.db');
    writeFileSync(zero, '');
    const r = optline(['verify'], { OPTLINE_DB: zero });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^optline: ${zero.replace(/[.\\/]/g, '\\$&')} \\(OPTLINE_DB\\) is not an Optline store: the file is empty\\.`));
    expect(statSync(zero).size).toBe(0);
  });

  it("refuses another program's SQLite database and adds no table to it", () => {
    const foreign = join(dir, 'crm.db');
    const sqlite = new SQLite(foreign);
    sqlite.exec("create table customers (id integer primary key, name text); insert into customers (name) values ('Jan')");
    sqlite.close();
    const r = optline(['keys', 'list'], { OPTLINE_DB: foreign });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/crm\.db \(OPTLINE_DB\) is not an Optline store: it is a SQLite database without Optline's migrations table, optline_migrations\./);
    expect(tablesOf(foreign)).toEqual(['customers']);
  });

  it('migrates an older Optline store as before', async () => {
    const older = join(dir, 'older.db');
    const { db: kysely } = connect(older);
    await kysely.schema.createTable('optline_migrations').addColumn('name', 'text', (c) => c.primaryKey()).addColumn('applied_at', 'text', (c) => c.notNull()).execute();
    for (const m of MIGRATIONS.slice(0, -1)) {
      await m.up(kysely as never);
      await sql`insert into optline_migrations (name, applied_at) values (${m.name}, ${new Date().toISOString()})`.execute(kysely);
    }
    await kysely.destroy();
    const r = optline(['verify'], { OPTLINE_DB: older });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const sqlite = new SQLite(older, { readonly: true });
    expect(sqlite.prepare("select count(*) as n from optline_migrations where name <> '!lock'").get()).toEqual({ n: MIGRATIONS.length });
    sqlite.close();
  });
});

describe('failures blamed on the right thing', () => {
  it('names the store when it cannot be opened, whatever the error', () => {
    const damaged = join(dir, 'damaged.db');
    // The schema (page 1) stays readable; the migrations table's pages after it are overwritten.
    const bytes = readFileSync(db);
    bytes.fill(0xff, 4096, 4 * 4096);
    writeFileSync(damaged, bytes);
    const r = optline(['verify'], { OPTLINE_DB: damaged });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`optline: cannot open the store ${damaged} (OPTLINE_DB): database disk image is malformed\n`);
  });

  it('says `serve` cannot listen on HOST:PORT, not that the store cannot be opened', () => {
    const r = optline(['serve'], { OPTLINE_DB: join(dir, 'listen.db'), HOST: '256.1.1.1', PORT: '0', OPTLINE_DEMO: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^optline: cannot listen on 256\.1\.1\.1:0 \(HOST, PORT\): \S/m);
    expect(r.stderr).not.toMatch(/cannot open the store/);
  });
});

describe('optline serve settings', () => {
  it.each([
    ['PORT', 'abc', /^optline: PORT must be a whole number from 0 to 65535/],
    ['PORT', '65536', /^optline: PORT must be a whole number from 0 to 65535/],
    ['OPTLINE_REGISTER_SYNC_SECONDS', 'abc', /^optline: OPTLINE_REGISTER_SYNC_SECONDS must be a number of seconds from 1 to 86400, or 0 \(no sync\), not "abc"/],
    ['OPTLINE_REGISTER_SYNC_SECONDS', '0.001', /^optline: OPTLINE_REGISTER_SYNC_SECONDS must be/],
    ['OPTLINE_REGISTER_SYNC_SECONDS', '-5', /^optline: OPTLINE_REGISTER_SYNC_SECONDS must be/],
    // Read where they are used, where a typo meant something else: rate limiting off, say.
    ['OPTLINE_RATE_LIMIT', 'abc', /^optline: OPTLINE_RATE_LIMIT must be a whole number of requests a minute, or 0 \(no limit\), not "abc"/],
    ['OPTLINE_AUTH_FAILURES_PER_MINUTE', '6o', /^optline: OPTLINE_AUTH_FAILURES_PER_MINUTE must be/],
    ['OPTLINE_SCRUB_MAX_BYTES', '4GiB', /^optline: OPTLINE_SCRUB_MAX_BYTES must be a whole number of bytes/],
    ['OPTLINE_IMPORT_MAX_BYTES', '32MB', /^optline: OPTLINE_IMPORT_MAX_BYTES must be a whole number of bytes/],
    ['OPTLINE_SCRUBS_AT_ONCE', '0', /^optline: OPTLINE_SCRUBS_AT_ONCE must be/],
  ])('%s=%s stops the start (exit 2)', (name, value, message) => {
    // Without the check the server would start (and run until the timeout) or fail with exit 1.
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
      env: { ...process.env, OPTLINE_DB: join(dir, 'settings.db'), HOST: '127.0.0.1', PORT: '0', OPTLINE_DEMO: '0', [name]: value },
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  }, 30_000);

  it('OPTLINE_REGISTER_SYNC_SECONDS=0 starts the server without the sync', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
      env: { ...process.env, OPTLINE_DB: join(dir, 'nosync.db'), HOST: '127.0.0.1', PORT: '0', OPTLINE_DEMO: '0', OPTLINE_REGISTER_SYNC_SECONDS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    for (let i = 0; i < 600 && child.exitCode === null && !out.includes('Optline is serving'); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    expect(out).toContain('Optline is serving');
    expect(await exited).toBe(0);
  }, 60_000);
});

describe('optline audit decisions --from/--to', () => {
  it.each([
    ['--from', '2026-02-30T00:00:00Z'],
    ['--from', '2026-11-29T10:00:00'],
    ['--to', '2026-11-29, 10:00 PM'],
  ])('refuses %s %s, as --at does', (option, value) => {
    const r = optline(['audit', 'decisions', option, value]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`option '${option} <time>' argument '${value}' is invalid`);
  });

  it('takes a moment with its offset', () => {
    const r = optline(['audit', 'decisions', '--from', '2026-11-01T00:00:00+01:00', '--to', '2026-12-01T00:00:00Z']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('optline registers import', () => {
  const registerFile = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it.each(['abc', '-5', '1.5'])('refuses --show-rejected %s', (value) => {
    const r = optline(['registers', 'import', 'nl-bel-me-niet', registerFile('two-bad.txt', '+31612340001\n+31612340002\nabc\n12\n'), '--as-of', '2026-11-01', '--show-rejected', value]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`option '--show-rejected <n>' argument '${value}' is invalid. expected a whole number from 0 up`);
  });

  it('prints at most --show-rejected lines and counts the others', () => {
    const r = optline(['registers', 'import', 'nl-bel-me-niet', registerFile('two-bad.txt', '+31612340001\n+31612340002\nabc\n12\n'), '--as-of', '2026-11-01', '--show-rejected', '1']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^nl-bel-me-niet: 2 numbers as of 2026-11-01 from 4 lines in [\d.]+ s; 2 lines rejected;/);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^ {2}line 3: /), '  … 1 more']);
  });

  it('says "1 line", not "1 lines"', () => {
    const r = optline(['registers', 'import', 'nl-bel-me-niet', registerFile('one.txt', '+31612340001\n'), '--as-of', '2026-11-01']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^nl-bel-me-niet: 1 number as of 2026-11-01 from 1 line in [\d.]+ s; 0 lines rejected;/);
  });

  it('dates a copy given as a moment by its earlier date: the date written, not the UTC date a day later', () => {
    const r = optline(['registers', 'import', 'us-dnc', registerFile('us.txt', '+12125550100\n'), '--as-of', '2026-06-01T22:00:00-04:00']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^us-dnc: 1 number as of 2026-06-01 /);
  });
});

describe('optline verify --checkpoint', () => {
  const checkpointFile = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('refuses a checkpoint without chain heads', () => {
    const r = optline(['verify', '--checkpoint', checkpointFile('empty.json', '[]')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/empty\.json holds no chain heads/);
  });

  it("fails when none of the checkpoint's chains was checked (another entity's checkpoint)", () => {
    const saved = optline(['verify', '--entity', 'voltana', '--json']);
    expect(saved.code).toBe(0);
    const file = checkpointFile('voltana.json', saved.stdout);
    expect(optline(['verify', '--entity', 'voltana', '--checkpoint', file])).toMatchObject({ code: 0, stdout: expect.stringMatching(/the history up to the checkpoint \(1 chain\) was not rewritten/) });
    const r = optline(['verify', '--entity', 'sonnig', '--checkpoint', file]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^CHECKPOINT NOT COMPARED: .*voltana\.json has no chain of entity sonnig \(its chains: voltana\): nothing was compared with it/);
  });

  it('reads a checkpoint saved with a byte order mark', () => {
    const saved = optline(['verify', '--json']);
    const r = optline(['verify', '--checkpoint', checkpointFile('bom.json', `\uFEFF${saved.stdout}`)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/the history up to the checkpoint \(2 chains\) was not rewritten/);
  });
});

describe('small ones', () => {
  it('prints its version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(optline(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('refuses erase --email with something that is not an e-mail address', () => {
    const r = optline(['erase', '--email', 'notanemail']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--email <address>' argument 'notanemail' is invalid");
  });

  it("refuses a key for '*' and named entities at once", () => {
    const r = optline(['keys', 'create', '--role', 'admin', '--entity', 'voltana', '*']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^optline: --entity '\*' covers every entity: give it alone/);
    expect(optline(['keys', 'list']).stdout).not.toMatch(/voltana,\*/);
  });
});

describe('serve on a file that is not an Optline store', () => {
  it('refuses another program\'s SQLite database and leaves it as it was', () => {
    const crm = join(dir, 'crm-for-serve.db');
    const sqlite = new SQLite(crm);
    sqlite.exec('create table customers (id integer primary key, phone text)');
    sqlite.close();
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'serve'], { env: { ...process.env, OPTLINE_DB: crm, PORT: '0' }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain("is not an Optline store: it is a SQLite database without Optline's migrations table");
    expect(tablesOf(crm)).toEqual(['customers']);
  }, 40_000);

  it('makes its store in a database with no table at all (what a first start stopped early leaves)', async () => {
    const early = join(dir, 'stopped-early.db');
    const sqlite = new SQLite(early);
    sqlite.pragma('journal_mode = WAL');
    sqlite.close();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], { env: { ...process.env, OPTLINE_DB: early, PORT: '0', OPTLINE_DEMO: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 600 && !out.includes('Optline is serving'); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    await exited;
    expect(out).toContain('Optline is serving');
    expect(tablesOf(early)).toContain('optline_migrations');
  }, 60_000);
});

describe('serve on a new store', () => {
  it('waits for the demo data and its keys before a Ctrl-C stops it: the store is never left with callers and no key', async () => {
    const fresh = join(dir, 'seeding.db');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], { env: { ...process.env, OPTLINE_DB: fresh, PORT: '0', OPTLINE_DEMO: '1' }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const count = (table: string): number => {
      try {
        const sqlite = new SQLite(fresh, { readonly: true, fileMustExist: true });
        try {
          return (sqlite.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
        } finally {
          sqlite.close();
        }
      } catch {
        return 0; // not there yet
      }
    };
    // Stopped as soon as the demo's first caller is written, as a newcomer's Ctrl-C might.
    for (let i = 0; i < 6000 && count('entities') === 0; i++) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGINT');
    await exited;
    expect(count('entities')).toBeGreaterThan(0);
    expect(count('api_keys')).toBeGreaterThanOrEqual(3);
  }, 60_000);
});

describe('scrub', () => {
  it('warns when other columns look like phone numbers, or the list was scrubbed before – and names the column it checked', async () => {
    const input = join(dir, 'two-numbers.csv');
    writeFileSync(input, 'id,mobile,phone\n1,+31612345671,+31201234567\n');
    const r = optline(['scrub', '--entity', 'voltana', '--in', input, '--out', join(dir, 'two-numbers.out.csv')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('(phone column "phone")');
    expect(r.stderr).toContain('optline: warning: "mobile" looks like phone numbers too; only "phone" was checked. Name the column to check with --phone-column (to check both, scrub the list once for each).');
    // Named: what to check was said, nothing to warn about.
    expect(optline(['scrub', '--entity', 'voltana', '--in', input, '--out', join(dir, 'two-numbers.out.csv'), '--phone-column', 'mobile']).stderr).not.toContain('warning');
    // The output scrubbed again.
    const again = optline(['scrub', '--entity', 'voltana', '--in', join(dir, 'two-numbers.out.csv'), '--out', join(dir, 'twice.csv'), '--phone-column', 'phone']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('optline: warning: The list has the columns e164, allowed, basis, denials already – was it scrubbed before?');
  });
});

/**
 * A backup as one is sometimes kept: the database file and its write-ahead log, holding a write
 * not yet checkpointed, without the -shm (SQLite cannot open that in place where it may not make
 * the -shm). `from`: a file to start from, else an empty database.
 */
/** `optline verify` on a store, as a user who may not write it (tests run as root, who may write anything). */
const verifyAsNobody = (store: string) => spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'verify'], { env: { ...process.env, OPTLINE_DB: store }, encoding: 'utf8', uid: 65534, gid: 65534, cwd: ROOT, timeout: 60_000 });

function walOnlyBackup(dir: string, name: string, from: string | null, write: string): string {
  const source = join(dir, `${name}.source`);
  if (from) writeFileSync(source, readFileSync(from));
  const live = new SQLite(source);
  live.pragma('journal_mode = WAL');
  live.pragma('wal_autocheckpoint = 0');
  live.exec(write);
  const backup = join(dir, name);
  writeFileSync(backup, readFileSync(source));
  writeFileSync(`${backup}-wal`, readFileSync(`${source}-wal`));
  live.close();
  for (const f of readdirSync(dir).filter((n) => n.startsWith(`${name}.source`))) rmSync(join(dir, f));
  return backup;
}

describe('verify on a store this user may only read (a backup)', () => {
  // Run as `nobody`: possible when the tests run as root and the checkout is readable by others
  // (a checkout under /root is not: the test is then skipped, with a note).
  const asNobody = process.getuid?.() === 0 && spawnSync(process.execPath, ['--import', 'tsx', MAIN, '--version'], { uid: 65534, gid: 65534, cwd: ROOT, timeout: 60_000 }).status === 0;
  if (!asNobody) console.warn('verify on a read-only store: not run (needs root, and a checkout the user nobody can read)');
  it.skipIf(!asNobody)('checks it from a copy, writing nothing to it: a backup of an older version brought up to date there, one of a newer version refused', async () => {
    const backups = mkdtempSync(join(tmpdir(), 'optline-backup-'));
    try {
      const copy = join(backups, 'backup.db');
      writeFileSync(copy, readFileSync(db));
      chmodSync(copy, 0o444);
      chmodSync(backups, 0o555);
      const before = statSync(copy).mtimeMs;
      // As a user without write access (tests run as root here, who may write anything).
      const r = verifyAsNobody(copy);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^history intact: \d+ events in \d+ chains? verified/);
      expect(statSync(copy).mtimeMs).toBe(before);
      expect(readdirSync(backups)).toEqual(['backup.db']);
      // A backup taken with its write-ahead log but not the shared-memory file (SQLite cannot open
      // that in place – SQLITE_CANTOPEN – where it may not make the -shm): read from a copy too.
      chmodSync(backups, 0o755);
      const walBackup = walOnlyBackup(backups, 'wal-backup.db', db, 'create table wal_probe (x); insert into wal_probe values (1)');
      chmodSync(walBackup, 0o444);
      chmodSync(`${walBackup}-wal`, 0o444);
      chmodSync(backups, 0o555);
      const withWal = verifyAsNobody(walBackup);
      expect(withWal.status, withWal.stderr).toBe(0);
      expect(withWal.stdout).toMatch(/^history intact/);
      expect(readdirSync(backups).sort()).toEqual(['backup.db', 'wal-backup.db', 'wal-backup.db-wal']);
      // Another program's database kept so: refused, not migrated (in the copy) into an empty "intact" store.
      chmodSync(backups, 0o755);
      const foreign = walOnlyBackup(backups, 'foreign.db', null, "create table songs (title); insert into songs values ('x')");
      chmodSync(backups, 0o555);
      const refusedForeign = verifyAsNobody(foreign);
      expect(refusedForeign.status, refusedForeign.stdout).toBe(2);
      expect(refusedForeign.stderr).toContain('is not an Optline store: it is a SQLite database without');
      chmodSync(backups, 0o755);
      rmSync(foreign);
      rmSync(`${foreign}-wal`);
      chmodSync(backups, 0o555);
      // A backup of an older Optline: its copy is brought up to date and checked, the backup left as it is.
      chmodSync(backups, 0o755);
      const old = join(backups, 'old.db');
      writeFileSync(old, readFileSync(db));
      const editable = new SQLite(old);
      // Undone by hand: the last migration (0022) added an index.
      expect(MIGRATIONS.at(-1)!.name).toBe('0022_suppressions_entity_reason');
      editable.exec('drop index suppressions_entity_reason');
      editable.prepare('delete from optline_migrations where name = ?').run(MIGRATIONS.at(-1)!.name);
      editable.close();
      chmodSync(old, 0o444);
      chmodSync(backups, 0o555);
      const older = verifyAsNobody(old);
      expect(older.status, older.stderr).toBe(0);
      expect(older.stdout).toMatch(/^history intact/);
      const check = new SQLite(old, { readonly: true });
      expect(check.prepare('select count(*) as n from optline_migrations where name = ?').get(MIGRATIONS.at(-1)!.name)).toEqual({ n: 0 });
      check.close();
      // One of a newer Optline is refused, as a writable one is.
      chmodSync(backups, 0o755);
      const newer = join(backups, 'newer.db');
      writeFileSync(newer, readFileSync(db));
      const future = new SQLite(newer);
      future.prepare('insert into optline_migrations (name, applied_at) values (?, ?)').run('0999_future', new Date().toISOString());
      future.close();
      chmodSync(newer, 0o444);
      chmodSync(backups, 0o555);
      const refused = verifyAsNobody(newer);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('newer version of Optline');
      // No copy of the store is left behind.
      expect(readdirSync(tmpdir()).filter((n) => n.startsWith('optline-readonly-') && statSync(join(tmpdir(), n)).uid === 65534)).toEqual([]);
    } finally {
      chmodSync(backups, 0o755);
      rmSync(backups, { recursive: true, force: true });
    }
  }, 90_000);
});
