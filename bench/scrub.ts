/**
 * Bulk scrub benchmark: `npm run bench:scrub`.
 *
 * Generates (seeded, deterministic) a call list, a national do-not-call register and a store
 * with consents and relationships, then measures in one run:
 *  - `optline scrub` end to end (a child process: start, register snapshot load, scrub, summary)
 *    on the list in E.164 and in national format: rows/s and peak memory (max RSS); and on a
 *    list of the caller's customers (the numbers of its events), where every row needs its history;
 *    and on the list against a copy of the store in which one person was erased (suppression list);
 *  - the same set difference with `LC_ALL=C sort` + `join -v` against the pre-sorted register;
 *  - an indexed SQLite join (NOT EXISTS against a primary-key register table, tables loaded
 *    beforehand), with the sqlite3 shell;
 *  - `optline registers import` of the register (text → index → snapshot) and the start-up load.
 *
 * Sizes (flags or environment):
 *   --rows N       BENCH_ROWS       list rows                 (default 10,000,000)
 *   --register N   BENCH_REGISTER   register numbers          (default 50,000,000)
 *   --events N     BENCH_EVENTS     consents + relationships  (default 1,000,000)
 *   --no-baselines BENCH_BASELINES=0  skip sort+join and SQLite (e.g. for the 100M memory run)
 *   --dir D        BENCH_DIR        where data goes (default a new directory under the OS temp dir)
 *   --keep         BENCH_KEEP=1     keep the generated data
 *   --reuse        BENCH_REUSE=1    use the data kept in --dir by an earlier run with the same sizes (implies --keep)
 *   --seed S       BENCH_SEED       PRNG seed (default 20261128)
 *   --repeat N     BENCH_REPEAT     runs of each scrub and of sort + join, median reported (default 1)
 * Quick run: npm run bench:scrub -- --rows 200000 --register 1000000 --events 20000
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store, type NewEvent } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { US_AREA_CODES } from '../src/phone/us-area-codes.js';
import type { EntityFact } from '../src/law/types.js';
import { prng } from '../test/helpers/prng.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const num = (v: string | undefined, d: number): number => (v === undefined || v === '' ? d : Number(v.replace(/_/g, '')));
const ROWS = num(flag('rows') ?? process.env.BENCH_ROWS, 10_000_000);
const REGISTER = num(flag('register') ?? process.env.BENCH_REGISTER, 50_000_000);
const EVENTS = num(flag('events') ?? process.env.BENCH_EVENTS, 1_000_000);
const BASELINES = !argv.includes('--no-baselines') && process.env.BENCH_BASELINES !== '0';
const KEEP = argv.includes('--keep') || process.env.BENCH_KEEP === '1' || argv.includes('--reuse');
const REUSE = argv.includes('--reuse') || process.env.BENCH_REUSE === '1';
const SEED = num(flag('seed') ?? process.env.BENCH_SEED, 20261128);
/** Runs of each scrub and of sort + join; the median is reported (this machine is shared and noisy). */
const REPEAT = Math.max(1, num(flag('repeat') ?? process.env.BENCH_REPEAT, 1));
const DIR = flag('dir') ?? process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'optline-bench-'));
mkdirSync(DIR, { recursive: true });

const rnd = prng(SEED);
const int = (n: number): number => Math.floor(rnd() * n);

const AREA = Object.keys(US_AREA_CODES).map(Number);
/** A US number as its E.164 digits (1 + area + exchange 200-999 + line). */
const usNumber = (): number => 1e10 + AREA[int(AREA.length)]! * 1e7 + (200 + int(800)) * 1e4 + int(10000);

