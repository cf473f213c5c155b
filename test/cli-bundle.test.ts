/**
 * The `optline` command as users run it: bin/optline.js builds the bundle in dist/ when it is
 * stale (scripts/build-cli.mjs) and runs it. The bundle finds its worker threads by URL – the
 * scrub's workers and the SQLite decision log's writer – which the TypeScript sources never
 * exercise, so these tests run the built command end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'optline.js');
let dir: string;
let db: string;

function optline(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, OPTLINE_DB: db, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'optline-bundle-'));
  db = join(dir, 'optline.db');
  const store = await Store.open(db);
  const app = await Optline.open(store);
  await app.putEntity('acme', { name: 'Acme B.V.', kind: 'company', country: 'NL' });
  await app.recordConsent({ phone: '+31612345678', entityId: 'acme', channel: 'phone', status: 'granted', at: Date.parse('2026-01-05T10:00:00Z'), source: { method: 'web_form', wording: 'Bel mij over aanbiedingen.' } });
  await app.close();
  await store.close();
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the built optline command', () => {
  it('builds dist/ and prints its help', () => {
    const r = optline(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/scrub/);
    expect(existsSync(join(ROOT, 'dist', 'optline.mjs'))).toBe(true);
    expect(existsSync(join(ROOT, 'dist', 'scrub-worker.mjs'))).toBe(true);
  }, 120_000);

  it('works only on a store that exists: a wrong OPTLINE_DB is said, not answered from a new empty store', () => {
    const missing = join(dir, 'no-such', 'store.db');
    for (const args of [['verify'], ['decide', '--phone', '0612345678', '--entity', 'acme'], ['audit', 'keys'], ['scrub', '--entity', 'acme', '--in', join(dir, 'x.csv'), '--out', join(dir, 'y.csv')]]) {
      const r = optline(args, { OPTLINE_DB: missing });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`No store at ${missing}: set OPTLINE_DB`);
    }
    expect(existsSync(missing)).toBe(false);
    const unknown = optline(['verify', '--entity', 'nosuch']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown entity "nosuch" (--entity). Entities in this store: acme.');
    // A national number where no entity gives its country: said how to give it.
    const national = optline(['proof', '--phone', '0612345678']);
    expect(national.code).toBe(2);
    expect(national.stderr).toContain('Write it with its country code (+31…), or name the entity with --entity.');
  }, 120_000);

  it('treats a mistake in the command line as bad input: exit 2, the mistake, and where the options are listed', () => {
    const cases: Array<[string[], RegExp, string]> = [
      [['decide', '--phone', '0612345678', '--entity', 'acme', '--at', 'tomorrow'], /option '--at <time>' argument 'tomorrow' is invalid\. expected a moment with its offset/, 'optline decide --help'],
      [['decide', '--entity', 'acme'], /required option '--phone <number>' not specified/, 'optline decide --help'],
      [['scrub', '--entity', 'acme', '--in', 'a.csv', '--out', 'b.csv', '--bogus'], /unknown option '--bogus'/, 'optline scrub --help'],
      [['registers', 'import', 'nl', 'x.txt', '--as-of', '2026-13-45'], /argument '2026-13-45' is invalid/, 'optline registers import --help'],
    ];
    for (const [args, message, pointer] of cases) {
      const r = optline(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(2); // not the whole help after it
      expect(r.stderr).toContain(`(${pointer} lists the options)`);
    }
    expect(optline(['decide', '--help']).code).toBe(0);
  }, 120_000);

  it('stops quietly when the reader of its output goes away (`| head`), with its own exit code', () => {
    // `decide` writes line by line: the reader is gone after the first byte, the next write fails.
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" decide --phone 0612349999 --entity acme | head -c 1 >/dev/null; exit \${PIPESTATUS[0]}`], { env: { ...process.env, OPTLINE_DB: db }, encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/EPIPE|at .*\(/);
    expect(r.status).toBe(3); // not allowed (no basis): the code a script relies on
  }, 120_000);

  it('lists and revokes keys, and asks with the line type, time zone and dialing of the call', () => {
    const created = optline(['keys', 'create', '--role', 'agent', '--entity', 'acme', '--label', 'Team Utrecht']);
    expect(created.code).toBe(0);
    const id = /key (\S+) for acme/.exec(created.stderr)![1]!;
    expect(optline(['keys', 'list']).stdout).toMatch(new RegExp(`^${id}  agent +acme  Team Utrecht$`, 'm'));
    expect(optline(['keys', 'revoke', id])).toMatchObject({ code: 0, stdout: `revoked key ${id}\n` });
    expect(optline(['keys', 'list']).stdout).not.toContain(id);
    expect(optline(['keys', 'list', '--all']).stdout).toMatch(new RegExp(`^${id} .* revoked `, 'm'));
    expect(optline(['keys', 'revoke', id])).toMatchObject({ code: 2 });

    const asked = optline(['decide', '--phone', '0612345678', '--entity', 'acme', '--at', '2026-11-30T10:00:00+01:00', '--line-type', 'fixed', '--time-zone', 'Europe/Amsterdam', '--prerecorded', '--json']);
    expect(asked.code, asked.stderr).toBe(0);
    expect(JSON.parse(asked.stdout)).toMatchObject({ allowed: true, basis: 'consent' });
    expect(optline(['decide', '--phone', '0612345678', '--entity', 'acme', '--line-type', 'landline'])).toMatchObject({ code: 2, stderr: 'optline: --line-type must be mobile or fixed\n' });
    expect(optline(['decide', '--phone', '0612345678', '--entity', 'acme', '--time-zone', 'Mars/Base'])).toMatchObject({ code: 2, stderr: 'optline: --time-zone "Mars/Base" is not an IANA time zone such as Europe/Amsterdam\n' });
    // Bad files and numbers are bad input (exit 2), said in words, not errno codes.
    expect(optline(['proof', '--phone', '0612345678', '--entity', 'acme', '--out', join(dir, 'nodir', 'p.json')])).toMatchObject({ code: 2, stderr: `optline: Cannot write ${join(dir, 'nodir', 'p.json')}: no such file or directory.\n` });
    expect(optline(['proof', '--phone', '0612345678', '--entity', 'acme', '--out', dir])).toMatchObject({ code: 2, stderr: `optline: Cannot write ${dir}: it is a directory.\n` });
    expect(optline(['audit', 'decisions', '--phone', 'abc'])).toMatchObject({ code: 2 });
    expect(optline(['scrub', '--entity', 'acme', '--in', join(dir, 'missing.csv'), '--out', join(dir, 'x.csv')])).toMatchObject({ code: 2, stderr: `optline: Cannot read the list (${join(dir, 'missing.csv')}): no such file or directory.\n` });
  }, 120_000);

  it('decides, logging the decision through the writer thread', () => {
    const r = optline(['decide', '--phone', '06 1234 5678', '--entity', 'acme', '--at', '2026-11-30T10:00:00+01:00', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as { allowed: boolean; basis: string };
    expect(d).toMatchObject({ allowed: true, basis: 'consent' });
  }, 120_000);

  it('scrubs a list on two worker threads, as the sources do on the calling thread', () => {
    const rows = ['id,phone'];
    for (let i = 0; i < 3000; i++) rows.push(`${i},${i === 7 ? '06 1234 5678' : i % 500 === 3 ? 'n/a' : `+3161${String(2000000 + i).padStart(7, '0')}`}`);
    writeFileSync(join(dir, 'list.csv'), rows.join('\n') + '\n');
    const args = (out: string) => ['scrub', '--entity', 'acme', '--in', join(dir, 'list.csv'), '--out', join(dir, out), '--at', '2026-11-30T10:00:00+01:00', '--summary', join(dir, `${out}.json`)];
    const threaded = optline([...args('threads.csv'), '--workers', '2']);
    expect(threaded.stderr).toBe('');
    expect(threaded.code).toBe(0);
    const inline = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args('inline.csv'), '--workers', '0'], { env: { ...process.env, OPTLINE_DB: db }, encoding: 'utf8' });
    expect(inline.status).toBe(0);
    const out = readFileSync(join(dir, 'threads.csv'), 'utf8');
    expect(out).toBe(readFileSync(join(dir, 'inline.csv'), 'utf8'));
    expect(out.split('\n')[8]).toBe('7,06 1234 5678,+31612345678,true,consent,');
    expect(JSON.parse(readFileSync(join(dir, 'threads.csv.json'), 'utf8'))).toMatchObject({ rows: 3000, allowed: 1, invalid: 6 });

    // A campaign with an automatic dialer and a recorded message: every row asked that question,
    // which the summary's title says.
    const robo = optline([...args('robo.csv'), '--autodialed', '--prerecorded']);
    expect(robo.code, robo.stderr).toBe(0);
    expect(robo.stdout.split('\n')[0]).toMatch(/ at 2026-11-30T09:00:00\.000Z, autodialed, prerecorded \(phone column "phone"\)$/);
    const fixed = optline([...args('fixed.csv'), '--autodialed', '--line-type', 'fixed']);
    expect(fixed.stdout.split('\n')[0]).toMatch(/, autodialed, fixed lines \(phone column "phone"\)$/);
    expect(optline([...args('bad.csv'), '--line-type', 'landline'])).toMatchObject({ code: 2, stderr: 'optline: --line-type must be mobile or fixed\n' });
    // A list of businesses: every row asked about a legal person (NL-1: opt-out).
    const companies = optline([...args('companies.csv'), '--subscriber', 'business']);
    expect(companies.code, companies.stderr).toBe(0);
    expect(companies.stdout.split('\n')[0]).toMatch(/, businesses \(phone column "phone"\)$/);
    expect(readFileSync(join(dir, 'companies.csv'), 'utf8').split('\n')[2]).toMatch(/,true,opt_out_regime,$/);
    expect(optline([...args('bad.csv'), '--subscriber', 'company'])).toMatchObject({ code: 2, stderr: 'optline: --subscriber must be one of consumer, sole_trader, business\n' });
    const single = JSON.parse(optline(['decide', '--phone', '0612345678', '--entity', 'acme', '--at', '2026-11-30T10:00:00+01:00', '--autodialed', '--prerecorded', '--json']).stdout) as { allowed: boolean; basis: string | null; denials: string[] };
    expect(readFileSync(join(dir, 'robo.csv'), 'utf8').split('\n')[8]).toBe(`7,06 1234 5678,+31612345678,${single.allowed},${single.basis ?? ''},${single.denials.join('|')}`);
  }, 120_000);

  // `optline scrub` starts a copy of itself with glibc's huge pages on and V8's compiling on the
  // scrub threads (bin/optline.js).
  const hugePagesOn = existsSync('/sys/kernel/mm/transparent_hugepage/enabled') && !readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').includes('[never]');

  it.runIf(process.platform === 'linux')('scrubs in a tuned copy of itself, which goes when the command is killed', async () => {
    const rows = ['id,phone'];
    for (let i = 0; i < 2_000_000; i++) rows.push(`${i},+316${String(10000000 + i)}`);
    writeFileSync(join(dir, 'big.csv'), rows.join('\n') + '\n');
    const out = join(dir, 'big.out.csv');
    const command = spawn(process.execPath, [BIN, 'scrub', '--entity', 'acme', '--in', join(dir, 'big.csv'), '--out', out, '--workers', '2'], { env: { ...process.env, OPTLINE_DB: db }, stdio: 'ignore' });
    // The copy: the command's child process, once it is writing its temporary output.
    let copy = 0;
    for (let i = 0; i < 1200 && command.exitCode === null; i++) {
      copy = childrenOf(command.pid!)[0] ?? 0;
      if (copy && readdirSync(dir).some((f) => f.startsWith('.big.out.csv') && f.endsWith('.tmp'))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(command.exitCode).toBeNull();
    expect(copy).toBeGreaterThan(0);
    if (hugePagesOn) expect(readFileSync(`/proc/${copy}/environ`, 'latin1').split('\0')).toContain('GLIBC_TUNABLES=glibc.malloc.hugetlb=1');
    expect(readFileSync(`/proc/${copy}/cmdline`, 'latin1').split('\0')).toContain('--no-concurrent-recompilation');
    command.kill('SIGKILL');
    await new Promise((r) => command.once('exit', r));
    let gone = false;
    for (let i = 0; i < 200 && !gone; i++) {
      gone = !existsSync(`/proc/${copy}`) || /^\S+ \(.*\) Z/.test(readFileSync(`/proc/${copy}/stat`, 'latin1'));
      if (!gone) await new Promise((r) => setTimeout(r, 50));
    }
    expect(gone).toBe(true);
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it.runIf(process.platform === 'linux').each([
    ['SIGINT', 130, 'Ctrl-C'],
    ['SIGHUP', 129, 'a closed terminal'],
  ] as const)('stops cleanly on %s (%s: %s), which reaches the command and its copy at once', async (signal, exitCode, _what) => {
    if (!existsSync(join(dir, 'ctrlc.csv'))) {
      const rows = ['id,phone'];
      for (let i = 0; i < 2_000_000; i++) rows.push(`${i},+316${String(10000000 + i)}`);
      writeFileSync(join(dir, 'ctrlc.csv'), rows.join('\n') + '\n');
    }
    const out = join(dir, 'ctrlc.out.csv');
    // In a process group of its own, as a shell runs a foreground command: the terminal's SIGINT
    // goes to the whole group.
    const command = spawn(process.execPath, [BIN, 'scrub', '--entity', 'acme', '--in', join(dir, 'ctrlc.csv'), '--out', out, '--workers', '2'], {
      env: { ...process.env, OPTLINE_DB: db },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    command.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 1200 && command.exitCode === null; i++) {
      if (readdirSync(dir).some((f) => f.startsWith('.ctrlc.out.csv') && f.endsWith('.tmp'))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(command.exitCode).toBeNull();
    process.kill(-command.pid!, signal);
    const code = await new Promise((r) => command.once('exit', (c) => r(c)));
    expect(code).toBe(exitCode);
    expect(stderr).toContain('The scrub was interrupted; no output was written.');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.ctrlc.out.csv'))).toEqual([]);
  }, 120_000);
});

/** Pids of a process's children (Linux /proc). */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return kids;
}
