/**
 * Data-subject erasure: the person's rows are redacted in place, the refusal they carried survives
 * as a hashed suppression entry, decisions afterwards still refuse, and the hash chain still
 * verifies while tampering elsewhere is still found.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApi, ADMIN, type TestApi } from './helpers/api.js';
import { freshDb, storeNames } from './helpers/stores.js';
import { contentDigest } from '../src/store/chain.js';

const NOW = Date.parse('2026-11-27T10:00:00Z');
const NL_OBJ = '+31612340101';
const NL_CONSENT = '+31612340102';
const NL_OTHER = '+31612340103';
const GB_WITHDRAWN = '+447400123456';
const GB_NOTHING = '+447700123456';
const DE = '+4915112345678';

describe.each(storeNames())('erasure on %s', (storeName) => {
  let api: TestApi;
  let now = NOW;
  let compliance = '';
  let agent = '';
  const ids: Record<string, string> = {};

  const post = async (url: string, body: unknown, token?: string) => {
    const r = await api.call('POST', url, body, token);
    expect(r.statusCode, r.body).toBeLessThan(300);
    return r.json();
  };
  const decide = (entityId: string, phone: string, extra: Record<string, unknown> = {}) => post('/v1/decisions', { entityId, phone, ...extra });
  const erase = async (body: Record<string, unknown>, token?: string) => {
    const r = await api.call('POST', '/v1/erasures', body, token);
    expect(r.statusCode, r.body).toBe(201);
    return r.json();
  };
  const consent = (entityId: string, phone: string, at: string, extra: Record<string, unknown> = {}) =>
    post('/v1/consents', { entityId, phone, at, channel: 'phone', status: 'granted', source: { method: 'agent_call', agentId: 'a7', callId: 'k9', wording: 'Ja, bel mij.', verifiedAt: at }, ...extra });

  beforeEach(async () => {
    now = NOW;
    api = await startApi({ db: await freshDb(storeName), clock: () => now });
    for (const [id, body] of Object.entries({
      tulp: { name: 'Tulp Energie B.V.', kind: 'company', country: 'NL' },
      roos: { name: 'Roos Verzekeringen B.V.', kind: 'company', country: 'NL' },
      thames: { name: 'Thames Power Ltd', kind: 'company', country: 'GB' },
      kraft: { name: 'Kraftwerk GmbH', kind: 'company', country: 'DE' },
    })) {
      expect((await api.call('PUT', `/v1/entities/${id}`, body)).statusCode).toBe(201);
    }
    compliance = (await post('/v1/keys', { role: 'compliance', entityIds: ['tulp', 'thames', 'kraft'] })).token;
    agent = (await post('/v1/keys', { role: 'agent', entityIds: ['tulp', 'roos', 'thames', 'kraft'] })).token;
    const tps = await api.server.inject({ method: 'PUT', url: '/v1/registers/gb-tps?country=GB&asOf=2026-11-20', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv' }, payload: '+442079460000\n' });
    expect(tps.statusCode, tps.body).toBe(200);

    ids.objConsent = (await consent('tulp', NL_OBJ, '2025-01-10T10:00:00Z')).id;
    ids.objection = (await post('/v1/objections', { entityId: 'tulp', phone: NL_OBJ, at: '2025-03-01T10:00:00Z' })).id;
    ids.consent = (await consent('tulp', NL_CONSENT, '2025-09-01T10:00:00Z')).id;
    const d = await decide('tulp', NL_CONSENT, { at: '2025-10-01T10:00:00Z' });
    ids.call = (await post('/v1/calls', { entityId: 'tulp', phone: NL_CONSENT, at: '2025-10-01T10:00:00Z', decisionId: d.decisionId })).id;
    ids.roos = (await consent('roos', NL_CONSENT, '2025-09-02T10:00:00Z')).id;
    ids.other = (await consent('tulp', NL_OTHER, '2025-09-03T10:00:00Z')).id;
    ids.gbConsent = (await consent('thames', GB_WITHDRAWN, '2025-02-01T10:00:00Z')).id;
    ids.gbWithdrawal = (await post('/v1/consents', { entityId: 'thames', phone: GB_WITHDRAWN, at: '2025-05-01T10:00:00Z', channel: 'phone', status: 'withdrawn' })).id;
  });
  afterEach(async () => api.close());

  it('keeps an objected number refused after its data is erased', async () => {
    expect((await decide('tulp', NL_OBJ)).denials).toContain('objected');
    const r = await erase({ phone: NL_OBJ, entityId: 'tulp', suppress: false, reference: 'DSR-2026-117' }, compliance);
    expect(r.phone).toBe('+31*******01');
    expect(r.entities).toEqual([expect.objectContaining({ entityId: 'tulp', events: 2, decisions: 1, held: [] })]);
    expect(r.entities[0].suppressions).toEqual([expect.objectContaining({ reason: 'objection', at: '2025-03-01T10:00:00.000Z' })]);
    const after = await decide('tulp', NL_OBJ);
    expect(after.allowed).toBe(false);
    expect(after.denials).toContain('objected');
    expect(after.reasons.find((x: { code: string }) => x.code === 'objected')).toMatchObject({ rule: 'NL-8' });
    // Nothing of the person is left in the event log; the history says an erasure happened.
    expect((await api.call('GET', `/v1/numbers/${encodeURIComponent(NL_OBJ)}/history`)).json().events).toEqual([]);
    const rows = await api.app.store.db.selectFrom('events').selectAll().where('id', 'in', [ids.objConsent!, ids.objection!]).execute();
    for (const row of rows) expect(row).toMatchObject({ phone: null, email: null, payload: '{"erased":true}', erased_at: new Date(NOW).toISOString() });
    const recorded = await api.app.store.db.selectFrom('events').selectAll().where('id', 'in', r.entities[0].recordedAs).execute();
    expect(recorded[0]).toMatchObject({ type: 'erasure', entity_id: 'tulp', phone: null });
    expect(JSON.parse(recorded[0]!.payload)).toMatchObject({ request: r.erasureId, reference: 'DSR-2026-117', erased: [ids.objConsent, ids.objection].sort() });
    // The suppression list holds a hash, not the number.
    const dump = JSON.stringify(await api.app.store.db.selectFrom('suppressions').selectAll().execute()) + JSON.stringify(recorded);
    expect(dump).not.toContain('612340101');
  });

  it('leaves no digest of the erased number that a guess could be checked against', async () => {
    // A write retried with an Idempotency-Key keeps a digest of its request, number included.
    const keyed = await api.server.inject({
      method: 'POST',
      url: '/v1/objections',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'idempotency-key': 'dialer-7781' },
      payload: JSON.stringify({ entityId: 'tulp', phone: NL_OTHER, at: '2025-09-04T10:00:00Z' }),
    });
    expect(keyed.statusCode, keyed.body).toBe(201);
    const objection = keyed.json().id as string;
    const before = await api.app.store.db.selectFrom('events').selectAll().where('id', '=', objection).executeTakeFirstOrThrow();
    expect(before.salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await api.app.store.db.selectFrom('idempotency').selectAll().where('key', '=', 'dialer-7781').execute()).toHaveLength(1);

    // The erasure itself, sent with a key of its own: its kept fingerprint is keyed by the pepper.
    const body = JSON.stringify({ phone: NL_OTHER, entityId: 'tulp' });
    const erasure = () =>
      api.server.inject({ method: 'POST', url: '/v1/erasures', headers: { authorization: `Bearer ${compliance}`, 'content-type': 'application/json', 'idempotency-key': 'dsr-44' }, payload: body });
    const first = await erasure();
    expect(first.statusCode, first.body).toBe(201);
    const kept = await api.app.store.db.selectFrom('idempotency').selectAll().where('key', '=', 'dsr-44').executeTakeFirstOrThrow();
    const plain = createHash('sha256').update('POST /v1/erasures\n').update(JSON.stringify(JSON.parse(body))).digest('hex');
    expect(kept.request_hash).not.toBe(plain);
    // A retry is still answered from the kept answer.
    const again = await erasure();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().erasureId).toBe(first.json().erasureId);
    const row = await api.app.store.db.selectFrom('events').selectAll().where('id', '=', objection).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ phone: null, salt: null, content_hash: before.content_hash });
    // The right guess, with everything else the row still shows, does not give its digest.
    expect(contentDigest({ ...row, phone: NL_OTHER, payload: before.payload })).not.toBe(row.content_hash);
    expect(contentDigest({ ...row, phone: NL_OTHER, payload: before.payload, salt: before.salt })).toBe(row.content_hash); // the salt was what made it
    expect(await api.app.store.db.selectFrom('idempotency').selectAll().where('key', '=', 'dialer-7781').execute()).toEqual([]);
    expect((await api.app.store.verifyHistory()).ok).toBe(true);
  });

  it('answers a retry of an erased write 410 instead of recording the person again', async () => {
    const send = () =>
      api.server.inject({
        method: 'POST',
        url: '/v1/consents',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'idempotency-key': `crm-sync-${NL_OTHER}` },
        payload: JSON.stringify({ entityId: 'tulp', phone: NL_OTHER, at: '2025-09-05T10:00:00Z', channel: 'phone', status: 'granted', source: { method: 'web_form' } }),
      });
    expect((await send()).statusCode).toBe(201);
    await erase({ phone: NL_OTHER, entityId: 'tulp' }, compliance);
    const late = await send();
    expect(late.statusCode, late.body).toBe(410);
    expect(late.headers['content-type']).toContain('application/problem+json');
    expect(late.json()).toMatchObject({ title: 'Gone', errors: [{ path: 'Idempotency-Key', message: 'erased' }] });
    expect(await api.app.store.db.selectFrom('events').select('id').where('phone', '=', NL_OTHER).where('erased_at', 'is', null).execute()).toEqual([]);
    // The key, which holds the number here, is not kept in the clear.
    const kept = await api.app.store.db.selectFrom('idempotency').select('key').execute();
    expect(kept.map((k) => k.key).join(' ')).not.toContain('612340103');
    // Nor does the same record under a new key (a CRM that syncs its old records again): the
    // erased person's data is refused, saying why; a record dated on the erasure's moment too.
    for (const at of ['2025-09-05T10:00:00Z', new Date(NOW).toISOString()]) {
      const resent = await api.call('POST', '/v1/consents', { entityId: 'tulp', phone: NL_OTHER, at, channel: 'phone', status: 'granted', source: { method: 'web_form' } });
      expect(resent.statusCode, resent.body).toBe(422);
      expect(resent.json()).toMatchObject({ errors: [{ path: 'at', message: `on or before the erasure of this number at ${new Date(NOW).toISOString()}` }] });
      expect(resent.json().detail).toMatch(/^This number was erased at its holder's request for tulp at .*: a record dated on or before then is the erased person's data and is not recorded again\./);
    }
    const objection = await api.call('POST', '/v1/objections', { entityId: 'tulp', phone: NL_OTHER, at: '2026-01-01T10:00:00Z' });
    expect(objection.statusCode, objection.body).toBe(422);
    expect(await api.app.store.db.selectFrom('events').select('id').where('phone', '=', NL_OTHER).where('erased_at', 'is', null).execute()).toEqual([]);
    // Another caller's records are not this erasure's business.
    const roos = await api.call('POST', '/v1/consents', { entityId: 'roos', phone: NL_OTHER, at: '2025-09-05T10:00:00Z', channel: 'phone', status: 'granted', source: { method: 'web_form' } });
    expect(roos.statusCode, roos.body).toBe(201);
    // The person may give consent again: a consent given after the erasure is recorded.
    now = NOW + 2 * 3_600_000;
    const again = await api.call('POST', '/v1/consents', { entityId: 'tulp', phone: NL_OTHER, at: new Date(NOW + 3_600_000).toISOString(), channel: 'phone', status: 'granted', source: { method: 'web_form' } });
    expect(again.statusCode, again.body).toBe(201);
  });

  it('shows an erased row given data again, and keeps it out of decisions', async () => {
    await erase({ phone: NL_CONSENT, entityId: 'tulp', suppress: false }, compliance);
    const row = await api.app.store.db.selectFrom('events').selectAll().where('id', '=', ids.consent!).executeTakeFirstOrThrow();
    const other = await api.app.store.db.selectFrom('events').select('payload').where('id', '=', ids.other!).executeTakeFirstOrThrow();
    // Turned into a consent for another number: not checked against its digest any more, but seen.
    await api.app.store.db.updateTable('events').set({ phone: NL_OBJ, payload: other.payload }).where('id', '=', row.id).execute();
    const v = await api.app.store.verifyHistory();
    expect(v.problems).toEqual([expect.objectContaining({ chain: 'tulp', eventId: row.id, problem: 'changed' })]);
    expect((await api.app.store.history(NL_OBJ)).events.map((e) => e.id)).not.toContain(row.id);
  });

  it('leaves a consent-only number no longer allowed', async () => {
    expect(await decide('tulp', NL_CONSENT)).toMatchObject({ allowed: true, basis: 'consent' });
    await erase({ phone: NL_CONSENT, entityId: 'tulp' }, compliance);
    const after = await decide('tulp', NL_CONSENT);
    expect(after.allowed).toBe(false);
    // By default the request itself is kept as a refusal to be called.
    expect(after.denials).toEqual(['objected']);
    // Another entity's consent for the same number was not the request's to erase.
    expect(await decide('roos', NL_CONSENT)).toMatchObject({ allowed: true, basis: 'consent' });
    expect((await api.app.store.history(NL_CONSENT)).events.map((e) => e.id)).toEqual([ids.roos]);
  });

  it('without suppression a consent-only number falls back to having no basis', async () => {
    await erase({ phone: NL_OTHER, entityId: 'tulp', suppress: false }, compliance);
    expect(await decide('tulp', NL_OTHER)).toMatchObject({ allowed: false, denials: ['no_basis'] });
    expect(await api.app.store.db.selectFrom('suppressions').selectAll().execute()).toEqual([]);
  });

  it('keeps a withdrawal in force where it is a do-not-call request (GB)', async () => {
    expect(await decide('thames', GB_NOTHING)).toMatchObject({ allowed: true, basis: 'opt_out_regime' });
    expect((await decide('thames', GB_WITHDRAWN)).denials).toContain('objected');
    const r = await erase({ phone: GB_WITHDRAWN, suppress: false }, compliance);
    expect(r.entities.map((e: { entityId: string }) => e.entityId)).toEqual(['thames']);
    expect(r.entities[0].suppressions.map((s: { reason: string }) => s.reason)).toEqual(['withdrawal']);
    const after = await decide('thames', GB_WITHDRAWN);
    expect(after).toMatchObject({ allowed: false, denials: ['objected'] });
    expect(after.reasons.find((x: { code: string }) => x.code === 'objected')).toMatchObject({ rule: 'GB-3' });
  });

  it('erasing an e-mail address keeps the number on its withdrawals and objections refused', async () => {
    const phone = '+31612340177';
    await consent('tulp', phone, '2025-09-01T10:00:00Z');
    await post('/v1/consents', { entityId: 'tulp', phone, email: 'wd.person@example.org', at: '2025-10-01T10:00:00Z', channel: 'phone', status: 'withdrawn' });
    expect((await decide('tulp', phone)).allowed).toBe(false);
    const r = await erase({ email: 'wd.person@example.org' }, compliance);
    expect(r.entities[0].suppressions.map((x: { reason: string }) => x.reason)).toEqual(['withdrawal']);
    // The withdrawal's data is gone, its "do not call" is not.
    expect(await decide('tulp', phone)).toMatchObject({ allowed: false });
  });

  it('erases an e-mail address however its letters were cased', async () => {
    await post('/v1/consents', { entityId: 'tulp', email: 'Anna.B@Example.org', at: '2025-10-01T10:00:00Z', channel: 'email', status: 'granted' });
    const r = await erase({ email: 'ANNA.B@example.org' }, compliance);
    expect(r.entities.map((e: { entityId: string; events: number }) => [e.entityId, e.events])).toEqual([['tulp', 1]]);
    expect(await api.app.store.db.selectFrom('events').select('id').where('email', '=', 'Anna.B@Example.org').execute()).toEqual([]);
  });

  it('gives bulk paths the same suppression facts, many numbers at a time', async () => {
    await erase({ phone: NL_OBJ, entityId: 'tulp', suppress: false }, compliance);
    await erase({ phone: GB_WITHDRAWN, entityId: 'thames', suppress: false }, compliance);
    const many = await api.app.suppressions.factsForMany([NL_OBJ, GB_WITHDRAWN, NL_OTHER]);
    expect([...many.keys()].sort()).toEqual([GB_WITHDRAWN, NL_OBJ].sort());
    expect(many.get(NL_OBJ)).toEqual(await api.app.suppressions.factsFor(NL_OBJ));
    expect(many.get(NL_OBJ)).toEqual([expect.objectContaining({ type: 'objection', entityId: 'tulp', at: Date.parse('2025-03-01T10:00:00Z') })]);
    expect(many.get(GB_WITHDRAWN)).toEqual([expect.objectContaining({ type: 'consent', status: 'withdrawn', channel: 'phone', entityId: 'thames' })]);
  });

  it('lets the person\'s own newer consent count again', async () => {
    await erase({ phone: NL_OBJ, entityId: 'tulp' }, compliance);
    now = NOW + 86_400_000;
    await consent('tulp', NL_OBJ, new Date(now).toISOString());
    expect(await decide('tulp', NL_OBJ)).toMatchObject({ allowed: true, basis: 'consent' });
  });

  it('finds a do-not-call entry deleted, edited or added by hand: the history names the entries its erasures made', async () => {
    const r = await erase({ phone: NL_OBJ, entityId: 'tulp', suppress: false }, compliance);
    const entry = r.entities[0].suppressions[0];
    const erasureEvent = (await api.app.store.db.selectFrom('events').select('id').where('type', '=', 'erasure').where('entity_id', '=', 'tulp').executeTakeFirstOrThrow()).id;
    expect(await api.app.store.verifyHistory('tulp')).toMatchObject({ ok: true });
    const db = api.app.store.db;
    const row = await db.selectFrom('suppressions').selectAll().where('entity_id', '=', 'tulp').executeTakeFirstOrThrow();
    expect(row.id).toBe(entry.id);

    // Deleted: the number would be called again.
    await db.deleteFrom('suppressions').where('id', '=', row.id).execute();
    expect((await decide('tulp', NL_OBJ)).denials).not.toContain('objected'); // the person's objection is forgotten
    let v = await api.app.store.verifyHistory('tulp');
    expect(v.problems).toEqual([expect.objectContaining({ chain: 'tulp', eventId: erasureEvent, problem: 'removed' })]);
    expect(v.problems[0].detail).toContain(row.id);
    expect((await api.call('GET', '/v1/audit/verify', undefined, compliance)).json()).toMatchObject({ ok: false });

    // Put back, then edited: the objection made to apply from a later date.
    await db.insertInto('suppressions').values(row).execute();
    expect(await api.app.store.verifyHistory('tulp')).toMatchObject({ ok: true });
    await db.updateTable('suppressions').set({ at: '2030-01-01T00:00:00.000Z' }).where('id', '=', row.id).execute();
    v = await api.app.store.verifyHistory('tulp');
    expect(v.problems).toEqual([expect.objectContaining({ eventId: erasureEvent, problem: 'changed' })]);
    await db.updateTable('suppressions').set({ at: row.at }).where('id', '=', row.id).execute();

    // An entry no erasure made.
    await db.insertInto('suppressions').values({ ...row, id: 'hand-made', event_id: null }).execute();
    v = await api.app.store.verifyHistory('tulp');
    expect(v.problems).toEqual([expect.objectContaining({ problem: 'inserted' })]);
    expect(v.problems[0].detail).toContain('hand-made');
  });

  it('leaves the hash chain verifiable and still finds tampering elsewhere', async () => {
    await erase({ phone: NL_OBJ, entityId: 'tulp' }, compliance);
    expect(await api.app.store.verifyHistory()).toMatchObject({ ok: true, problems: [] });
    expect((await api.call('GET', '/v1/audit/verify', undefined, compliance)).json()).toMatchObject({ ok: true });

    // Editing an event that was not erased is still found.
    await api.app.store.db.updateTable('events').set({ at: '2020-01-01T00:00:00.000Z' }).where('id', '=', ids.consent!).execute();
    let v = await api.app.store.verifyHistory('tulp');
    expect(v.problems).toEqual([expect.objectContaining({ chain: 'tulp', eventId: ids.consent, problem: 'changed' })]);
    await api.app.store.db.updateTable('events').set({ at: '2025-09-01T10:00:00.000Z' }).where('id', '=', ids.consent!).execute();
    expect((await api.app.store.verifyHistory('tulp')).ok).toBe(true);

    // Marking a row erased by hand (to hide an edit) is found: no erasure names it.
    await api.app.store.db.updateTable('events').set({ erased_at: new Date(NOW).toISOString(), payload: '{"erased":true}' }).where('id', '=', ids.other!).execute();
    v = await api.app.store.verifyHistory('tulp');
    expect(v.problems).toEqual([expect.objectContaining({ eventId: ids.other, problem: 'changed' })]);
    expect(v.problems[0]!.detail).toContain('no erasure');
  });

  it('still checks what an erased row keeps: its type, times and key', async () => {
    await erase({ phone: NL_OBJ, entityId: 'tulp' }, compliance);
    const erased = await api.app.store.db.selectFrom('events').selectAll().where('id', '=', ids.objection!).executeTakeFirstOrThrow();
    expect(erased).toMatchObject({ phone: null, salt: null, personal_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const edits: Array<Record<string, string | null>> = [
      { type: 'consent' }, // an objection turned into a consent
      { at: '2024-01-01T10:00:00.000Z' }, // moved back in time
      { recorded_at: '2025-03-01T10:00:00.000Z' },
      { key_id: 'forged-key' },
      { personal_hash: createHash('sha256').update('x').digest('hex') },
      { personal_hash: null }, // made to look like a row from before the personal digest
    ];
    for (const edit of edits) {
      await api.app.store.db.updateTable('events').set(edit).where('id', '=', erased.id).execute();
      const v = await api.app.store.verifyHistory('tulp');
      expect(v.problems, JSON.stringify(edit)).toEqual([expect.objectContaining({ eventId: erased.id, problem: 'changed' })]);
      const { type, at, recorded_at, key_id, personal_hash } = erased;
      await api.app.store.db.updateTable('events').set({ type, at, recorded_at, key_id, personal_hash }).where('id', '=', erased.id).execute();
    }
    expect((await api.app.store.verifyHistory('tulp')).ok).toBe(true);
  });

  it('erases an event of the person written while the erasure was being planned', async () => {
    // Between reading the person's rows and erasing them, a dialer records another consent.
    const suppressions = api.app.suppressions;
    const row = suppressions.row.bind(suppressions);
    let written: string | null = null;
    suppressions.row = (async (...args: Parameters<typeof row>) => {
      if (!written) {
        written = (await consent('tulp', NL_CONSENT, '2025-10-02T10:00:00Z')).id as string;
        await decide('tulp', NL_CONSENT); // and a decision is logged about the number
        await api.app.decisions.flush();
      }
      return row(...args);
    }) as typeof row;
    try {
      const r = await erase({ phone: NL_CONSENT, entityId: 'tulp' }, compliance);
      expect(written).not.toBeNull();
      expect(r.entities[0].events).toBe(3); // the consent, the call and the one written meanwhile
    } finally {
      suppressions.row = row;
    }
    const left = await api.app.store.db.selectFrom('events').select(['id', 'phone']).where('entity_id', '=', 'tulp').where('phone', '=', NL_CONSENT).where('erased_at', 'is', null).execute();
    expect(left).toEqual([]);
    expect(await api.app.store.db.selectFrom('decisions').select('id').where('entity_id', '=', 'tulp').where('phone', '=', NL_CONSENT).execute()).toEqual([]);
    expect((await api.app.store.verifyHistory('tulp')).ok).toBe(true);
  });

  it('redacts a decision about the number logged while the erasure ran', async () => {
    const log = api.app.decisions;
    const flush = log.flush.bind(log);
    let calls = 0;
    log.flush = (async () => {
      // Past the redaction, before the sweep: a dialer's look-up is answered and logged.
      if (++calls === 2) await decide('tulp', NL_CONSENT);
      return flush();
    }) as typeof flush;
    try {
      await erase({ phone: NL_CONSENT, entityId: 'tulp' }, compliance);
    } finally {
      log.flush = flush;
    }
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(await api.app.store.db.selectFrom('decisions').select('id').where('entity_id', '=', 'tulp').where('phone', '=', NL_CONSENT).execute()).toEqual([]);
  });

  it('says which entities it erased when another keeps getting new events, and keeps those erased', async () => {
    const suppressions = api.app.suppressions;
    const row = suppressions.row.bind(suppressions);
    let n = 0;
    suppressions.row = (async (...args: Parameters<typeof row>) => {
      // Every time Roos's part is about to be erased, Roos records another consent.
      if (args[1] === 'roos') await consent('roos', NL_CONSENT, `2025-10-0${++n}T10:00:00Z`);
      return row(...args);
    }) as typeof row;
    try {
      const r = await api.call('POST', '/v1/erasures', { phone: NL_CONSENT });
      expect(r.statusCode, r.body).toBe(409);
      expect(r.json().detail).toBe('Events of this person keep being recorded for roos while the erasure runs; nothing was erased for it (it is done for tulp). Send the request again.');
    } finally {
      suppressions.row = row;
    }
    const left = await api.app.store.db.selectFrom('events').select(['entity_id']).where('phone', '=', NL_CONSENT).where('erased_at', 'is', null).execute();
    expect(new Set(left.map((x) => x.entity_id))).toEqual(new Set(['roos']));
    // Sent again, it finishes.
    expect((await api.call('POST', '/v1/erasures', { phone: NL_CONSENT })).statusCode).toBe(201);
    expect(await api.app.store.db.selectFrom('events').select('id').where('phone', '=', NL_CONSENT).where('erased_at', 'is', null).execute()).toEqual([]);
  });

  it('finds an edited erasure record', async () => {
    const r = await erase({ phone: NL_OBJ, entityId: 'tulp' }, compliance);
    const id = r.entities[0].recordedAs[0];
    const row = await api.app.store.db.selectFrom('events').select('payload').where('id', '=', id).executeTakeFirstOrThrow();
    await api.app.store.db.updateTable('events').set({ payload: row.payload.replace('"erased":[', `"erased":["${ids.other}",`) }).where('id', '=', id).execute();
    const v = await api.app.store.verifyHistory('tulp');
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toMatchObject({ eventId: id, problem: 'changed' });
  });

  it('redacts the decisions about the number and the replayable answers that quote it', async () => {
    const d = await api.server.inject({
      method: 'POST',
      url: '/v1/decisions',
      headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json', 'idempotency-key': 'dialer-1' },
      payload: JSON.stringify({ entityId: 'tulp', phone: NL_CONSENT }),
    });
    expect(d.statusCode).toBe(200);
    const decisionId = d.json().decisionId;
    await api.app.decisions.flush();
    const quoting = async () => (await api.app.store.db.selectFrom('idempotency').select('body').execute()).filter((r) => r.body.includes(NL_CONSENT));
    expect(await quoting()).toHaveLength(1);
    const r = await erase({ phone: NL_CONSENT, entityId: 'tulp' }, compliance);
    expect(r.entities[0].decisions).toBe(2);
    expect(await quoting()).toHaveLength(0);
    const audit = (await api.call('GET', `/v1/audit/decisions?entityId=tulp&phone=${encodeURIComponent(NL_CONSENT)}`, undefined, compliance)).json();
    expect(audit.items).toEqual([]);
    const stored = (await api.call('GET', `/v1/decisions/${decisionId}`, undefined, compliance)).json();
    expect(stored).toMatchObject({ decisionId, phone: null, allowed: true });
    expect(JSON.stringify(stored)).not.toContain('612340102');
  });

  it('sweeps up, seconds later, what requests in flight on another server wrote about the number after the erasure', async () => {
    await erase({ phone: NL_CONSENT, entityId: 'tulp' }, compliance);
    // As another server would write them a moment after: a decision answered during the erasure,
    // and the answer it kept for its Idempotency-Key.
    const body = JSON.stringify({ decisionId: 'late-1', phone: NL_CONSENT, entityId: 'tulp', allowed: true, basis: 'consent' });
    await api.app.store.db.insertInto('idempotency').values({ scope: 'key-x', key: 'dialer-late-1', request_hash: 'h', status: 200, body, created_at: new Date(NOW).toISOString() }).execute();
    await api.app.store.recordDecisions(
      [{ id: 'late-1', entityId: 'tulp', phone: NL_CONSENT, at: NOW, allowed: true, basis: 'consent', denials: [], rulesVersion: 'x', request: { phone: NL_CONSENT }, response: { phone: NL_CONSENT }, keyId: null }],
      NOW,
    );
    await new Promise((r) => setTimeout(r, 5_500));
    const late = await api.app.store.getDecision('late-1');
    expect(late).not.toBeNull();
    expect(late!.phone).toBeNull();
    const kept = await api.app.store.db.selectFrom('idempotency').select(['key', 'body']).where('scope', '=', 'key-x').execute();
    expect(kept.map((k) => k.body).join()).not.toContain(NL_CONSENT);
  }, 15_000);

  it('keeps the replayable answers of an entity whose id differs only in case (and on both stores alike)', async () => {
    expect((await api.call('PUT', '/v1/entities/Tulp', { name: 'Tulp Holding B.V.', kind: 'company', country: 'NL' })).statusCode).toBe(201);
    const ask = () =>
      api.server.inject({
        method: 'POST',
        url: '/v1/decisions',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'idempotency-key': 'dialer-Tulp-1' },
        payload: JSON.stringify({ entityId: 'Tulp', phone: NL_CONSENT, at: '2026-11-27T10:00:00Z' }),
      });
    const first = await ask();
    expect(first.statusCode, first.body).toBe(200);
    await api.app.decisions.flush();
    await erase({ phone: NL_CONSENT, entityId: 'tulp' }, compliance);
    const retry = await ask();
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());
  });

  it('keeps German proof still inside DE-4 when asked to, and says until when', async () => {
    const kc = (await consent('kraft', DE, '2025-01-10T10:00:00Z', { products: ['strom'] })).id;
    const d = await decide('kraft', DE, { at: '2025-02-03T10:00:00Z', productCategory: 'strom' });
    expect(d.allowed, JSON.stringify(d.reasons)).toBe(true);
    const kCall = (await post('/v1/calls', { entityId: 'kraft', phone: DE, at: '2025-02-03T10:00:00Z', decisionId: d.decisionId })).id;
    // A call on no consent (no product named, so none counts) is no proof of consent: not held.
    const bare = await post('/v1/calls', { entityId: 'kraft', phone: DE, at: '2025-03-01T10:00:00Z' });
    expect(bare.warning).toContain('without a basis');
    const obj = (await post('/v1/objections', { entityId: 'kraft', phone: DE, at: '2025-06-01T10:00:00Z' })).id;
    // Made on the February check after the objection: unlawful, so no use of the consent either.
    const refusedCall = await post('/v1/calls', { entityId: 'kraft', phone: DE, at: '2025-07-01T10:00:00Z', decisionId: d.decisionId });
    const stored = await api.app.store.db.selectFrom('events').select('payload').where('id', '=', refusedCall.id).executeTakeFirstOrThrow();
    expect(JSON.parse(stored.payload)).toMatchObject({ allowed: false, refusedAtCall: true, basis: null, evidence: [] });
    const r = await erase({ phone: DE, entityId: 'kraft', keepRequiredProof: true }, compliance);
    expect(r.entities[0].events).toBe(3);
    expect(r.entities[0].held).toEqual([
      { eventId: kc, type: 'consent', until: '2030-02-03T10:00:00.000Z', rule: 'DE-4' },
      { eventId: kCall, type: 'call', until: '2030-02-03T10:00:00.000Z', rule: 'DE-4' },
    ]);
    const left = (await api.app.store.history(DE)).events.map((e) => e.id);
    expect(left).toEqual([kc, kCall]);
    expect(left).not.toContain(obj);
    expect(left).not.toContain(bare.id);
    expect(left).not.toContain(refusedCall.id);
    expect((await decide('kraft', DE, { productCategory: 'strom' })).denials).toContain('objected');
  });

  it('keeps the withdrawal of a consent it holds as proof: the kept consent still reads as withdrawn, when and how', async () => {
    const kc = (await consent('kraft', DE, '2025-01-10T10:00:00Z', { products: ['strom', 'gas'] })).id;
    const d = await decide('kraft', DE, { at: '2025-02-03T10:00:00Z', productCategory: 'strom' });
    const kCall = (await post('/v1/calls', { entityId: 'kraft', phone: DE, at: '2025-02-03T10:00:00Z', decisionId: d.decisionId })).id;
    const w = (await post('/v1/consents', { entityId: 'kraft', phone: DE, at: '2025-06-01T10:00:00Z', channel: 'phone', status: 'withdrawn', products: ['gas'], source: { method: 'paper' } })).id;
    const all = (await post('/v1/consents', { entityId: 'kraft', phone: DE, at: '2025-07-01T10:00:00Z', channel: 'phone', status: 'withdrawn', source: { method: 'email' } })).id;
    const r = await erase({ phone: DE, entityId: 'kraft', keepRequiredProof: true }, compliance);
    expect(r.entities[0].held).toEqual([
      { eventId: kc, type: 'consent', until: '2030-02-03T10:00:00.000Z', rule: 'DE-4' },
      { eventId: kCall, type: 'call', until: '2030-02-03T10:00:00.000Z', rule: 'DE-4' },
      // As long as the consent, and never less than their own term (retention erases by that).
      { eventId: w, type: 'consent', until: '2030-06-01T10:00:00.000Z', rule: 'DE-4' },
      { eventId: all, type: 'consent', until: '2030-07-01T10:00:00.000Z', rule: 'DE-4' },
    ]);
    const kept = (await api.call('GET', `/v1/proof?phone=${encodeURIComponent(DE)}&entityId=kraft`, undefined, compliance)).json();
    expect(kept.consents.find((c: { id: string }) => c.id === kc)).toMatchObject({ state: 'withdrawn' });
    expect((await decide('kraft', DE, { productCategory: 'strom' })).allowed).toBe(false);
  });

  it('keeps German proof by default; keepRequiredProof false erases it too', async () => {
    const kc = (await consent('kraft', DE, '2025-01-10T10:00:00Z', { products: ['strom'] })).id;
    const d = await decide('kraft', DE, { at: '2025-02-03T10:00:00Z', productCategory: 'strom' });
    await post('/v1/calls', { entityId: 'kraft', phone: DE, at: '2025-02-03T10:00:00Z', decisionId: d.decisionId });
    const byDefault = await erase({ phone: DE, entityId: 'kraft' }, compliance);
    expect(byDefault.entities[0].held.map((h: { eventId: string }) => h.eventId)).toContain(kc);
    const all = await erase({ phone: DE, entityId: 'kraft', keepRequiredProof: false }, compliance);
    expect(all.entities[0]).toMatchObject({ events: 2, held: [] });
    expect((await api.app.store.history(DE)).events).toEqual([]);
  });

  it('stays within the key\'s entities and roles', async () => {
    expect((await api.call('POST', '/v1/erasures', { phone: NL_CONSENT, entityId: 'roos' }, compliance)).statusCode).toBe(403);
    expect((await api.call('POST', '/v1/erasures', { phone: NL_CONSENT, entityId: 'tulp' }, agent)).statusCode).toBe(403);
    // Without an entity: every entity the key may act for, and no other.
    const r = await erase({ phone: NL_CONSENT }, compliance);
    expect(r.entities.map((e: { entityId: string }) => e.entityId)).toEqual(['tulp']);
    expect((await api.app.store.history(NL_CONSENT)).events.map((e) => e.id)).toEqual([ids.roos]);
    // Bad input.
    expect((await api.call('POST', '/v1/erasures', {}, compliance)).statusCode).toBe(400);
    expect((await api.call('POST', '/v1/erasures', { phone: '0612' , entityId: 'tulp' }, compliance)).statusCode).toBe(422);
    expect((await api.call('POST', '/v1/erasures', { phone: '0612340102' }, compliance)).statusCode).toBe(422); // a national number needs the entity
  });

  it('redacts the decisions of an entity that holds no event of the person', async () => {
    const phone = '+4915112349876';
    const d = await api.call('POST', '/v1/decisions', { phone, entityId: 'kraft' }, agent);
    expect(d.statusCode, d.body).toBe(200);
    await api.app.decisions.flush();
    const r = await erase({ phone });
    expect(r.entities.map((e: { entityId: string }) => e.entityId)).toEqual(['kraft']);
    const left = await api.app.store.db.selectFrom('decisions').select(['phone', 'request']).where('id', '=', d.json().decisionId).executeTakeFirstOrThrow();
    expect(left.phone).toBeNull();
    expect(left.request).not.toContain('4915112349876');
    expect((await api.app.store.verifyHistory()).ok).toBe(true);
  });

  it('records a request for a number with nothing on record', async () => {
    const before = await api.app.store.db.selectFrom('events').select('id').where('type', '=', 'erasure').execute();
    const r = await erase({ phone: '+31612349999' });
    expect(r.entities).toEqual([]);
    const after = await api.app.store.db.selectFrom('events').selectAll().where('type', '=', 'erasure').execute();
    expect(after.length).toBe(before.length + 1);
    expect(JSON.parse(after[after.length - 1]!.payload)).toMatchObject({ request: r.erasureId, erased: [] });
    expect((await api.app.store.verifyHistory()).ok).toBe(true);
  });

  it('shows the suppression entries in the proof of an erased number', async () => {
    await erase({ phone: NL_OBJ, entityId: 'tulp' }, compliance);
    const d = (await api.call('GET', `/v1/proof?phone=${encodeURIComponent(NL_OBJ)}&entityId=tulp`, undefined, compliance)).json();
    expect(d.consents).toEqual([]);
    expect(d.suppressions.map((s: { reason: string }) => s.reason).sort()).toEqual(['erasure', 'objection']);
    expect(d.decisions[0]).toMatchObject({ allowed: false, denials: ['objected'] });
    expect((await api.call('GET', `/v1/consents/${ids.objConsent}/proof`, undefined, compliance)).statusCode).toBe(404);
  });
});

describe('erasure on a SQLite file', () => {
  it('leaves no copy of the erased number in the file or its WAL (secure_delete, checkpoint)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'optline-erase-file-'));
    const db = join(dir, 'o.db');
    const api = await startApi({ db });
    try {
      const phone = '+31612347777';
      await api.call('PUT', '/v1/entities/tulp', { name: 'Tulp B.V.', kind: 'company', country: 'NL' });
      for (let i = 0; i < 3; i++) {
        const c = await api.call('POST', '/v1/consents', { entityId: 'tulp', channel: 'phone', status: 'granted', at: `2026-0${i + 1}-01T10:00:00Z`, phone, source: { method: 'web_form', wording: `Bel mij, ${phone}` } });
        expect(c.statusCode, c.body).toBe(201);
        await api.call('POST', '/v1/decisions', { entityId: 'tulp', phone });
      }
      await api.app.decisions.flush();
      const digits = Buffer.from('31612347777');
      const inFiles = () => [db, `${db}-wal`].filter((f) => existsSync(f) && readFileSync(f).includes(digits));
      expect(inFiles().length).toBeGreaterThan(0);
      const r = await api.call('POST', '/v1/erasures', { phone });
      expect(r.statusCode, r.body).toBe(201);
      expect(inFiles()).toEqual([]);
      expect((await api.app.store.verifyHistory()).ok).toBe(true);
    } finally {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
