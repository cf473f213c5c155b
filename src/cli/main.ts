#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { Store, ROLES, type Role } from '../store/repository.js';
import { storeKindOf } from '../store/connect.js';
import { Optline } from '../service/optline.js';
import { fileProblem, InputError, NotFoundError } from '../service/errors.js';
import { SUBSCRIBER_TYPES } from '../law/types.js';
import { InvalidPhoneNumberError } from '../phone/index.js';
import { IanaZone } from '../api/schemas.js';
import { registerTrustCommands } from './commands/trust.js';
import { scrubCommand } from './commands/scrub.js';
import { parseInstant } from './instant.js';
import { readCheckpoint } from '../store/checkpoint.js';
import { registersCommand } from './commands/registers.js';

const dbTarget = (): string => process.env.OPTLINE_DB || './data/optline.db';
const SERVER_BUSY_TIMEOUT_MS = 50;

/**
 * The store every command but `serve` works on: it must exist. Opening a SQLite path creates the
 * file, so a mistyped OPTLINE_DB (or a command run from another directory) would otherwise answer
 * from a new, empty store – "history intact: 0 events", "Unknown entity".
 */
function existingStore(): string {
  const target = dbTarget();
  if (storeKindOf(target) === 'sqlite' && target !== ':memory:' && !existsSync(target)) {
    throw new InputError(`No store at ${target}${process.env.OPTLINE_DB ? '' : ' (OPTLINE_DB is not set)'}: set OPTLINE_DB to your store's SQLite file or postgres:// URL; \`optline serve\` creates a new store.`);
  }
  return target;
}

/** A small file the user named (a checkpoint): its text, or an InputError saying why not. */
function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${fileProblem(err)}`);
  }
}

async function openApp(opts: { create?: boolean; busyTimeoutMs?: number } = {}): Promise<Optline> {
  const store = await Store.open(opts.create ? dbTarget() : existingStore(), { busyTimeoutMs: opts.busyTimeoutMs });
  return Optline.open(store);
}

/**
 * For the commands that repair or keep the store – importing registers, erasure, retention,
 * proofs, audits: a register copy that cannot be loaded must not stop them (importing it again is
 * the repair), so it is left out with a warning. Deciding and scrubbing still refuse to start.
 */
async function openAppForUpkeep(): Promise<Optline> {
  const store = await Store.open(existingStore());
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
program.name('optline').description('Consent registry and call-permission engine');

program
  .command('serve')
  .description('serve the HTTP API, /docs and the agent page (PORT, HOST, OPTLINE_DB, OPTLINE_ADMIN_TOKEN, OPTLINE_DEMO)')
  .action(async () => {
    // The server's modules load only for `serve`: the other commands start faster without them.
    const [{ buildServer }, { prepare, isLoopbackHost: isLoopback }] = await Promise.all([import('../api/server.js'), import('../service/bootstrap.js')]);
    // A server waits for another process's write lock without blocking its requests (withRetry).
    const app = await openApp({ create: true, busyTimeoutMs: SERVER_BUSY_TIMEOUT_MS });
    const { seeded, demoTokens, warning } = await prepare(app, process.env);
    const server = await buildServer(app, { logger: true });
    // Other servers on the same store may import register copies: pick them up.
    app.startRegisterSync(Number(process.env.OPTLINE_REGISTER_SYNC_SECONDS ?? 30) * 1000);
    const port = Number(process.env.PORT ?? 3000);
    const host = process.env.HOST ?? '127.0.0.1';
    await server.listen({ port, host });
    const base = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
    console.log(`\nOptline is serving ${app.store.kind} store ${app.store.location}`);
    console.log(`  API docs:   ${base}/docs`);
    console.log(`  OpenAPI:    ${base}/v1/openapi.json (with a token; without one at ${base}/docs/json)`);
    console.log(`  Agent page: ${base}/   Dashboard: ${base}/dashboard`);
    if (demoTokens) {
      console.log(`  ${seeded ? 'Demo data seeded' : 'Demo data'}. Tokens: admin "${demoTokens.admin}", agent "${demoTokens.agent}", supervisor "${demoTokens.supervisor}"`);
      if (seeded && !isLoopback(host)) console.log('  (random tokens: this server can be reached from other machines; they are shown only now)');
    }
    if (warning) console.error(`optline: warning: ${warning}`);
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
    const store = await Store.open(existingStore());
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
    const store = await Store.open(existingStore());
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
    const store = await Store.open(existingStore());
    try {
      if (o.entity && !(await store.getEntity(o.entity))) throw new InputError(`Unknown entity "${o.entity}" (--entity).`);
      const r = await store.verifyHistory(o.entity, checkpoint);
      const compared = checkpoint ? `; the history up to the checkpoint (${r.checkpointChains} chain${r.checkpointChains === 1 ? '' : 's'}) was not rewritten` : '';
      if (o.json) console.log(JSON.stringify({ ...r, verifiedAt: new Date().toISOString() }, null, 2));
      else if (r.ok) console.log(`history intact: ${r.events} events in ${r.chains} chain${r.chains === 1 ? '' : 's'} verified${compared}`);
      else {
        console.log(`HISTORY ALTERED: ${r.problems.length} chain(s) broken (${r.events} events in ${r.chains} chains checked)`);
        for (const p of r.problems) console.log(`  chain ${p.chain}, position ${p.seq}: ${p.problem} at event ${p.eventId ?? '(end of chain)'} – ${p.detail}`);
      }
      process.exitCode = r.ok ? 0 : 4;
    } finally {
      await store.close();
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
  // The store could not be opened or reached: name where it was looked for.
  const code = String((err as { code?: unknown }).code ?? '');
  if (/^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|28P01|28000|3D000|SQLITE_CANTOPEN|SQLITE_NOTADB)$/.test(code)) {
    console.error(`optline: cannot open the store ${dbTarget().replace(/\/\/[^@/]*@/, '//***@')} (OPTLINE_DB): ${(err as Error).message}`);
    process.exit(1);
  }
  console.error(`optline: ${(err as Error).message ?? err}`);
  process.exit(1);
});
