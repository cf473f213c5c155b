/**
 * Load and crash test over HTTP: `npm run bench:load [-- --seconds 60 --clients 16 --crash]`.
 *
 * Many concurrent clients record consents and objections and ask decisions against a real server
 * process (`optline serve`) for a while, on SQLite and – when PostgreSQL's binaries are present –
 * on a throwaway PostgreSQL cluster. Every write carries an Idempotency-Key and is retried with
 * the same key until acknowledged. With --crash the server is killed with SIGKILL every few
 * seconds and restarted. Afterwards the store is read directly: every acknowledged write must be
 * there, and no write may be there twice. Reports throughput and p50/p99 per store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { startCluster, type Cluster } from '../test/helpers/postgres.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.LOAD_SECONDS ?? '60' },
    clients: { type: 'string', default: '16' },
    crash: { type: 'boolean', default: false },
    outage: { type: 'boolean', default: false },
    store: { type: 'string', default: 'both' },
  },
});
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const TOKEN = 'load-admin-token';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

class Server {
  child: ChildProcess | null = null;
  constructor(
    readonly db: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      env: { ...process.env, OPTLINE_DB: this.db, PORT: String(this.port), OPTLINE_ADMIN_TOKEN: TOKEN, OPTLINE_DEMO: '0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; i < 300; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${this.port}/healthz`);
        if (r.ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('server did not start');
  }

  kill(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    const c = this.child;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
    this.child = null;
  }
}

interface Ack {
  id: string;
  kind: 'consent' | 'objection';
  phone: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(storeName: string, db: string, cluster?: Cluster) {
  const port = await freePort();
  const server = new Server(db, port);
  await server.start();
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  await fetch(`${base}/v1/entities/load`, { method: 'PUT', headers, body: JSON.stringify({ name: 'Load Test B.V.', kind: 'company', country: 'NL' }) });

  const acks: Ack[] = [];
  const latencies: number[] = [];
  let decisions = 0;
  let unavailable = 0;
  let allowedWrongly = 0;
  const deadline = Date.now() + SECONDS * 1000;
  let crashes = 0;

  /** Sends until answered; a write keeps its Idempotency-Key across retries. */
  async function send(path: string, body: unknown, idem?: string): Promise<Response> {
    for (;;) {
      const t0 = performance.now();
      try {
        const r = await fetch(`${base}${path}`, { method: 'POST', headers: idem ? { ...headers, 'idempotency-key': idem } : headers, body: JSON.stringify(body) });
        if (r.status === 503) {
          unavailable++;
          await r.arrayBuffer();
          await new Promise((res) => setTimeout(res, 50));
          continue;
        }
        latencies.push(performance.now() - t0);
        return r;
      } catch {
        await new Promise((res) => setTimeout(res, 50)); // server down: retry
      }
    }
  }

  async function client(c: number) {
    for (let i = 0; Date.now() < deadline; i++) {
      const phone = `+3161${String(c * 100000 + i).padStart(7, '0')}`;
      const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
      const kind = i % 3 === 2 ? 'objection' : 'consent';
      const body =
        kind === 'consent'
          ? { entityId: 'load', channel: 'phone', status: 'granted', at, phone, source: { method: 'agent_call', recordingRef: `rec-${c}-${i}` } }
          : { entityId: 'load', phone, at };
      const r = await send(kind === 'consent' ? '/v1/consents' : '/v1/objections', body, `load-${storeName}-${c}-${i}`);
      if (r.status !== 201) throw new Error(`write answered ${r.status}: ${await r.text()}`);
      acks.push({ id: ((await r.json()) as { id: string }).id, kind, phone });
      const d = await send('/v1/decisions', { phone, entityId: 'load', at: '2026-06-01T00:00:00Z' });
      const decision = (await d.json()) as { allowed: boolean };
      decisions++;
      // A number whose last word was an objection must never be allowed.
      if (kind === 'objection' && decision.allowed) allowedWrongly++;
    }
  }

  const started = Date.now();
  const killer = args.crash
    ? (async () => {
        while (Date.now() < deadline - 3000) {
          await new Promise((r) => setTimeout(r, 3000 + Math.random() * 3000));
          server.kill();
          crashes++;
          await server.start();
        }
      })()
    : Promise.resolve();
  // Store outage: PostgreSQL stopped mid-load for 5 s; the server must answer 503 (never an
  // allow), and heal by itself when the database is back.
  let outageAllowed = 0;
  const outage =
    args.outage && cluster
      ? (async () => {
          await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 3));
          cluster.pause();
          const until = Date.now() + 5000;
          while (Date.now() < until) {
            try {
              const r = await fetch(`${base}/v1/decisions`, { method: 'POST', headers, body: JSON.stringify({ phone: '+31612345678', entityId: 'load' }) });
              if (r.status === 200 && ((await r.json()) as { allowed: boolean }).allowed) outageAllowed++;
              else if (r.status === 503) unavailable++;
            } catch {
              /* connection refused counts as unavailable too */
            }
            await new Promise((r) => setTimeout(r, 20));
          }
          cluster.resume();
        })()
      : Promise.resolve();
  await Promise.all([...Array.from({ length: CLIENTS }, (_, c) => client(c)), killer, outage]);
  const elapsed = (Date.now() - started) / 1000;
  await server.stop();

  // A register import killed midway leaves the copy in force (crash mode).
  const registerKept = args.crash ? await killedImportKeepsCopy(db, base) : null;

  // Every acknowledged write is there, and none twice; the history still verifies.
  const store = await Store.open(db);
  const rows = await store.db.selectFrom('events').select(['id', 'type', 'phone', 'at']).where('entity_id', '=', 'load').execute();
  const verified = await store.verifyHistory();
  await store.close();
  const ids = new Set(rows.map((r) => r.id));
  const missing = acks.filter((a) => !ids.has(a.id)).length;
  const seen = new Set<string>();
  let duplicates = 0;
  for (const r of rows) {
    const k = `${r.type}|${r.phone}|${r.at}`;
    if (seen.has(k)) duplicates++;
    seen.add(k);
  }
  latencies.sort((a, b) => a - b);
  return {
    store: storeName,
    seconds: elapsed.toFixed(0),
    requests: latencies.length,
    rps: Math.round(latencies.length / elapsed),
    p50: percentile(latencies, 50).toFixed(1),
    p99: percentile(latencies, 99).toFixed(1),
    acknowledged: acks.length,
    stored: rows.length,
    missing,
    duplicates,
    crashes,
    unavailable,
    allowedWrongly: allowedWrongly + outageAllowed,
    decisions,
    historyVerified: verified.ok,
    registerKept,
  };
}

