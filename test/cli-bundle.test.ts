/**
 * The `optline` command as users run it: bin/optline.js builds the bundle in dist/ when it is
 * stale (scripts/build-cli.mjs) and runs it. The bundle finds its worker threads by URL – the
 * scrub's workers and the SQLite decision log's writer – which the TypeScript sources never
 * exercise, so these tests run the built command end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  }, 120_000);
});
