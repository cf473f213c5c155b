/**
 * POST/GET /v1/scrubs: the list streamed in and the scrubbed list streamed back, jobs with
 * Prefer: respond-async, summaries of past scrubs, roles and entity scope, problem+json.
 */
import { Slots } from '../src/api/slots.js';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startApi, type TestApi } from './helpers/api.js';
import { sql } from 'kysely';
import { runScrub } from '../src/scrub/run.js';
import { downloadName } from '../src/api/routes/scrubs.js';
import { ScrubStore } from '../src/scrub/store.js';
import { newId, Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';

const AT = '2026-11-28T10:00:00+01:00';
let api: TestApi;
const tokens: Record<string, string> = {};

async function scrub(query: string, csv: string, token = tokens.supervisor!, headers: Record<string, string> = {}) {
  return api.server.inject({
    method: 'POST',
    url: `/v1/scrubs?${query}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', ...headers },
    payload: csv,
  });
}

/** A million national numbers: a scrub of it holds its slot for a second or more. */
const LONG_LIST = 'phone\n' + Array.from({ length: 1_000_000 }, (_, i) => `06${String(10_000_000 + i)}`).join('\n') + '\n';

async function waitDone(id: string, token = tokens.supervisor!): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const r = await api.call('GET', `/v1/scrubs/${id}`, undefined, token);
    const body = r.json() as Record<string, unknown>;
    if (body.status !== 'running') return body;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('scrub did not finish');
}

beforeAll(async () => {
  api = await startApi({ clock: () => Date.parse(AT) });
  for (const [id, country] of [['acme', 'NL'], ['other', 'NL']] as const) {
    expect((await api.call('PUT', `/v1/entities/${id}`, { name: id.toUpperCase(), kind: 'company', country })).statusCode).toBeLessThan(300);
  }
  for (const role of ['supervisor', 'integration', 'compliance', 'agent'] as const) {
    const r = await api.call('POST', '/v1/keys', { role, entityIds: ['acme'] });
    tokens[role] = (r.json() as { token: string }).token;
  }
  await api.call('POST', '/v1/consents', { entityId: 'acme', channel: 'phone', status: 'granted', at: '2026-01-05T10:00:00+01:00', phone: '+31612345678', source: { method: 'web_form', recordingRef: 'rec-1' } });
  await api.call('POST', '/v1/objections', { entityId: 'acme', at: '2026-02-01T10:00:00+01:00', phone: '+31612345679' });
});

afterAll(async () => {
  await api.close();
});

describe('POST /v1/scrubs', () => {
  it('streams the scrubbed list back, with the summary and where to find the scrub', async () => {
    const csv = 'id,name,phone\n1,"Jansen, A",+31612345678\n2,B,0612345679\n3,C,+31612345670\n4,D,nonsense\n';
    const r = await scrub('entityId=acme', csv);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const lines = r.body.trimEnd().split('\n');
    expect(lines[0]).toBe('id,name,phone,e164,allowed,basis,denials');
    expect(lines[1]).toBe('1,"Jansen, A",+31612345678,+31612345678,true,consent,');
    expect(lines[2]).toBe('2,B,0612345679,+31612345679,false,,objected');
    expect(lines[3]).toBe('3,C,+31612345670,+31612345670,false,,no_basis');
    expect(lines[4]).toBe('4,D,nonsense,,false,,invalid_number');
    const summary = JSON.parse(String(r.headers['optline-scrub-summary']));
    expect(summary).toEqual({ rows: 4, allowed: 1, denied: 2, invalid: 1, byBasis: { consent: 1 }, byDenial: { no_basis: 1, objected: 1 }, otherPhoneColumns: [], scrubbedBefore: false });
    const id = String(r.headers['optline-scrub-id']);
    expect(r.headers.location).toBe(`/v1/scrubs/${id}`);

    // The decisions are the single-decision path's.
    for (const [phone, line] of [['+31612345678', 1], ['0612345679', 2], ['+31612345670', 3]] as const) {
      const d = (await api.call('POST', '/v1/decisions', { phone, entityId: 'acme' })).json() as { allowed: boolean; basis: string | null; denials: string[] };
      expect(lines[line]!.split(',').slice(-3).join(',')).toBe(`${d.allowed},${d.basis ?? ''},${d.denials.join('|')}`);
    }

    const past = await api.call('GET', `/v1/scrubs/${id}`, undefined, tokens.compliance);
    expect(past.statusCode).toBe(200);
    expect(past.json()).toMatchObject({ id, entityId: 'acme', status: 'done', rows: 4, allowed: 1, denied: 2, invalid: 1, phoneColumn: 'phone', links: { output: `/v1/scrubs/${id}/output`, rejects: `/v1/scrubs/${id}/rejects` } });
    const rejects = await api.call('GET', `/v1/scrubs/${id}/rejects`, undefined, tokens.supervisor);
    expect(rejects.statusCode).toBe(200);
    expect(rejects.body.split('\n')[1]).toMatch(/^5,.*,4,D,nonsense$/);
    const output = await api.call('GET', `/v1/scrubs/${id}/output`, undefined, tokens.integration);
    expect(output.body).toBe(r.body);
  });

  it('runs as a job with Prefer: respond-async', async () => {
    const rows = ['phone'];
    for (let i = 0; i < 2000; i++) rows.push(`+316${String(10000000 + i)}`);
    const r = await scrub('entityId=acme&productCategory=energy', rows.join('\r\n') + '\r\n', tokens.integration, { prefer: 'respond-async' });
    expect(r.statusCode).toBe(202);
    const job = r.json() as { id: string; status: string; links: { self: string } };
    expect(job.links.self).toBe(`/v1/scrubs/${job.id}`);
    const done = await waitDone(job.id, tokens.integration);
    expect(done).toMatchObject({ status: 'done', rows: 2000, invalid: 0, productCategory: 'energy' });
    const out = await api.call('GET', `/v1/scrubs/${job.id}/output`, undefined, tokens.integration);
    expect(out.body.split('\r\n')[0]).toBe('phone,e164,allowed,basis,denials');
    expect(out.body.split('\r\n')).toHaveLength(2002);
  });

  it('takes a scrub slot once the list has arrived: a slow upload holds up nobody; one key sends a few lists at once', async () => {
    process.env.OPTLINE_SCRUBS_AT_ONCE = '1';
    process.env.OPTLINE_SCRUB_UPLOADS_PER_KEY = '1';
    const slow = new PassThrough();
    try {
      slow.write('phone\r\n+31612345678\r\n');
      // Know when the first request's handler runs: it looks its entity up just before its upload.
      const requireEntity = api.app.requireEntity.bind(api.app);
      let reached!: () => void;
      const handling = new Promise<void>((res) => (reached = res));
      api.app.requireEntity = (async (...args: Parameters<typeof requireEntity>) => {
        const entity = await requireEntity(...args);
        reached();
        return entity;
      }) as typeof requireEntity;
      const first = api.server.inject({
        method: 'POST',
        url: '/v1/scrubs?entityId=acme',
        headers: { authorization: `Bearer ${tokens.supervisor}`, 'content-type': 'text/csv' },
        payload: slow,
      });
      await handling;
      api.app.requireEntity = requireEntity;
      await new Promise((res) => setImmediate(res)); // into the upload
      // Another key's list is scrubbed meanwhile, on the one slot the slow upload does not hold.
      const other = await scrub('entityId=acme', 'phone\r\n+31612345679\r\n', tokens.integration);
      expect(other.statusCode, other.body).toBe(200);
      // The same key, still sending its first list, is asked to wait for it.
      const second = await scrub('entityId=acme', 'phone\r\n+31612345679\r\n');
      expect(second.statusCode).toBe(429);
      expect(second.headers['content-type']).toContain('application/problem+json');
      expect(second.headers['retry-after']).toBe('30');
      expect(second.json().detail).toMatch(/OPTLINE_SCRUB_UPLOADS_PER_KEY/);
      slow.end('+31612345679\r\n');
      expect((await first).statusCode).toBe(200);
      // Arrived: the key may send the next.
      expect((await scrub('entityId=acme', 'phone\r\n+31612345679\r\n')).statusCode).toBe(200);
    } finally {
      delete process.env.OPTLINE_SCRUBS_AT_ONCE;
      delete process.env.OPTLINE_SCRUB_UPLOADS_PER_KEY;
      slow.destroy();
    }
  });

  it('cuts off a list that stops arriving (408), and leaves no scrub or upload behind', async () => {
    process.env.OPTLINE_SCRUB_IDLE_SECONDS = '1';
    const stalled = new PassThrough();
    try {
      const before = (await api.call('GET', '/v1/scrubs?entityId=acme&limit=500', undefined, tokens.supervisor)).json().length;
      stalled.write('phone\r\n+31612345678\r\n');
      const r = await api.server.inject({
        method: 'POST',
        url: '/v1/scrubs?entityId=acme',
        headers: { authorization: `Bearer ${tokens.supervisor}`, 'content-type': 'text/csv' },
        payload: stalled,
      });
      expect(r.statusCode).toBe(408);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json()).toMatchObject({ title: 'Request timeout', status: 408, detail: 'The list stopped arriving: nothing came for 1 s.' });
      expect((await api.call('GET', '/v1/scrubs?entityId=acme&limit=500', undefined, tokens.supervisor)).json().length).toBe(before);
      // The key's upload is over: it may send again.
      expect((await scrub('entityId=acme', 'phone\r\n+31612345678\r\n')).statusCode).toBe(200);
    } finally {
      delete process.env.OPTLINE_SCRUB_IDLE_SECONDS;
      stalled.destroy();
    }
  });

  it('refuses a list without a header row and keeps none of its first row on record', async () => {
    const r = await scrub('entityId=acme', '+31612340004,Jan Jansen,Dorpsstraat 1\n+31612340005,Piet,Kerkstraat 2\n');
    expect(r.statusCode).toBe(422);
    expect(r.body).not.toMatch(/31612340004|Jansen|Dorpsstraat/);
    const failed = (await api.call('GET', '/v1/scrubs?entityId=acme&limit=1', undefined, tokens.supervisor)).json() as Array<Record<string, unknown>>;
    expect(failed[0]).toMatchObject({ status: 'failed', errors: [{ path: 'phoneColumn', message: 'the first row is data, not a header row' }] });
    expect(JSON.stringify(failed[0])).not.toMatch(/31612340004|Jansen|Dorpsstraat/);
  });

  it('answers problem+json for a list without a phone column, naming the columns seen', async () => {
    const r = await scrub('entityId=acme', 'id,name,contact\n1,A,+31612345678\n');
    expect(r.statusCode).toBe(422);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    const p = r.json() as { detail: string; errors: Array<{ path: string }> };
    expect(p.detail).toContain('"id", "name", "contact"');
    expect(p.errors[0]!.path).toBe('phoneColumn');
    // The scrub is on record as failed, with the same reason by field.
    const failed = (await api.call('GET', '/v1/scrubs?entityId=acme&limit=1', undefined, tokens.supervisor)).json() as Array<Record<string, unknown>>;
    expect(failed[0]).toMatchObject({ status: 'failed', errors: [{ path: 'phoneColumn', message: 'no phone column among "id", "name", "contact"' }] });
    const named = await scrub('entityId=acme&phoneColumn=contact', 'id,name,contact\n1,A,+31612345678\n');
    expect(named.statusCode).toBe(200);
    expect(named.body.split('\n')[1]).toBe('1,A,+31612345678,+31612345678,true,consent,');
  });

  it('keeps the list’s file name from Content-Disposition, in UTF-8 too', async () => {
    const nameOf = async (headers: Record<string, string>) => {
      const r = await scrub('entityId=acme', 'phone\n+31612345678\n', tokens.supervisor, headers);
      expect(r.statusCode).toBe(200);
      return ((await api.call('GET', `/v1/scrubs/${String(r.headers['optline-scrub-id'])}`, undefined, tokens.supervisor)).json() as { inputName: string | null }).inputName;
    };
    expect(await nameOf({ 'content-disposition': 'attachment; filename="crm export; week 48.csv"' })).toBe('crm export; week 48.csv');
    expect(await nameOf({ 'content-disposition': "attachment; filename*=UTF-8''bellijst%20%C3%A9%C3%A9n.csv" })).toBe('bellijst één.csv');
    // No name, or a header that cannot be read: the scrub runs, without a name (not the server's temporary file's).
    expect(await nameOf({})).toBeNull();
    expect(await nameOf({ 'content-disposition': 'attachment; filename="unterminated' })).toBeNull();
  });

  it('asks the question of a campaign with an automatic dialer and a recorded message, and names downloads after the list', async () => {
    const csv = 'id,phone\n1,+31612345678\n2,+31612345670\n3,nonsense\n';
    const r = await scrub('entityId=acme&autodialed=true&prerecorded=true', csv, tokens.supervisor, { 'content-disposition': 'attachment; filename="bellijst week 48.csv"' });
    expect(r.statusCode).toBe(200);
    const lines = r.body.trimEnd().split('\n');
    for (const [phone, line] of [['+31612345678', 1], ['+31612345670', 2]] as const) {
      const d = (await api.call('POST', '/v1/decisions', { phone, entityId: 'acme', autodialed: true, prerecorded: true })).json() as { allowed: boolean; basis: string | null; denials: string[] };
      expect(lines[line]!.split(',').slice(-3).join(','), phone).toBe(`${d.allowed},${d.basis ?? ''},${d.denials.join('|')}`);
    }
    const id = String(r.headers['optline-scrub-id']);
    expect((await api.call('GET', `/v1/scrubs/${id}`, undefined, tokens.compliance)).json()).toMatchObject({ autodialed: true, prerecorded: true });
    const output = await api.call('GET', `/v1/scrubs/${id}/output`, undefined, tokens.supervisor);
    expect(output.headers['content-disposition']).toBe('attachment; filename="bellijst week 48-checked.csv"');
    const rejects = await api.call('GET', `/v1/scrubs/${id}/rejects`, undefined, tokens.supervisor);
    expect(rejects.headers['content-disposition']).toBe('attachment; filename="bellijst week 48-unreadable.csv"');
    // A live call unless said otherwise; a yes/no that is neither is refused, not read as no.
    const live = await scrub('entityId=acme', csv);
    expect((await api.call('GET', `/v1/scrubs/${String(live.headers['optline-scrub-id'])}`, undefined, tokens.compliance)).json()).toMatchObject({ autodialed: false, prerecorded: false, lineType: null });
    // A list the caller says is all landlines.
    const fixed = await scrub('entityId=acme&autodialed=true&lineType=fixed', csv);
    expect(fixed.statusCode).toBe(200);
    expect((await api.call('GET', `/v1/scrubs/${String(fixed.headers['optline-scrub-id'])}`, undefined, tokens.compliance)).json()).toMatchObject({ autodialed: true, prerecorded: false, lineType: 'fixed' });
    expect((await scrub('entityId=acme&lineType=landline', csv)).statusCode).toBe(400);
    // A list of businesses (NL-1: legal persons are called under opt-out).
    const companies = await scrub('entityId=acme&subscriberType=business', 'phone\n+31201234567\n');
    expect(companies.statusCode).toBe(200);
    expect(companies.body.trimEnd().split('\n')[1]).toBe('+31201234567,+31201234567,true,opt_out_regime,');
    expect((await api.call('GET', `/v1/scrubs/${String(companies.headers['optline-scrub-id'])}`, undefined, tokens.compliance)).json()).toMatchObject({ subscriberType: 'business' });
    expect((await api.call('GET', `/v1/scrubs/${String(live.headers['optline-scrub-id'])}`, undefined, tokens.compliance)).json()).toMatchObject({ subscriberType: 'consumer' });
    expect((await scrub('entityId=acme&subscriberType=company', csv)).statusCode).toBe(400);
    // Each row's line type from a column: counted, recorded, and a column the list lacks refused at its field.
    const typed = await scrub('entityId=acme&autodialed=true&lineTypeColumn=kind', 'id,phone,kind\n1,+31612345678,Wireless\n2,+31612345670,landline\n3,+31612345671,\n4,+31612345672,voip\n');
    expect(typed.statusCode, typed.body).toBe(200);
    expect((await api.call('GET', `/v1/scrubs/${String(typed.headers['optline-scrub-id'])}`, undefined, tokens.compliance)).json()).toMatchObject({
      lineTypeColumn: 'kind',
      lineTypes: { mobile: 1, fixed: 1, notGiven: 1, unread: 1, unreadValues: [] },
    });
    // Values that are neither are the list's data: not kept, nor sent in the summary header – which
    // takes only ASCII (a DEL or UTF-8 byte there made a finished scrub answer 500).
    const odd = await scrub('entityId=acme&lineTypeColumn=kind', 'id,phone,kind\n1,+31612345678,mo\u007fbile\n2,+31612345670,Téléphone fixe\n');
    expect(odd.statusCode, odd.body).toBe(200);
    expect(JSON.parse(String(odd.headers['optline-scrub-summary'])).lineTypes).toEqual({ mobile: 0, fixed: 0, notGiven: 0, unread: 2, unreadValues: [] });
    const noColumn = await scrub('entityId=acme&lineTypeColumn=wireless_flag', csv);
    expect(noColumn.statusCode).toBe(422);
    expect(noColumn.json().errors).toEqual([{ path: 'lineTypeColumn', message: 'no column "wireless_flag" among "id", "phone"' }]);
    const wrong = await scrub('entityId=acme&autodialed=yes', csv);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(wrong.body).toContain('autodialed');
    // Names from elsewhere: only the file's own name, nothing a file system refuses, the id without one.
    expect(downloadName({ id: 'x1', inputName: 'C:\\Users\\jan\\leads.CSV' }, 'output')).toBe('leads-checked.csv');
    expect(downloadName({ id: 'x1', inputName: 'a:b?.txt' }, 'rejects')).toBe('a_b_-unreadable.csv');
    expect(downloadName({ id: 'x1', inputName: null }, 'output')).toBe('scrub-x1-checked.csv');
  });

  it('neither serves nor deletes the files `optline scrub` wrote, though their scrubs are listed', async () => {
    const own = mkdtempSync(join(tmpdir(), 'optline-cli-files-'));
    try {
      writeFileSync(join(own, 'list.csv'), 'phone\n+31612345678\n');
      const cli = await runScrub(api.app, { entityId: 'acme', input: join(own, 'list.csv'), output: join(own, 'out.csv'), rejects: join(own, 'rejects.csv'), at: Date.parse(AT), workers: 0 });
      const record = (await api.call('GET', `/v1/scrubs/${cli.id}`, undefined, tokens.supervisor)).json() as { status: string; links: { output: string | null } };
      expect(record).toMatchObject({ status: 'done', links: { output: null } });
      const output = await api.call('GET', `/v1/scrubs/${cli.id}/output`, undefined, tokens.supervisor);
      expect(output.statusCode).toBe(404);
      expect(output.json().detail).toContain('by `optline scrub` to its own file, or by another server without a shared OPTLINE_SCRUBS_DIR');
      // Long past the keeping time, a server scrub's clean-up leaves the command's files alone.
      await sql`update scrubs set started_at = '2020-01-01T00:00:00.000Z' where id = ${cli.id}`.execute(api.app.store.db);
      expect((await scrub('entityId=acme', 'phone\n+31612345678\n')).statusCode).toBe(200);
      expect(readFileSync(join(own, 'out.csv'), 'utf8')).toBe('phone,e164,allowed,basis,denials\n+31612345678,+31612345678,true,consent,\n');
      expect(existsSync(join(own, 'rejects.csv'))).toBe(true);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('an erasure removes the kept outputs that hold the erased number, and only those', async () => {
    const holding = await scrub('entityId=acme', 'phone,name\n+31612345671,Jan Jansen\n+31612345672,B\n');
    const other = await scrub('entityId=acme', 'phone,name\n+31612345673,C\n');
    const e = await api.call('POST', '/v1/erasures', { phone: '0612345671', entityId: 'acme' });
    expect(e.statusCode, e.body).toBe(201);
    const gone = String(holding.headers['optline-scrub-id']);
    expect((await api.call('GET', `/v1/scrubs/${gone}/output`, undefined, tokens.supervisor)).statusCode).toBe(404);
    expect((await api.call('GET', `/v1/scrubs/${gone}`, undefined, tokens.supervisor)).json()).toMatchObject({ status: 'done', rows: 2, links: { output: null, rejects: null } });
    expect((await api.call('GET', `/v1/scrubs/${String(other.headers['optline-scrub-id'])}/output`, undefined, tokens.supervisor)).statusCode).toBe(200);
  });

  it('takes a list of 0 rows', async () => {
    const r = await scrub('entityId=acme', 'id,phone\n');
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('id,phone,e164,allowed,basis,denials\n');
    expect(JSON.parse(String(r.headers['optline-scrub-summary']))).toMatchObject({ rows: 0, allowed: 0, denied: 0, invalid: 0 });
  });

  it('checks roles and entity scope', async () => {
    expect((await scrub('entityId=acme', 'phone\n', tokens.agent)).statusCode).toBe(403);
    expect((await scrub('entityId=acme', 'phone\n', tokens.compliance)).statusCode).toBe(403);
    expect((await scrub('entityId=other', 'phone\n', tokens.supervisor)).statusCode).toBe(403);
    expect((await scrub('entityId=acme', 'phone\n', 'nope')).statusCode).toBe(401);
    expect((await scrub('entityId=nobody', 'phone\n', ADMIN)).statusCode).toBe(422);
    const bad = await scrub('entityId=acme&at=yesterday', 'phone\n');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('lists recent scrubs of the key’s entities', async () => {
    await api.call('PUT', '/v1/entities/other', { name: 'OTHER', kind: 'company', country: 'NL' });
    const mine = await scrub('entityId=other', 'phone\n+31612345678\n', ADMIN);
    expect(mine.statusCode).toBe(200);
    const forSupervisor = (await api.call('GET', '/v1/scrubs', undefined, tokens.supervisor)).json() as Array<{ entityId: string; startedAt: string }>;
    expect(forSupervisor.length).toBeGreaterThan(0);
    expect(forSupervisor.every((s) => s.entityId === 'acme')).toBe(true);
    const sorted = [...forSupervisor].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    expect(forSupervisor.map((s) => s.startedAt)).toEqual(sorted.map((s) => s.startedAt));
    const forAdmin = (await api.call('GET', '/v1/scrubs?limit=100')).json() as Array<{ entityId: string }>;
    expect(forAdmin.some((s) => s.entityId === 'other')).toBe(true);
    const otherId = String(mine.headers['optline-scrub-id']);
    expect((await api.call('GET', `/v1/scrubs/${otherId}`, undefined, tokens.supervisor)).statusCode).toBe(404);
    expect((await api.call('GET', '/v1/scrubs?entityId=other', undefined, tokens.supervisor)).statusCode).toBe(403);
    const unknown = await api.call('GET', '/v1/scrubs?entityId=nobody');
    expect(unknown.statusCode, unknown.body).toBe(422);
    expect(unknown.json().errors).toEqual([{ path: 'entityId', message: 'unknown entity' }]);
    expect((await api.call('GET', '/v1/scrubs', undefined, tokens.agent)).statusCode).toBe(403);
  });
});

describe('a scrub waiting for its turn', () => {
  it('is on record (running) at once and does its work when its turn comes; one whose client went away stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-turn-'));
    try {
      writeFileSync(join(dir, 'list.csv'), 'phone\n+31612345678\n');
      let letGo!: () => void;
      const turn = new Promise<void>((res) => (letGo = res));
      let recorded = '';
      const job = runScrub(api.app, { entityId: 'acme', input: join(dir, 'list.csv'), output: join(dir, 'out.csv'), onStart: (id) => (recorded = id), waitTurn: () => turn });
      await new Promise((res) => setTimeout(res, 50));
      expect((await api.call('GET', `/v1/scrubs/${recorded}`, undefined, tokens.supervisor)).json()).toMatchObject({ status: 'running', rows: 0 });
      expect(existsSync(join(dir, 'out.csv'))).toBe(false);
      letGo();
      expect((await job).counts.rows).toBe(1);
      expect(readFileSync(join(dir, 'out.csv'), 'utf8')).toBe('phone,e164,allowed,basis,denials\n+31612345678,+31612345678,true,consent,\n');
      // Its client gone while it waited: the scrub ends failed, nothing written.
      const ctrl = new AbortController();
      const stopped = runScrub(api.app, { entityId: 'acme', input: join(dir, 'list.csv'), output: join(dir, 'out2.csv'), signal: ctrl.signal, waitTurn: async () => ctrl.abort() });
      await expect(stopped).rejects.toThrow();
      expect(existsSync(join(dir, 'out2.csv'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a running scrub's progress", () => {
  it('says how far a running scrub has read its list, that one waits for its turn, and nothing once they have ended', async () => {
    process.env.OPTLINE_SCRUBS_AT_ONCE = '1';
    try {
      const first = (await scrub('entityId=acme', LONG_LIST, tokens.supervisor, { prefer: 'respond-async' })).json() as { id: string };
      const short = 'phone\n+31612345678\n';
      const second = (await scrub('entityId=acme', short, tokens.supervisor, { prefer: 'respond-async' })).json() as { id: string; progress: unknown };
      // The one slot is the first's: the second has arrived and waits.
      expect(second.progress).toEqual({ waiting: true, bytes: 0, totalBytes: short.length, rows: 0 });
      const seen: Array<{ waiting: boolean; bytes: number; totalBytes: number; rows: number }> = [];
      let ended: Record<string, unknown> | null = null;
      for (let i = 0; i < 6000 && !ended; i++) {
        const r = (await api.call('GET', `/v1/scrubs/${first.id}`, undefined, tokens.supervisor)).json() as Record<string, unknown> & { progress: (typeof seen)[number] | null };
        if (r.status !== 'running') ended = r;
        else if (r.progress) seen.push(r.progress);
        if (!ended) await new Promise((res) => setTimeout(res, 10));
      }
      expect(ended).toMatchObject({ status: 'done', rows: 1_000_000, progress: null });
      // Under way: part of the list read, never more than it holds, and never backwards.
      const under = seen.filter((p) => p.bytes > 0 && p.bytes < p.totalBytes);
      expect(under.length).toBeGreaterThan(0);
      expect(under.every((p) => !p.waiting && p.totalBytes === LONG_LIST.length && p.rows > 0 && p.rows < 1_000_000)).toBe(true);
      expect(seen.every((p, k) => k === 0 || (p.bytes >= seen[k - 1]!.bytes && p.rows >= seen[k - 1]!.rows))).toBe(true);
      expect(await waitDone(second.id)).toMatchObject({ status: 'done', rows: 1, progress: null });
      // The recent list carries it too: none for ended scrubs.
      const recent = (await api.call('GET', '/v1/scrubs?entityId=acme', undefined, tokens.supervisor)).json() as Array<{ id: string; progress: unknown }>;
      expect(recent.find((s) => s.id === first.id)?.progress).toBeNull();
    } finally {
      delete process.env.OPTLINE_SCRUBS_AT_ONCE;
    }
  }, 120_000);
});

describe('DELETE /v1/scrubs/{id}', () => {
  it('cancels a scrub waiting for its turn or running: no output, failed (cancelled); an ended one is 409', async () => {
    process.env.OPTLINE_SCRUBS_AT_ONCE = '1';
    try {
      // A list long enough to hold the one slot while the next waits behind it.
      const first = (await scrub('entityId=acme', LONG_LIST, tokens.supervisor, { prefer: 'respond-async' })).json() as { id: string };
      const second = (await scrub('entityId=acme', 'phone\n+31612345678\n', tokens.supervisor, { prefer: 'respond-async' })).json() as { id: string };
      // An agent may not; then the waiting one, then the running one.
      expect((await api.call('DELETE', `/v1/scrubs/${second.id}`, undefined, tokens.agent)).statusCode).toBe(403);
      for (const id of [second.id, first.id]) {
        const r = await api.call('DELETE', `/v1/scrubs/${id}`, undefined, tokens.supervisor);
        expect(r.statusCode, r.body).toBe(200);
        expect(r.json()).toMatchObject({ id, status: 'failed', error: expect.stringMatching(/^Cancelled\b.*no output was written/), links: { output: null } });
        expect((await api.call('GET', `/v1/scrubs/${id}/output`, undefined, tokens.supervisor)).statusCode).toBe(409);
      }
      const again = await api.call('DELETE', `/v1/scrubs/${first.id}`, undefined, tokens.supervisor);
      expect(again.statusCode).toBe(409);
      expect(again.json().detail).toMatch(/has ended \(failed\)/);
    } finally {
      delete process.env.OPTLINE_SCRUBS_AT_ONCE;
    }
  });
});

describe('what the list\'s columns tell', () => {
  it('names other columns that look like phone numbers (only one is checked), and a list scrubbed before, in the record and the summary', async () => {
    const r = await scrub('entityId=acme', 'Name,Mobile,Phone\nAnna,+31612345679,+31612345678\n');
    expect(r.statusCode, r.body).toBe(200);
    expect(JSON.parse(String(r.headers['optline-scrub-summary']))).toMatchObject({ otherPhoneColumns: ['Mobile'], scrubbedBefore: false });
    const record = (await api.call('GET', String(r.headers.location), undefined, tokens.supervisor)).json();
    expect(record).toMatchObject({ phoneColumn: 'Phone', otherPhoneColumns: ['Mobile'], scrubbedBefore: false });
    // Named, the column is the caller's choice: nothing to say.
    const named = await scrub('entityId=acme&phoneColumn=Mobile', 'Name,Mobile,Phone\nAnna,+31612345679,+31612345678\n');
    expect((await api.call('GET', String(named.headers.location), undefined, tokens.supervisor)).json()).toMatchObject({ phoneColumn: 'Mobile', otherPhoneColumns: [], scrubbedBefore: false });
    // Its own output checked again.
    const again = await scrub('entityId=acme', r.body);
    expect((await api.call('GET', String(again.headers.location), undefined, tokens.supervisor)).json()).toMatchObject({ scrubbedBefore: true, otherPhoneColumns: ['Mobile'] });
  });
});

describe('a scrub in a server', () => {
  it('gives the event loop a turn between chunks, so that other requests are answered meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-share-'));
    try {
      // About 1.4 MB: a dozen chunks of a server's scrub.
      writeFileSync(join(dir, 'list.csv'), 'id;name;phone\n' + Array.from({ length: 40_000 }, (_, i) => `${i};Person ${i};06 ${String(12_000_000 + i).padStart(8, '0')}`).join('\n') + '\n');
      let turns = 0;
      let ticking = true;
      const tick = () => {
        turns++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      const seen: number[] = [];
      const r = await runScrub(api.app, { entityId: 'acme', input: join(dir, 'list.csv'), output: join(dir, 'out.csv'), workers: 0, keepThreadFree: true, onProgress: () => seen.push(turns) });
      ticking = false;
      expect(r.counts.rows).toBe(40_000);
      expect(seen.length).toBeGreaterThan(5);
      // Between any two chunks the loop turned: a check or an upload sent meanwhile was not held up.
      for (let i = 1; i < seen.length; i++) expect(seen[i]!, `chunk ${i}`).toBeGreaterThan(seen[i - 1]!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scrub slots', () => {
  it('are taken in line order; a place is reserved before the list arrives, so an arrived list is never refused', async () => {
    const slots = new Slots(() => 2, () => 2);
    const a = await slots.reserve().take();
    const b = await slots.reserve().take();
    expect([slots.running, slots.queued, slots.full]).toEqual([2, 0, false]);
    // Two lists arriving fill the line: a third is refused before its upload, with the status a server answers.
    const arriving = slots.reserve();
    const late = slots.reserve();
    expect(slots.full).toBe(true);
    expect(() => slots.reserve()).toThrow(expect.objectContaining({ statusCode: 429 }));
    late.cancel(); // its upload failed: the place is free again
    late.cancel(); // given up twice: counts once
    expect(slots.queued).toBe(1);
    const order: string[] = [];
    const c = arriving.take().then((release) => (order.push('c'), release));
    // One whose client went away while it waited leaves the line.
    const ctrl = new AbortController();
    const leaving = slots.reserve().take(ctrl.signal);
    expect(slots.queued).toBe(2);
    ctrl.abort();
    await expect(leaving).rejects.toThrow();
    expect(slots.queued).toBe(1);
    a();
    a(); // given back twice: counts once
    const releaseC = await c;
    expect(order).toEqual(['c']);
    expect([slots.running, slots.queued, slots.full]).toEqual([2, 0, false]);
    b();
    releaseC();
    expect(slots.running).toBe(0);
  });
});


describe('a scrub whose process was killed', () => {
  it('is said to have failed, not to run for ever, and its upload and partial output are deleted at the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-killed-scrub-'));
    const db = join(dir, 'optline.db');
    const scrubDir = `${db}.scrubs`;
    const longAgo = Date.now() - 10 * 60_000;
    // What `kill -9` during a scrub leaves: a record saying "running", the list, a partial output.
    const before = await Store.open(db);
    const app = await Optline.open(before);
    await app.putEntity('acme', { name: 'Acme', kind: 'company', country: 'NL' });
    const killed = newId();
    await new ScrubStore(before).start({ id: killed, entityId: 'acme', keyId: null, at: longAgo, productCategory: null, autodialed: false, prerecorded: false, lineType: null, subscriberType: 'consumer', inputName: 'leads.csv', startedAt: longAgo, rulesVersion: 'x' });
    mkdirSync(scrubDir);
    const left = [`${killed}.upload.csv`, `.${killed}.csv.999999.abc.tmp`, `.${killed}.rejects.csv.999999.abd.tmp`].map((n) => join(scrubDir, n));
    for (const f of left) {
      writeFileSync(f, 'phone\n+31612345671\n');
      utimesSync(f, new Date(longAgo), new Date(longAgo));
    }
    // A list still arriving (another server's, written just now) has no record yet: it stays.
    const arriving = join(scrubDir, `${newId()}.upload.csv`);
    writeFileSync(arriving, 'phone\n');
    await app.close();
    await before.close();

    const server = await startApi({ db });
    try {
      const r = (await server.call('GET', `/v1/scrubs/${killed}`)).json();
      expect(r).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted: the process running the scrub stopped/) });
      expect(left.filter((f) => existsSync(f))).toEqual([]);
      expect(existsSync(arriving)).toBe(true);
      // Recorded so, not only read so.
      const row = await sql<{ status: string }>`select status from scrubs where id = ${killed}`.execute(server.app.store.db);
      expect(row.rows).toEqual([{ status: 'failed' }]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the outputs of finished scrubs, also for a store named by a relative path (as npm start names it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-relative-'));
    const cwd = process.cwd();
    process.chdir(dir);
    const server = await startApi({ db: './data/optline.db' });
    try {
      await server.call('PUT', '/v1/entities/acme', { name: 'Acme', kind: 'company', country: 'NL' });
      const done = await server.server.inject({ method: 'POST', url: '/v1/scrubs?entityId=acme', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' }, payload: 'phone\n+31612345671\n' });
      expect(done.statusCode, done.body).toBe(200);
      const id = String(done.headers['optline-scrub-id']);
      // Old enough to be a leftover by its time, were it not a recorded output.
      for (const f of readdirSync(join(dir, 'data', 'optline.db.scrubs'))) utimesSync(join(dir, 'data', 'optline.db.scrubs', f), new Date(0), new Date(0));
      // The next list sent clears leftovers: the finished scrub's output must stay.
      await server.server.inject({ method: 'POST', url: '/v1/scrubs?entityId=acme', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' }, payload: 'phone\n+31612345672\n' });
      expect((await server.call('GET', `/v1/scrubs/${id}/output`)).statusCode).toBe(200);
    } finally {
      await server.close();
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps finished outputs when another server reaches the same directory by another path (a link, another mount)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-two-paths-'));
    const db = join(dir, 'optline.db');
    const a = await startApi({ db });
    const b = { server: null as TestApi | null };
    try {
      await a.call('PUT', '/v1/entities/acme', { name: 'Acme', kind: 'company', country: 'NL' });
      const done = await a.server.inject({ method: 'POST', url: '/v1/scrubs?entityId=acme', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' }, payload: 'phone\n+31612345671\n' });
      const id = String(done.headers['optline-scrub-id']);
      for (const f of readdirSync(`${db}.scrubs`)) utimesSync(join(`${db}.scrubs`, f), new Date(0), new Date(0));
      symlinkSync(`${db}.scrubs`, join(dir, 'link'));
      process.env.OPTLINE_SCRUBS_DIR = join(dir, 'link');
      b.server = await startApi({ db }); // clears leftovers at start, in the directory as it names it
      delete process.env.OPTLINE_SCRUBS_DIR;
      expect((await a.call('GET', `/v1/scrubs/${id}/output`)).statusCode).toBe(200);
    } finally {
      delete process.env.OPTLINE_SCRUBS_DIR;
      await b.server?.close();
      await a.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads as failed once its process stops saying it runs, before anything cleans up', async () => {
    const stale = newId();
    const longAgo = Date.now() - 10 * 60_000;
    await new ScrubStore(api.app.store).start({ id: stale, entityId: 'acme', keyId: null, at: longAgo, productCategory: null, autodialed: false, prerecorded: false, lineType: null, subscriberType: 'consumer', inputName: null, startedAt: longAgo, rulesVersion: 'x' });
    expect((await api.call('GET', `/v1/scrubs/${stale}`)).json()).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted/) });
    // So in the list too (the dashboard's recent scrubs).
    const listed = (await api.call('GET', '/v1/scrubs?entityId=acme')).json() as { items?: Array<{ id: string; status: string }> } | Array<{ id: string; status: string }>;
    const items = Array.isArray(listed) ? listed : (listed.items ?? []);
    expect(items.find((x) => x.id === stale)?.status).toBe('failed');
    const fresh = newId();
    await new ScrubStore(api.app.store).start({ id: fresh, entityId: 'acme', keyId: null, at: Date.now(), productCategory: null, autodialed: false, prerecorded: false, lineType: null, subscriberType: 'consumer', inputName: null, startedAt: Date.now(), rulesVersion: 'x' });
    expect((await api.call('GET', `/v1/scrubs/${fresh}`)).json()).toMatchObject({ status: 'running' });
  });
});