/**
 * Imports a small US DNC copy, then starts `optline registers import` of a large copy and kills
 * it with SIGKILL midway: the small copy must still be the one in force, in the store and in a
 * restarted server's answers.
 */
async function killedImportKeepsCopy(db: string, _base: string): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'optline-load-reg-'));
  const small = join(dir, 'small.txt');
  const big = join(dir, 'big.txt');
  writeFileSync(small, '+12125550123,2025-01-01\n+12125550124,2025-01-01\n+12125550125,2025-01-01\n');
  const lines: string[] = [];
  for (let i = 0; i < 3_000_000; i++) lines.push(`+1${212 + (i % 700)}${String(2000000 + (i % 7999999)).padStart(7, '0')}`);
  writeFileSync(big, lines.join('\n'));
  const env = { ...process.env, OPTLINE_DB: db, OPTLINE_DEMO: '0' };
  const cli = (file: string) => spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'registers', 'import', 'us-dnc', file, '--country', 'US', '--as-of', '2026-11-20'], { env, stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => cli(small).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`small import exited ${code}`)))));
  let store = await Store.open(db);
  const before = (await store.listRegisters()).find((r) => r.id === 'us-dnc');
  await store.close();
  const killed = cli(big);
  await new Promise((r) => setTimeout(r, 2500));
  killed.kill('SIGKILL');
  await new Promise((r) => killed.once('exit', r));
  store = await Store.open(db);
  const after = (await store.listRegisters()).find((r) => r.id === 'us-dnc');
  await store.close();
  const app = await Optline.open(await Store.open(db)).catch(() => null);
  let listed = false;
  if (app) {
    await app.putEntity('load-us', { name: 'Load US Inc.', kind: 'company', country: 'US' });
    const d = await app.decide({ phone: '+12125550124', entityId: 'load-us', at: Date.parse('2026-11-25T15:00:00Z') });
    listed = d.denials.includes('register_listed');
    await app.close();
    await app.store.close();
  }
  rmSync(dir, { recursive: true, force: true });
  return !!before && before.count === 3 && after?.loadedAt === before.loadedAt && after.count === 3 && listed;
}

const results = [];
const dir = mkdtempSync(join(tmpdir(), 'optline-load-'));
if (args.store !== 'postgres') results.push(await run('sqlite', join(dir, 'load.db')));
if (args.store !== 'sqlite') {
  const cluster = await startCluster();
  if (!cluster) console.warn('PostgreSQL binaries not found: skipping the PostgreSQL run');
  else {
    const admin = new pg.Client({ connectionString: cluster.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE load');
    await admin.end();
    try {
      results.push(await run('postgres', cluster.url('load'), cluster));
    } finally {
      cluster.stop();
    }
  }
}
rmSync(dir, { recursive: true, force: true });

console.log(`\nLoad test: ${CLIENTS} clients, ${SECONDS}s per store${args.crash ? ', server SIGKILLed every 3-6 s' : ''}${args.outage ? ', PostgreSQL stopped for 5 s mid-run' : ''}`);
console.log('| store | req/s | p50 ms | p99 ms | writes acknowledged | stored | missing | duplicates | SIGKILLs | 503s | wrongly allowed | history verifies | killed import kept old copy |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
for (const r of results) {
  console.log(`| ${r.store} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.acknowledged} | ${r.stored} | ${r.missing} | ${r.duplicates} | ${r.crashes} | ${r.unavailable} | ${r.allowedWrongly} | ${r.historyVerified ? 'yes' : 'NO'} | ${r.registerKept === null ? '–' : r.registerKept ? 'yes' : 'NO'} |`);
}
const bad = results.some((r) => r.missing > 0 || r.duplicates > 0 || r.allowedWrongly > 0 || !r.historyVerified || r.registerKept === false);
if (bad) console.log('\nFAILED: an acknowledged write is missing, duplicated, or an objected number was allowed');
process.exit(bad ? 1 : 0);