const log = (...a: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

class Writer {
  private fd: number;
  private parts: string[] = [];
  private size = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  add(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size > 8 << 20) this.flush();
  }
  flush(): void {
    if (this.parts.length) writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

interface Timed {
  seconds: number;
  maxRssMb: number;
  stdout: string;
}

/** Runs a shell command under /usr/bin/time: wall seconds and the largest process's max RSS. */
function timed(cmd: string, env: NodeJS.ProcessEnv = {}): Timed {
  const timeFile = join(DIR, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', timeFile, 'bash', '-c', cmd], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 26, cwd: ROOT });
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd}\n${r.stderr}`);
  const [secs, kb] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return { seconds: secs!, maxRssMb: kb! / 1024, stdout: r.stdout };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * Reads files into the page cache before a step: this VM's host takes page cache back now and
 * then, and a step that found its input evicted would measure the disk instead of the work.
 */
function warm(...paths: string[]): void {
  const buf = Buffer.allocUnsafe(16 << 20);
  for (const p of paths) {
    if (!existsSync(p)) continue;
    for (const f of statSync(p).isDirectory() ? readdirSync(p).map((n) => join(p, n)) : [p]) {
      const fd = openSync(f, 'r');
      try {
        while (readSync(fd, buf, 0, buf.length, null) > 0);
      } finally {
        closeSync(fd);
      }
    }
  }
}

/** The run with the median time of `REPEAT` runs of a step (each with its inputs warmed first). */
function median(run: () => Timed): Timed {
  const runs = Array.from({ length: REPEAT }, run).sort((a, b) => a.seconds - b.seconds);
  return runs[(runs.length - 1) >> 1]!;
}

async function main(): Promise<void> {
  log(`data in ${DIR}: list ${fmt(ROWS)} rows, register ${fmt(REGISTER)} numbers, ${fmt(EVENTS)} consents and relationships, seed ${SEED}`);
  const t0 = Date.now();

  const regFile = join(DIR, 'us-dnc.sorted.txt');
  const listE164 = join(DIR, 'list-e164.csv');
  const listNational = join(DIR, 'list-national.csv');
  const dbPath = join(DIR, 'optline.db');
  // --reuse: the data of an earlier --keep run in --dir (same sizes and seed), not generated again.
  const reuse = REUSE && [regFile, listE164, listNational, dbPath].every((f) => existsSync(f));
  if (reuse) log('reusing the data in ' + DIR);
  else {
    // 1. The register: random US numbers, written sorted (E.164, one a line) – "the pre-sorted register".
    const reg = new Float64Array(REGISTER);
    for (let i = 0; i < REGISTER; i++) reg[i] = usNumber();
    reg.sort();
    {
      const w = new Writer(regFile);
      let prev = -1;
      let buf = '';
      for (let i = 0; i < REGISTER; i++) {
        const v = reg[i]!;
        if (v === prev) continue;
        prev = v;
        buf += '+' + v + '\n';
        if (buf.length > 1 << 20) {
          w.add(buf);
          buf = '';
        }
      }
      w.add(buf);
      w.close();
    }
    log(`register written (${mb(statSync(regFile).size)})`);

    // 2. The lists: 30 % of the rows are on the register, the rest random; 0.1 % unreadable.
    const FIRST = ['Ann', 'Bob', 'Carla', 'Dirk', 'Eva', 'Finn', 'Gina', 'Hugo', 'Ines', 'Jan'];
    const LAST = ['Smith', 'Jones', 'Garcia', 'Miller', 'Davis', 'Lopez', 'Wilson', 'Moore', 'Clark', 'Lewis'];
    const CITY = ['Springfield', 'Riverside', 'Franklin', 'Greenville', 'Bristol', 'Clinton', 'Fairview', 'Salem'];
    const listNums = new Float64Array(ROWS);
    for (let i = 0; i < ROWS; i++) listNums[i] = rnd() < 0.3 ? reg[int(REGISTER)]! : usNumber();
    {
      const we = new Writer(listE164);
      const wn = new Writer(listNational);
      we.add('id,first_name,last_name,phone,city\n');
      wn.add('id,first_name,last_name,phone,city\n');
      let be = '';
      let bn = '';
      for (let i = 0; i < ROWS; i++) {
        const pre = `${i + 1},${FIRST[int(FIRST.length)]},${LAST[int(LAST.length)]},`;
        const post = `,${CITY[int(CITY.length)]}\n`;
        if (rnd() < 0.001) {
          be += pre + 'n/a' + post;
          bn += pre + 'n/a' + post;
        } else {
          const digits = String(listNums[i]!);
          be += pre + '+' + digits + post;
          bn += pre + digits.slice(1) + post;
        }
        if (be.length > 1 << 20) {
          we.add(be);
          wn.add(bn);
          be = '';
          bn = '';
        }
      }
      we.add(be);
      wn.add(bn);
      we.close();
      wn.close();
    }
    log(`lists written (${mb(statSync(listE164).size)} each)`);

    // 3. The store: three US entities and the consents and relationships (half of them on list numbers).
    rmSync(dbPath, { force: true });
    rmSync(`${dbPath}.registers`, { recursive: true, force: true });
    {
      const store = await Store.open(dbPath);
      const app = await Optline.open(store);
      for (const [id, name] of [['bench-us', 'Bench Energy Inc'], ['bench-us-2', 'Bench Solar LLC'], ['bench-us-3', 'Bench Media Co']]) {
        await app.putEntity(id!, { name: name!, kind: 'company', country: 'US' });
      }
      const DAY = 86_400_000;
      const base = Date.parse('2024-01-01T00:00:00Z');
      let batch: NewEvent[] = [];
      for (let i = 0; i < EVENTS; i++) {
        const n = rnd() < 0.5 ? listNums[int(ROWS)]! : usNumber();
        const phone = '+' + n;
        const entityId = rnd() < 0.6 ? 'bench-us' : rnd() < 0.5 ? 'bench-us-2' : 'bench-us-3';
        const at = base + int(900) * DAY;
        const fact: EntityFact =
          i % 5 < 3
            ? { type: 'consent', id: '', entityId, at, channel: 'phone', status: rnd() < 0.9 ? 'granted' : 'withdrawn', products: [], expiresAt: null, source: { method: 'web_form', wording: 'You may call me about offers.', verifiedAt: at } }
            : { type: 'relationship', id: '', entityId, at, kind: 'purchase', productCategory: 'energy', startedAt: at, endedAt: rnd() < 0.3 ? at + 200 * DAY : null, informedAtCollection: true, optOutOfferedAtCollection: true };
        batch.push({ fact, phone });
        if (batch.length === 5000) {
          await store.appendEvents(batch, Date.now());
          batch = [];
        }
      }
      if (batch.length) await store.appendEvents(batch, Date.now());
      await app.close();
      await store.close();
    }
    log(`store written (${mb(statSync(dbPath).size)})`);
  }
  const genSeconds = (Date.now() - t0) / 1000;
  // The generator leaves gigabytes of dirty pages; written back while a step runs they would be
  // measured as part of it. Each step starts with nothing left to write.
  const settle = () => spawnSync('sync');
  settle();

  // The command as installed: bin/optline.js runs the bundle in dist/ (built here first, so the
  // build is not timed).
  spawnSync(process.execPath, [join(ROOT, 'scripts/build-cli.mjs')], { stdio: 'inherit' });
  const optline = `node ${join(ROOT, 'bin/optline.js')}`;
  const env = { OPTLINE_DB: dbPath };
  const results: Array<{ what: string; seconds: number; rows: number; rss: number; note: string }> = [];

  // 4. Register import and start-up load.
  warm(regFile, dbPath);
  const imp = timed(`${optline} registers import us-dnc ${regFile} --country US --as-of 2026-11-01 --show-rejected 3`, env);
  log(imp.stdout.trim());
  const count = Number(/: ([\d,]+) numbers/.exec(imp.stdout)?.[1]?.replace(/,/g, '') ?? REGISTER);
  settle();
  results.push({ what: '`optline registers import` (text → index → snapshot)', seconds: imp.seconds, rows: REGISTER, rss: imp.maxRssMb, note: `${fmt(count)} numbers kept` });
  const list = timed(`${optline} registers list`, env);
  results.push({ what: 'start-up: load the register snapshot (`optline registers list`)', seconds: list.seconds, rows: count, rss: list.maxRssMb, note: 'process start included' });

  // 5. optline scrub, E.164 and national format.
  const at = '2026-11-30T14:00:00-05:00';
  /** One scrub step: `optline scrub` of a list against a store, median of REPEAT runs, inputs warmed. */
  const scrubStep = (o: { label: string; what: string; note: string; list: string; rows: number; db: string; out: string; args?: string }) => {
    const r = median(() => {
      warm(o.list, o.db, `${o.db}-wal`, `${o.db}.registers`);
      const t = timed(`${optline} scrub --entity bench-us --in ${o.list} --out ${o.out} --at ${at}${o.args ?? ''}`, { OPTLINE_DB: o.db });
      rmSync(o.out, { force: true });
      settle();
      return t;
    });
    log(`scrub ${o.label}: ${r.seconds}s, ${fmt(o.rows / r.seconds)} rows/s, max RSS ${r.maxRssMb.toFixed(0)} MB`);
    results.push({ what: o.what, seconds: r.seconds, rows: o.rows, rss: r.maxRssMb, note: `${o.note}${REPEAT > 1 ? `; median of ${REPEAT}` : ''}` });
  };
  const summaries: Record<string, unknown> = {};
  for (const [label, file] of [['E.164', listE164], ['national format', listNational]] as const) {
    const out = join(DIR, `scrubbed-${label === 'E.164' ? 'e164' : 'national'}.csv`);
    const sum = join(DIR, `summary-${label === 'E.164' ? 'e164' : 'national'}.json`);
    scrubStep({ label, what: `**optline scrub**, list in ${label}`, note: "all rules, the caller's facts, CSV out", list: file, rows: ROWS, db: dbPath, out, args: ` --summary ${sum} --rejects ${out}.rejects.csv` });
    summaries[label] = JSON.parse(readFileSync(sum, 'utf8'));
  }

  // 5b. A list of the caller's own customers (its events' numbers): every row takes the full path,
  // a history and an engine call – the cost the main list's 2.7 % of such rows hides.
  const listCustomers = join(DIR, 'list-customers.csv');
  spawnSync('bash', ['-c', `(echo id,phone; sqlite3 -csv ${dbPath} "SELECT rowid, phone FROM events WHERE entity_id = 'bench-us' AND phone IS NOT NULL ORDER BY id") > ${listCustomers}`]);
  const customerRows = Number(spawnSync('bash', ['-c', `tail -n +2 ${listCustomers} | wc -l`], { encoding: 'utf8' }).stdout.trim());
  scrubStep({
    label: 'customers',
    what: "**optline scrub**, list of the caller's customers",
    note: `${fmt(customerRows)} rows, each with the caller's facts (history + engine call)`,
    list: listCustomers,
    rows: customerRows,
    db: dbPath,
    out: join(DIR, 'scrubbed-customers.csv'),
  });
  rmSync(listCustomers, { force: true });

  // 5c. The E.164 list against a copy of the store in which one person was erased: every row is then
  // checked against the suppression list (by its tag, src/scrub/suppression-filter.ts).
  {
    const erasedDb = join(DIR, 'erased.db');
    const cleanup = () => {
      for (const f of [erasedDb, `${erasedDb}-wal`, `${erasedDb}-shm`, `${erasedDb}.registers`]) rmSync(f, { recursive: true, force: true });
    };
    cleanup();
    spawnSync('bash', ['-c', `sqlite3 ${dbPath} ".backup ${erasedDb}" && cp -r ${dbPath}.registers ${erasedDb}.registers`]);
    const phone = spawnSync('sqlite3', [erasedDb, "SELECT phone FROM events WHERE entity_id = 'bench-us' AND phone IS NOT NULL LIMIT 1"], { encoding: 'utf8' }).stdout.trim();
    const erase = spawnSync('bash', ['-c', `${optline} erase --phone '${phone}' --reference bench`], { env: { ...process.env, OPTLINE_DB: erasedDb }, encoding: 'utf8' });
    if (erase.status !== 0) throw new Error(`erase failed: ${erase.stderr}`);
    scrubStep({
      label: 'E.164, one person erased',
      what: '**optline scrub**, list in E.164, a store with one erased person',
      note: 'every row checked against the suppression list',
      list: listE164,
      rows: ROWS,
      db: erasedDb,
      out: join(DIR, 'scrubbed-erased.csv'),
    });
    cleanup();
  }

  if (BASELINES) {
    // 6. sort + join: rows of the E.164 list whose number is not on the register.
    let sjRows = 0;
    const sj = median(() => {
      warm(listE164, regFile);
      const t = timed(
        `tail -n +2 ${listE164} | LC_ALL=C sort -t, -k4,4 -S 40% --parallel=2 -T ${DIR} | LC_ALL=C join -t, -1 4 -2 1 -v 1 - ${regFile} > ${join(DIR, 'sortjoin.csv')}`,
      );
      sjRows = Number(spawnSync('bash', ['-c', `wc -l < ${join(DIR, 'sortjoin.csv')}`], { encoding: 'utf8' }).stdout.trim());
      rmSync(join(DIR, 'sortjoin.csv'), { force: true });
      settle();
      return t;
    });
    log(`sort+join: ${sj.seconds}s (${fmt(sjRows)} rows not listed)`);
    results.push({ what: '`LC_ALL=C sort` + `join -v` (register pre-sorted)', seconds: sj.seconds, rows: ROWS, rss: sj.maxRssMb, note: `register only; ${fmt(sjRows)} rows out${REPEAT > 1 ? `; median of ${REPEAT}` : ''}` });

    // 7. SQLite: tables loaded (not timed in the row), then the indexed anti-join.
    const sq = join(DIR, 'baseline.db');
    rmSync(sq, { force: true });
    const load = timed(
      `sqlite3 ${sq} "PRAGMA journal_mode=OFF" "PRAGMA synchronous=OFF" "CREATE TABLE dnc(e164 TEXT PRIMARY KEY) WITHOUT ROWID" "CREATE TABLE list(id, first_name, last_name, phone, city)" ".import --csv ${regFile} dnc" ".import --csv --skip 1 ${listE164} list"`,
    );
    log(`sqlite load: ${load.seconds}s`);
    settle();
    warm(sq);
    const q = timed(`sqlite3 -csv ${sq} "SELECT l.* FROM list l WHERE NOT EXISTS (SELECT 1 FROM dnc d WHERE d.e164 = l.phone)" > ${join(DIR, 'sqlite.csv')}`);
    const sqRows = Number(spawnSync('bash', ['-c', `wc -l < ${join(DIR, 'sqlite.csv')}`], { encoding: 'utf8' }).stdout.trim());
    log(`sqlite join: ${q.seconds}s (${fmt(sqRows)} rows)`);
    results.push({ what: 'SQLite indexed anti-join (query only)', seconds: q.seconds, rows: ROWS, rss: q.maxRssMb, note: `register only; loading the tables took ${load.seconds.toFixed(0)} s more` });
    rmSync(sq, { force: true });
    rmSync(join(DIR, 'sqlite.csv'), { force: true });
  }

  const lines = [
    `| step | seconds | rows/s | peak memory (max RSS) | notes |`,
    `|---|---:|---:|---:|---|`,
    ...results.map((r) => `| ${r.what} | ${r.seconds.toFixed(1)} | ${fmt(r.rows / r.seconds)} | ${fmt(r.rss)} MB | ${r.note} |`),
  ];
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\nScrub benchmark ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`);
  console.log(`list ${fmt(ROWS)} rows, register ${fmt(REGISTER)} numbers (${fmt(count)} distinct), ${fmt(EVENTS)} consents and relationships; seed ${SEED}; ${reuse ? `data of an earlier run reused` : `data generated in ${genSeconds.toFixed(0)} s`}\n`);
  console.log(lines.join('\n'));
  console.log(`\nsummary (E.164): ${JSON.stringify(summaries['E.164'])}`);
  if (!KEEP) rmSync(DIR, { recursive: true, force: true });
  else console.log(`data kept in ${DIR}`);
}

main().catch((err: unknown) => {
  console.error(err);
  if (!KEEP) rmSync(DIR, { recursive: true, force: true });
  process.exit(1);
});
