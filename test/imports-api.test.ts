/**
 * Imports over HTTP (POST/GET /v1/imports) and by the command (`optline import`): what a caller
 * sends, what it gets back, and what a refused file says – by line, with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN, startApi, type TestApi } from './helpers/api.js';
import { PassThrough } from 'node:stream';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');

describe('POST /v1/imports', () => {
  let api: TestApi;
  const tokens: Record<string, string> = {};
  const send = (url: string, csv: string, token = ADMIN) =>
    api.server.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, payload: csv });

  beforeAll(async () => {
    api = await startApi({ clock: () => NOW });
    for (const id of ['acme', 'other']) await api.call('PUT', `/v1/entities/${id}`, { name: id, kind: 'company', country: 'NL' });
    for (const role of ['agent', 'supervisor', 'admin'] as const) {
      const r = await api.call('POST', '/v1/keys', { role, entityIds: ['acme'] });
      tokens[role] = r.json().token;
    }
  });
  afterAll(() => api.close());

  it('imports the rows and answers what it did; the decision then rests on them', async () => {
    const csv = 'phone,status,channel,at,source.method,wording\n06 1234 0801,granted,phone,2026-01-10T10:00:00+01:00,web_form,Mogen wij u bellen?\n';
    const r = await send('/v1/imports?entityId=acme&kind=consents', csv, tokens.admin);
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toMatchObject({ entityId: 'acme', kind: 'consents', dryRun: false, rows: 1, imported: 1, rejected: 0, errors: [], ignoredColumns: [] });
    const d = await api.call('POST', '/v1/decisions', { phone: '+31612340801', entityId: 'acme', at: '2026-11-30T11:00:00+01:00' });
    expect(d.json()).toMatchObject({ allowed: true, basis: 'consent' });
    const list = await api.call('GET', '/v1/imports?entityId=acme', undefined, tokens.supervisor);
    expect(list.statusCode).toBe(200);
    expect(list.json()[0]).toMatchObject({ id: r.json().id, kind: 'consents', imported: 1, sha256: r.json().sha256 });
    // The same file again: nothing recorded twice, and the answer says why.
    const again = await send('/v1/imports?entityId=acme&kind=consents', csv, tokens.admin);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: null, imported: 0, onRecord: 1, importedBefore: { id: r.json().id } });
  });

  it('refuses a file with bad rows as problem+json naming each line, and writes nothing', async () => {
    const csv = 'phone,at\n0612340802,2026-01-01T00:00:00Z\n0612340803,yesterday\n';
    const r = await send('/v1/imports?entityId=acme&kind=objections', csv);
    expect(r.statusCode).toBe(422);
    expect(r.json()).toMatchObject({ status: 422, errors: [{ path: 'line 3: at', message: expect.stringMatching(/expected a moment/) }] });
    const h = await api.call('GET', '/v1/numbers/%2B31612340802/history');
    expect(h.json().events).toEqual([]);
    const dry = await send('/v1/imports?entityId=acme&kind=objections&dryRun=true&skipInvalid=true', csv);
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ id: null, rows: 2, imported: 1, rejected: 1, errors: [{ line: 3, path: 'at' }] });
  });

  it('takes only what the key may do, for its own entities', async () => {
    const csv = 'phone,at\n0612340804,2026-01-01T00:00:00Z\n';
    expect((await send('/v1/imports?entityId=other&kind=objections', csv, tokens.admin)).statusCode).toBe(403);
    // An agent records events one by one; a bulk import is not its work.
    expect((await send('/v1/imports?entityId=acme&kind=objections', csv, tokens.agent)).statusCode).toBe(403);
    expect((await send('/v1/imports?entityId=acme&kind=calls', csv)).statusCode).toBe(400);
    const json = await api.call('POST', '/v1/imports?entityId=acme&kind=objections', { phone: '0612340804' });
    expect(json.statusCode).toBe(400);
    expect(json.json().detail).toMatch(/text\/csv/);
    expect((await api.call('GET', '/v1/imports?entityId=other', undefined, tokens.supervisor)).statusCode).toBe(403);
  });

  it('refuses a file over OPTLINE_IMPORT_MAX_BYTES with 413, and records nothing of it', async () => {
    process.env.OPTLINE_IMPORT_MAX_BYTES = '200';
    try {
      const csv = 'phone,at\n' + Array.from({ length: 20 }, (_, i) => `06123409${String(50 + i)},2026-01-01T00:00:00Z`).join('\n') + '\n';
      const r = await send('/v1/imports?entityId=acme&kind=objections', csv);
      expect(r.statusCode).toBe(413);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect((await api.call('GET', '/v1/numbers/%2B31612340950/history')).json().events).toEqual([]);
    } finally {
      delete process.env.OPTLINE_IMPORT_MAX_BYTES;
    }
  });

  it('cuts off a file that stops arriving (408), and the server goes on', async () => {
    process.env.OPTLINE_SCRUB_IDLE_SECONDS = '1';
    const stalled = new PassThrough();
    try {
      stalled.write('phone,at\n0612340960,2026-01-01T00:00:00Z\n');
      const r = await api.server.inject({ method: 'POST', url: '/v1/imports?entityId=acme&kind=objections', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' }, payload: stalled });
      expect(r.statusCode).toBe(408);
      expect(r.json()).toMatchObject({ status: 408, detail: 'The file stopped arriving: nothing came for 1 s.' });
      expect((await api.call('GET', '/v1/numbers/%2B31612340960/history')).json().events).toEqual([]);
      expect((await api.server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      delete process.env.OPTLINE_SCRUB_IDLE_SECONDS;
      stalled.destroy();
    }
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await api.call('GET', '/v1/openapi.json')).json();
    expect(Object.keys(doc.paths['/v1/imports'])).toEqual(expect.arrayContaining(['post', 'get']));
  });
});

describe('optline import', () => {
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  const MAIN = join(ROOT, 'src/cli/main.ts');
  let dir: string;
  let db: string;
  const optline = (args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, OPTLINE_DB: db }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'optline-import-cli-'));
    db = join(dir, 'optline.db');
    const store = await Store.open(db);
    const app = await Optline.open(store);
    await app.putEntity('acme', { name: 'Acme', kind: 'company', country: 'NL' });
    await app.close();
    await store.close();
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports a CRM export with its own column names, and says which columns it read and left out', () => {
    const file = join(dir, 'crm.csv');
    writeFileSync(file, 'Klantnr;Mobiel;Toestemming sinds;Kanaal\n17;06 1234 0901;2025-02-03 10:00;phone\n18;06 1234 0902;2025-02-04;phone\n');
    const r = optline(['import', 'consents', '--entity', 'acme', '--in', file, '--column', 'phone=Mobiel', '--column', 'at=Toestemming sinds', '--column', 'channel=Kanaal', '--set', 'status=granted', '--set', 'source.method=paper']);
    expect(r.stderr).toContain('columns not imported (no field of consents): Klantnr');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/imported 2 of 2 rows as consent records for acme/);
    expect(r.stdout).toContain('phone ← "Mobiel"');
    const d = optline(['decide', '--entity', 'acme', '--phone', '0612340901', '--at', '2026-11-30T11:00:00+01:00', '--json']);
    expect(JSON.parse(d.stdout)).toMatchObject({ allowed: true, basis: 'consent' });
    const again = optline(['import', 'consents', '--entity', 'acme', '--in', file, '--column', 'phone=Mobiel', '--column', 'at=Toestemming sinds', '--column', 'channel=Kanaal', '--set', 'status=granted', '--set', 'source.method=paper']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/imported 0 of 2 rows/);
    expect(again.stdout).toMatch(/2 rows were on record already and were not recorded again; this file was imported on 20\d\d-/);
    // The first person asks to be erased: the export brings nothing of theirs back, and says so.
    const erased = optline(['erase', '--entity', 'acme', '--phone', '0612340901', '--reference', 'DSR-1']);
    expect(erased.code, erased.stderr).toBe(0);
    const third = optline(['import', 'consents', '--entity', 'acme', '--in', file, '--column', 'phone=Mobiel', '--column', 'at=Toestemming sinds', '--column', 'channel=Kanaal', '--set', 'status=granted', '--set', 'source.method=paper']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain(
      "1 row is about a number erased at its holder's request since the row's moment, and was not imported: the erased person's data does not come back from an old export (line 2)",
    );
    const after = optline(['decide', '--entity', 'acme', '--phone', '0612340901', '--at', '2026-11-30T11:00:00+01:00', '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ allowed: false });
  });

  it('refuses a file with bad rows with their line numbers, writes the rejects file and nothing else', () => {
    const file = join(dir, 'bad.csv');
    const rejects = join(dir, 'rejects.csv');
    writeFileSync(file, 'phone,at\n0612340903,2025-01-01T00:00:00Z\nnot a number,2025-01-01T00:00:00Z\n0612340904,2031-01-01T00:00:00Z\n');
    const r = optline(['import', 'objections', '--entity', 'acme', '--in', file, '--rejects', rejects]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 3, phone: /);
    expect(r.stderr).toMatch(/line 4, at: .*in the future/);
    expect(r.stderr).toMatch(/2 of 3 rows cannot be imported, so none was/);
    // The refused rows as they were, their line and errors in front: corrected, the file imports as it is.
    const lines = readFileSync(rejects, 'utf8').split('\n');
    expect(lines[0]).toBe('line,errors,phone,at');
    expect(lines[1]).toMatch(/^3,"phone: .*",not a number,2025-01-01T00:00:00Z$/);
    expect(lines[2]).toMatch(/^4,at: .*in the future.*,0612340904,2031-01-01T00:00:00Z$/);
    const h = optline(['decide', '--entity', 'acme', '--phone', '0612340903', '--at', '2026-11-30T11:00:00+01:00', '--json']);
    expect(JSON.parse(h.stdout).denials).not.toContain('objected');
    const missing = optline(['import', 'objections', '--entity', 'acme', '--in', join(dir, 'nope.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Cannot read .*nope\.csv/);
  });

  it('leaves the store as it was when killed while it writes', async () => {
    const file = join(dir, 'many.csv');
    writeFileSync(file, ['phone,at', ...Array.from({ length: 60_000 }, (_, i) => `+3161${String(5000000 + i)},2025-01-01T00:00:00Z`)].join('\n') + '\n');
    const count = async () => {
      const store = await Store.open(db);
      try {
        const n = Number((await store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
        return { n, ok: (await store.verifyHistory()).ok };
      } finally {
        await store.close();
      }
    };
    const before = await count();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'import', 'objections', '--entity', 'acme', '--in', file], { env: { ...process.env, OPTLINE_DB: db }, stdio: 'ignore' });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    // The transaction has begun once it spills pages to the log: 60,000 events are tens of MB.
    const wal = `${db}-wal`;
    let exited = false;
    void ended.then(() => (exited = true));
    while (!exited && !(existsSync(wal) && statSync(wal).size > 8 * 2 ** 20)) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGKILL');
    const end = await ended;
    expect(end.signal, 'the import ended before it could be killed while writing').toBe('SIGKILL');
    expect(await count()).toEqual(before);
    // Its spool of checked events (personal data) outlived it, until the next import starts.
    const spools = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`optline-import-${child.pid}-`));
    expect(spools()).toHaveLength(1);
    const small = join(dir, 'small.csv');
    writeFileSync(small, 'phone,at\n0612340999,2025-01-01T00:00:00Z\n');
    expect(optline(['import', 'objections', '--entity', 'acme', '--in', small]).code).toBe(0);
    expect(spools()).toEqual([]);
  }, 120_000);
});
