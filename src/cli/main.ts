#!/usr/bin/env node
import { accessSync, chmodSync, constants, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import SQLite from 'better-sqlite3';
import { Store, ROLES, type Role } from '../store/repository.js';
import { storeKindOf, type ConnectOptions } from '../store/connect.js';
import { Optline } from '../service/optline.js';
import { fileProblem, InputError, NotFoundError, StoreUnavailableError } from '../service/errors.js';
import { SUBSCRIBER_TYPES } from '../law/types.js';
import { InvalidPhoneNumberError } from '../phone/index.js';
import { IanaZone } from '../api/schemas.js';
import { registerTrustCommands } from './commands/trust.js';
import { scrubCommand } from './commands/scrub.js';
import { parseInstant } from './instant.js';
import { readCheckpoint } from '../store/checkpoint.js';
import { registersCommand } from './commands/registers.js';
import { importCommand } from './commands/import.js';
import packageJson from '../../package.json' with { type: 'json' };

const dbTarget = (): string => process.env.OPTLINE_DB || './data/optline.db';
/** The store's name for messages: a PostgreSQL URL without its password. */
const storeName = (): string => dbTarget().replace(/\/\/[^@/]*@/, '//***@');
const SERVER_BUSY_TIMEOUT_MS = 50;
/** The table the first migration run creates in every Optline store (migrate() in src/store/migrations.ts). */
const MIGRATIONS_TABLE = 'optline_migrations';

/** Opening or migrating the store itself failed (not the command's work on it): the message names the store. */
class StoreOpenError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** `serve` could not take its address: the message names HOST and PORT, not the store. */
class ListenError extends Error {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

async function openStore(target: string, opts: ConnectOptions = {}): Promise<Store> {
  try {
    return await Store.open(target, opts);
  } catch (err) {
    throw new StoreOpenError(err);
  }
}

/**
 * Why an existing SQLite file is not an Optline store, or null if it is one. Opening it as a store
 * would migrate whatever it is – an empty file, another program's database – into one, so it is
 * looked at read-only first: an Optline store, however old, has the migrations table.
 */
function whyNotAnOptlineStore(path: string, opts: { emptyDatabaseIsNew?: boolean } = {}): string | null {
  if (statSync(path).isDirectory()) return 'it is a directory';
  let sqlite: SQLite.Database | undefined;
  try {
    sqlite = new SQLite(path, { readonly: true, fileMustExist: true });
    if (sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(MIGRATIONS_TABLE)) return null;
    // A database with no table at all: a first `serve` stopped before it made any (it had written
    // the journal mode already) – nobody else's data, so a store is made in it.
    if (opts.emptyDatabaseIsNew && !sqlite.prepare("select 1 from sqlite_master where type = 'table'").get()) return null;
    return statSync(path).size === 0 ? 'the file is empty' : `it is a SQLite database without Optline's migrations table, ${MIGRATIONS_TABLE}`;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SQLITE_NOTADB') return 'it is not a SQLite database';
    // A WAL-mode file in a directory this user may not write cannot be read in place: `verify`
    // reads such a store from a copy and checks it there (openReadOnlyStore).
    if ((err as { code?: unknown }).code === 'SQLITE_READONLY_DIRECTORY') return null;
    // A backup with its -wal but without its -shm: SQLite cannot open it (SQLITE_CANTOPEN) where it
    // may not make the -shm – the same case, when the file can be read but not written here.
    if ((err as { code?: unknown }).code === 'SQLITE_CANTOPEN' && readable(path) && !writable(path)) return null;
    throw new StoreOpenError(err);
  } finally {
    sqlite?.close();
  }
}

/**
 * The store every command but `serve` works on: it must exist. Opening a SQLite path creates the
 * file, so a mistyped OPTLINE_DB (or a command run from another directory) would otherwise answer
 * from a new, empty store – "history intact: 0 events", "Unknown entity". `serve` (`create`) makes
 * one where there is none, in an empty file or a database with no table; either way, an existing
 * file must be an Optline store – another program's database would be migrated into one.
 */
function existingStore(opts: { create?: boolean } = {}): string {
  const target = dbTarget();
  if (storeKindOf(target) !== 'sqlite' || target === ':memory:') return target;
  const howToName = opts.create ? 'name a new file to create a store there.' : `set OPTLINE_DB to your store's SQLite file or postgres:// URL; \`optline serve\` creates a new store.`;
  if (!existsSync(target)) {
    if (opts.create) return target;
    throw new InputError(`No store at ${target}${process.env.OPTLINE_DB ? '' : ' (OPTLINE_DB is not set)'}: ${howToName}`);
  }
  if (opts.create && statSync(target).size === 0) return target;
  const problem = whyNotAnOptlineStore(target, { emptyDatabaseIsNew: opts.create });
  if (problem) throw new InputError(`${target} (OPTLINE_DB) is not an Optline store: ${problem}. It was left unchanged; ${howToName}`);
  return target;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether this process may write a SQLite store file and, for its journal, its directory. */
function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    accessSync(dirname(resolve(path)), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A SQLite store this user may not write, opened to be read: from a copy in a temporary directory
 * (with its journal) – SQLite reads a WAL-mode file only where it may make its shared-memory file
 * beside it – brought up to this version's schema there (a backup from an older version), the
 * original untouched. The copy holds personal data: it is removed when the store is closed, and
 * at exit or on Ctrl-C before that.
 */
async function openReadOnlyStore(path: string): Promise<{ store: Store; done: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'optline-readonly-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    process.exit(128 + osConstants.signals[signal]);
  };
  process.on('exit', remove);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const done = async () => {
    remove();
    process.removeListener('exit', remove);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  try {
    const copy = join(dir, 'store.db');
    copyStable(path, copy);
    // Where the original could not be opened in place, whether it is a store at all is told here:
    // opened as one, another program's database would be migrated into an empty, "intact" store.
    const problem = whyNotAnOptlineStore(copy);
    if (problem) throw new InputError(`${path} (OPTLINE_DB) is not an Optline store: ${problem}. It was left unchanged; set OPTLINE_DB to your store's SQLite file or postgres:// URL.`);
    const store = await Store.open(copy);
    return {
      store,
      done: async () => {
        await store.close();
        await done();
      },
    };
  } catch (err) {
    await done();
    throw err instanceof InputError ? err : new StoreOpenError(err);
  }
}

/**
 * Copies a SQLite file and its WAL as they stand together: a store another process writes may move
 * on between the two copies (a torn copy would read as tampered or damaged), so the copy is made
 * again until neither file changed meanwhile.
 */
function copyStable(path: string, copy: string): void {
  const state = () => [path, `${path}-wal`].map((f) => (existsSync(f) ? `${statSync(f).size}:${statSync(f).mtimeMs}` : '-')).join('|');
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = state();
    copyFileSync(path, copy);
    rmSync(`${copy}-wal`, { force: true });
    if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
    // The copy is this process's to write (a read-only backup's mode comes along with copyFileSync).
    for (const f of [copy, `${copy}-wal`]) if (existsSync(f)) chmodSync(f, 0o600);
    if (state() === before) return;
  }
  throw new InputError(`${path} kept changing while it was copied to be read: check a backup at rest, or run verify as a user who may write the store.`);
}

/** A small file the user named (a checkpoint): its text, or an InputError saying why not. */
function readInputFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${fileProblem(err)}`);
  }
  // Editors on Windows save UTF-8 with a byte order mark, which JSON.parse does not take.
  return text.replace(/^\uFEFF/, '');
}

async function openApp(opts: { create?: boolean; busyTimeoutMs?: number } = {}): Promise<Optline> {
  const store = await openStore(existingStore({ create: opts.create }), { busyTimeoutMs: opts.busyTimeoutMs });
  return Optline.open(store);
}

/** A setting of `serve`: unset or empty gives the default; a wrong value stops the start rather than running the server wrongly. */
function numberSetting(name: string, fallback: number, isValid: (n: number) => boolean, takes: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!isValid(n)) throw new InputError(`${name} must be ${takes}, not "${raw}"`);
  return n;
}

/**
 * The server's other numeric settings, read where they are used: checked at start, so that a typo
 * stops it rather than quietly meaning something else (OPTLINE_RATE_LIMIT=abc turned rate
 * limiting off; OPTLINE_SCRUBS_AT_ONCE=0 was taken as 2).
 */
function checkServerSettings(): void {
  const whole = (min: number) => (n: number) => Number.isInteger(n) && n >= min;
  const positive = (n: number) => n > 0;
  numberSetting('OPTLINE_RATE_LIMIT', 0, whole(0), 'a whole number of requests a minute, or 0 (no limit)');
  numberSetting('OPTLINE_RATE_LIMIT_PUBLIC', 0, whole(1), 'a whole number of requests a minute, at least 1');
  numberSetting('OPTLINE_AUTH_FAILURES_PER_MINUTE', 0, whole(0), 'a whole number of failed credentials a minute, or 0 (no limit)');
  numberSetting('OPTLINE_REGISTER_TABLE_MAX', 0, whole(0), 'a whole number of numbers');
  numberSetting('OPTLINE_SCRUB_KEEP_HOURS', 0, positive, 'a number of hours greater than 0');
  numberSetting('OPTLINE_SCRUB_MAX_BYTES', 0, whole(1), 'a whole number of bytes (4 GiB: 4294967296)');
  numberSetting('OPTLINE_IMPORT_MAX_BYTES', 0, whole(1), 'a whole number of bytes (4 MiB: 4194304)');
  numberSetting('OPTLINE_SCRUBS_AT_ONCE', 0, whole(1), 'a whole number of scrubs, at least 1');
  numberSetting('OPTLINE_SCRUB_UPLOADS_PER_KEY', 0, whole(1), 'a whole number of lists, at least 1');
  numberSetting('OPTLINE_SCRUB_IDLE_SECONDS', 0, positive, 'a number of seconds greater than 0');
  numberSetting('OPTLINE_SCRUB_WORKERS', 0, whole(0), 'a whole number of threads, or 0 (none)');
}

/**
 * For the commands that repair or keep the store – importing registers, erasure, retention,
 * proofs, audits: a register copy that cannot be loaded must not stop them (importing it again is
 * the repair), so it is left out with a warning. Deciding and scrubbing still refuse to start.
 */
async function openAppForUpkeep(): Promise<Optline> {
  const store = await openStore(existingStore());
  return Optline.open(store, Date.now, {
    onUnloadableRegister: (id, err) => console.error(`optline: warning: register ${id} is left out: ${err.message}`),
  });
}

// `optline … | head`: the reader went away, and what is left to print is wanted by nobody. The
// command still ends with its own exit code (3: not allowed, 4: history altered).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

const program = new Command();
program.name('optline').description('Consent registry and call-permission engine').version(packageJson.version);

program
  .command('serve')
  .description('serve the HTTP API, /docs and the agent page (PORT, HOST, OPTLINE_DB, OPTLINE_ADMIN_TOKEN, OPTLINE_DEMO)')
  .action(async () => {
    const port = numberSetting('PORT', 3000, (n) => Number.isInteger(n) && n <= 65_535, 'a whole number from 0 to 65535 (0: any free port)');
    // Polling a register's state costs a query: more often than a second would keep a core busy.
    const syncSeconds = numberSetting('OPTLINE_REGISTER_SYNC_SECONDS', 30, (n) => n === 0 || (n >= 1 && n <= 86_400), 'a number of seconds from 1 to 86400, or 0 (no sync)');
    checkServerSettings();
    const host = process.env.HOST ?? '127.0.0.1';
    // The server's modules load only for `serve`: the other commands start faster without them.
    const [{ buildServer }, { prepare, isLoopbackHost: isLoopback, deploymentWarnings }] = await Promise.all([import('../api/server.js'), import('../service/bootstrap.js')]);
    // A server waits for another process's write lock without blocking its requests (withRetry).
    const app = await openApp({ create: true, busyTimeoutMs: SERVER_BUSY_TIMEOUT_MS });
    // A new store gets its demo data and keys in several steps: a Ctrl-C meanwhile waits for them,
    // so the store is not left with demo data and no key to sign in with.
    let stopAsked: NodeJS.Signals | null = null;
    const waitForStore = (signal: NodeJS.Signals) => {
      if (!stopAsked) console.error('optline: stopping once the store is ready');
      stopAsked ??= signal;
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, waitForStore);
    const { seeded, demoTokens, warning } = await prepare(app, process.env).finally(() => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeListener(signal, waitForStore);
    });
    if (stopAsked) {
      await app.store.close();
      process.exit(128 + osConstants.signals[stopAsked]);
    }
    const server = await buildServer(app, { logger: true });
    // Other servers on the same store may import register copies: pick them up.
    if (syncSeconds > 0) app.startRegisterSync(syncSeconds * 1000);
    try {
      await server.listen({ port, host });
    } catch (err) {
      throw new ListenError(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`, err);
    }
    const base = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
    console.log(`\nOptline is serving ${app.store.kind} store ${app.store.location}`);
    console.log(`  API docs:   ${base}/docs`);
    console.log(`  OpenAPI:    ${base}/v1/openapi.json (with a token; without one at ${base}/docs/json)`);
    console.log(`  Agent page: ${base}/   Dashboard: ${base}/dashboard`);
    if (demoTokens) {
      console.log(`  ${seeded ? 'Demo data seeded' : 'Demo data'}. Tokens: admin "${demoTokens.admin}", agent "${demoTokens.agent}", supervisor "${demoTokens.supervisor}"`);
      if (seeded && !isLoopback(host)) console.log('  (random tokens: this server can be reached from other machines; they are shown only now)');
    }
    for (const w of [warning, ...deploymentWarnings(app.store.kind, process.env)]) if (w) console.error(`optline: warning: ${w}`);
    const stop = async (signal: string) => {
      server.log.info({ signal }, 'shutting down: finishing requests in flight');
      await server.close();
      await app.store.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('decide')
  .description('may this entity call this number? prints the decision with its reasons')
  .requiredOption('--phone <number>', 'E.164 or national format of the entity\'s country')
  .requiredOption('--entity <id>', 'the calling legal entity')
  .option('--at <time>', 'moment of the call (RFC 3339); default now', parseInstant)
  .option('--product <category>', 'product category the call offers')
  .option('--subscriber <type>', `subscriber type: ${SUBSCRIBER_TYPES.join(', ')}`, 'consumer')
  .option('--service', 'a service call that promotes nothing (NL-11)')
  .option('--autodialed', 'the call is placed by an autodialer (US-6)')
  .option('--prerecorded', 'the call plays a recorded message (US-6, GB)')
  .option('--line-type <type>', 'mobile or fixed (default: from the number)')
  .option('--time-zone <zone>', 'the called person\'s IANA time zone, if known (calling hours)')
  .option('--json', 'print the decision as JSON')
  .action(async (o: { phone: string; entity: string; at?: number; product?: string; subscriber: string; service?: boolean; autodialed?: boolean; prerecorded?: boolean; lineType?: string; timeZone?: string; json?: boolean }) => {
    if (!(SUBSCRIBER_TYPES as readonly string[]).includes(o.subscriber)) throw new InputError(`--subscriber must be one of ${SUBSCRIBER_TYPES.join(', ')}`);
    if (o.lineType !== undefined && o.lineType !== 'mobile' && o.lineType !== 'fixed') throw new InputError('--line-type must be mobile or fixed');
    // As over HTTP (IanaZone): an unknown zone is refused, not quietly left out of the calling hours.
    if (o.timeZone !== undefined && !IanaZone.safeParse(o.timeZone).success) throw new InputError(`--time-zone "${o.timeZone}" is not an IANA time zone such as Europe/Amsterdam`);
    const app = await openApp();
    try {
      const d = await app.decide({
        phone: o.phone,
        entityId: o.entity,
        at: o.at,
        productCategory: o.product,
        subscriberType: o.subscriber as (typeof SUBSCRIBER_TYPES)[number],
        purpose: o.service ? 'service' : 'marketing',
        autodialed: o.autodialed,
        prerecorded: o.prerecorded,
        lineType: o.lineType as 'mobile' | 'fixed' | undefined,
        timeZone: o.timeZone,
      });
      if (o.json) {
        console.log(JSON.stringify(d, null, 2));
      } else {
        console.log(`${d.allowed ? 'ALLOWED' : 'NOT ALLOWED'}  ${d.phone ?? o.phone} by ${d.entityId} at ${d.at}`);
        console.log(d.allowed ? `basis: ${d.basis}` : `denials: ${d.denials.join(', ')}`);
        console.log(`jurisdiction: ${d.jurisdiction ?? '-'}   rules: ${d.rulesVersion}   decision: ${d.decisionId}`);
        for (const r of d.reasons) console.log(`  ${r.passed ? '✓' : '✗'} [${r.rule}] ${r.detail}`);
        if (d.obligations.length) console.log(`obligations: ${d.obligations.join(', ')}`);
      }
      process.exitCode = d.allowed ? 0 : 3;
    } finally {
      await app.close();
      await app.store.close();
    }
  });

const keys = program.command('keys').description('API keys');
keys
  .command('create')
  .description('create an API key and print its token (shown once)')
  .requiredOption('--role <role>', ROLES.join(', '))
  .option('--entity <id...>', "legal entities the key may act for ('*' for all, admin only)", ['*'])
  .option('--label <text>', 'what the key is for')
  .action(async (o: { role: string; entity: string[]; label?: string }) => {
    if (!(ROLES as readonly string[]).includes(o.role)) throw new InputError(`--role must be one of ${ROLES.join(', ')}`);
    if (o.entity.includes('*') && o.role !== 'admin') throw new InputError("only admin keys may cover every entity: name the entities with --entity");
    // '*' already covers every entity: beside names it would be listed as if it were one.
    if (o.entity.includes('*') && o.entity.length > 1) throw new InputError("--entity '*' covers every entity: give it alone, or name the entities without it");
    const app = await openApp();
    try {
      for (const id of o.entity) if (id !== '*') await app.requireEntity(id, '--entity');
      const { key, token } = await app.store.createKey({ role: o.role as Role, entityIds: o.entity, label: o.label }, Date.now());
      console.log(token);
      console.error(`created ${key.role} key ${key.id} for ${key.entityIds.join(', ')}`);
    } finally {
      await app.store.close();
    }
  });
keys
  .command('list')
  .description('the API keys in force (never their tokens): id, role, entities, label, expiry')
  .option('--all', 'also revoked and expired keys')
  .action(async (o: { all?: boolean }) => {
    const store = await openStore(existingStore());
    try {
      const now = Date.now();
      for (const k of await store.listKeys()) {
        const expired = k.expiresAt != null && Date.parse(k.expiresAt) <= now;
        if (!o.all && (k.revokedAt || expired)) continue;
        const state = k.revokedAt ? `revoked ${k.revokedAt}` : expired ? `expired ${k.expiresAt}` : k.expiresAt ? `until ${k.expiresAt}` : '';
        console.log([k.id, k.role.padEnd(11), k.entityIds.join(','), k.label ?? '', state].join('  ').trimEnd());
      }
    } finally {
      await store.close();
    }
  });
keys
  .command('revoke')
  .description('revoke an API key: its token and browser sessions stop working (other servers within seconds)')
  .argument('<id>', 'the key id (optline keys list)')
  .action(async (id: string) => {
    const store = await openStore(existingStore());
    try {
      if (!(await store.revokeKey(id, Date.now()))) throw new InputError(`No key "${id}" in force (optline keys list).`);
      console.log(`revoked key ${id}`);
    } finally {
      await store.close();
    }
  });

program
  .command('verify')
  .description('recompute the tamper-evident history and name the first event changed, removed or reordered')
  .option('--entity <id>', 'only this entity\'s chain')
  .option('--json', 'print the result as JSON (with the chains\' heads: keep it outside the database as a checkpoint)')
  .option('--checkpoint <file>', 'also check that the history up to an earlier `verify --json` was not rewritten')
  .action(async (o: { entity?: string; json?: boolean; checkpoint?: string }) => {
    // Read before the store is opened: a wrong file is the user's mistake, said before any work.
    const checkpoint = o.checkpoint === undefined ? undefined : readCheckpoint(readInputFile(o.checkpoint), o.checkpoint);
    // An empty checkpoint would pass whatever was done to the history.
    if (checkpoint?.length === 0) throw new InputError(`${o.checkpoint} holds no chain heads: nothing to compare the history with; give the output of \`optline verify --json\` for a store with events`);
    const target = existingStore();
    // A backup, or a store this user may only read: checked as it is, nothing written to it.
    const readOnly = storeKindOf(target) === 'sqlite' && target !== ':memory:' && !writable(target) ? await openReadOnlyStore(target) : null;
    const store = readOnly?.store ?? (await openStore(target));
    try {
      if (o.entity && !(await store.getEntity(o.entity))) throw new InputError(`Unknown entity "${o.entity}" (--entity).`);
      const r = await store.verifyHistory(o.entity, checkpoint);
      // Another entity's checkpoint: none of its chains was compared, so it vouches for nothing.
      const uncompared = checkpoint !== undefined && r.checkpointChains === 0;
      const uncomparedWhy = `${o.checkpoint} has no chain of entity ${o.entity} (its chains: ${checkpoint?.slice(0, 5).map((h) => h.chain).join(', ')}${(checkpoint?.length ?? 0) > 5 ? ', …' : ''}): nothing was compared with it`;
      const compared = checkpoint ? `; the history up to the checkpoint (${r.checkpointChains} chain${r.checkpointChains === 1 ? '' : 's'}) was not rewritten` : '';
      if (o.json) {
        console.log(JSON.stringify({ ...r, verifiedAt: new Date().toISOString() }, null, 2));
        if (uncompared) console.error(`optline: ${uncomparedWhy}`);
      } else if (!r.ok) {
        console.log(`HISTORY ALTERED: ${r.problems.length} chain(s) broken (${r.events} events in ${r.chains} chains checked)`);
        for (const p of r.problems) console.log(`  chain ${p.chain}, position ${p.seq}: ${p.problem} at event ${p.eventId ?? '(end of chain)'} – ${p.detail}`);
      } else if (uncompared) {
        console.log(`CHECKPOINT NOT COMPARED: ${uncomparedWhy}; the ${r.events} events in ${r.chains} chain${r.chains === 1 ? '' : 's'} are intact`);
      } else {
        console.log(`history intact: ${r.events} events in ${r.chains} chain${r.chains === 1 ? '' : 's'} verified${compared}`);
      }
      process.exitCode = r.ok && !uncompared ? 0 : 4;
    } finally {
      if (readOnly) await readOnly.done();
      else await store.close();
    }
  });

program
  .command('demo')
  .description('list the demo numbers, what each shows, and the command that asks it')
  .action(async () => {
    const { DEMO_NUMBERS, demoCommand } = await import('../demo/seed.js');
    // Each row with the command that asks its question: product, subscriber and moment matter.
    for (const n of DEMO_NUMBERS) console.log(`${n.phone.padEnd(14)} ${n.entityId.padEnd(14)} ${n.expect}\n  ${demoCommand(n)}`);
  });

registerTrustCommands(program, openAppForUpkeep);

program.addCommand(scrubCommand(() => openApp(), existingStore));
program.addCommand(registersCommand(openAppForUpkeep));
program.addCommand(importCommand(openAppForUpkeep));

// A mistake in the command line itself (an unknown option, a missing or unreadable value) is bad
// input too: commander has said what it is, with a pointer to the options rather than all of them.
const everyCommand = (c: Command): Command[] => [c, ...c.commands.flatMap(everyCommand)];
const commandLine = (c: Command): string => (c.parent ? `${commandLine(c.parent)} ${c.name()}` : c.name());
for (const c of everyCommand(program)) c.exitOverride().showHelpAfterError(`(${commandLine(c)} --help lists the options)`);

/**
 * What to do about a mistake, where the command line can say more than the message the API gives:
 * the entities of the store (the API must not list other clients' ids), the flag that gives a
 * national number its country.
 */
async function howToFix(err: Error): Promise<string> {
  if (/no country was given to read a national number in$/.test(err.message)) return '. Write it with its country code (+31…), or name the entity with --entity.';
  if (!/^Unknown entity "/.test(err.message)) return '';
  try {
    const store = await Store.open(existingStore());
    try {
      const ids = (await store.listEntities()).map((e) => e.id);
      return ids.length ? ` Entities in this store: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? `, … (${ids.length})` : ''}.` : ' This store has no entities yet.';
    } finally {
      await store.close();
    }
  } catch {
    return '';
  }
}

program.parseAsync(process.argv).catch(async (err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  // Bad input (a file, an entity, a number, a date): exit 2, as the README says.
  if (err instanceof InputError || err instanceof NotFoundError || err instanceof InvalidPhoneNumberError) {
    console.error(`optline: ${err.message}${await howToFix(err)}`);
    process.exit(2);
  }
  const message = (err as Error).message ?? String(err);
  // The store could not be opened or migrated: name where it was looked for.
  if (err instanceof StoreOpenError) {
    console.error(`optline: cannot open the store ${storeName()} (OPTLINE_DB): ${message}`);
    process.exit(1);
  }
  if (err instanceof ListenError) {
    console.error(`optline: cannot listen on ${err.address} (HOST, PORT): ${message}`);
    process.exit(1);
  }
  // The store failed once open (a lost connection, a damaged file): name it too.
  const cause = err instanceof StoreUnavailableError ? err.cause : err;
  const code = String((cause as { code?: unknown } | undefined)?.code ?? '');
  if (/^(SQLITE_\w+|ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|28P01|28000|3D000|57P0[1-3])$/.test(code)) {
    console.error(`optline: the store ${storeName()} (OPTLINE_DB) failed: ${(cause as Error).message}`);
    process.exit(1);
  }
  console.error(`optline: ${message}`);
  process.exit(1);
});
