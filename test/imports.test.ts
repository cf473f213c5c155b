/**
 * Imports of a caller's existing records (src/imports/), on every store the suite runs: a row is
 * recorded as its API call records it, a file with a bad row is refused whole with each error's
 * line, a file is not imported twice by mistake, and a failure halfway leaves the store as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, newId } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { ImportRefused, runImport, type ImportOptions } from '../src/imports/run.js';
import { IMPORT_KINDS, RECORD_KINDS, fieldNames, momentCell } from '../src/imports/records.js';
import { DateTime } from 'luxon';
import { listImports } from '../src/imports/store.js';
import { buildDossier } from '../src/proof/dossier.js';
import { eraseSubject } from '../src/service/retention.js';
import { exportProof } from '../src/proof/index.js';
import { pdfText } from './helpers/pdf.js';
import { freshDb, storeNames } from './helpers/stores.js';
import type { EntityFact } from '../src/law/types.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const file = (text: string | Buffer) => [typeof text === 'string' ? Buffer.from(text) : text];

/** What an event says, without what differs between two recordings of it (its id, its entity). */
function content(f: EntityFact): Record<string, unknown> {
  const { id: _id, entityId: _entityId, ...rest } = f as unknown as Record<string, unknown>;
  return rest;
}

describe('the fields of an import row', () => {
  it("are the fields of the API call's body, nested ones included, but entityId", () => {
    for (const name of IMPORT_KINDS) {
      const k = RECORD_KINDS[name];
      const expected: string[] = [];
      for (const [key, field] of Object.entries(k.schema.shape)) {
        if (key === 'entityId') continue;
        // A nested object (source, person): its own fields, as source.method.
        let inner: unknown = field;
        while (inner && typeof inner === 'object' && 'unwrap' in inner && typeof (inner as { unwrap: unknown }).unwrap === 'function') inner = (inner as { unwrap(): unknown }).unwrap();
        const shape = (inner as { shape?: Record<string, unknown> }).shape;
        if (shape) expected.push(...Object.keys(shape).map((k2) => `${key}.${k2}`));
        else expected.push(key);
      }
      expect(k.fields.map(([p]) => p).sort(), name).toEqual(expected.sort());
    }
  });

  it('are found by their names whatever the case and punctuation, nested ones by their own names', () => {
    const names = fieldNames(RECORD_KINDS.consents);
    expect(names.get('sourcemethod')).toBe('source.method');
    expect(names.get('method')).toBe('source.method');
    expect(names.get('wording')).toBe('source.wording');
    expect(names.get('name')).toBe('person.name');
    expect(names.get('expiresat')).toBe('expiresAt');
  });
});

describe('event ids', () => {
  it('increase within a process, so events of one moment read back in the order they were made', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('a local time in an import file', () => {
  const zones = ['Europe/Amsterdam', 'Europe/London', 'America/New_York', 'America/Phoenix', 'Australia/Lord_Howe', 'Pacific/Chatham'];
  it('is the instant luxon gives, wherever the local time exists once', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 4_000; i++) {
      const zone = zones[i % zones.length]!;
      const t = Date.UTC(2019, 0, 1) + rnd(9 * 365) * 86_400_000 + rnd(1440) * 60_000;
      const local = DateTime.fromMillis(t, { zone });
      const text = local.toFormat("yyyy-MM-dd HH:mm");
      // A time the clocks pass twice: the first of the two.
      const earlier = DateTime.fromMillis(t - 3_600_000, { zone }).toFormat('yyyy-MM-dd HH:mm') === text || DateTime.fromMillis(t - 1_800_000, { zone }).toFormat('yyyy-MM-dd HH:mm') === text;
      if (earlier) continue;
      expect(Date.parse(momentCell(text, zone)), `${text} ${zone}`).toBe(local.startOf('minute').toMillis());
    }
  });
  it('is refused where the clocks skip it, and is the first where they pass it twice', () => {
    expect(() => momentCell('2026-03-29 02:30', 'Europe/Amsterdam')).toThrow(/does not exist in Europe\/Amsterdam/);
    expect(() => momentCell('2026-03-08 02:00', 'America/New_York')).toThrow(/clocks skip/);
    expect(momentCell('2026-10-25 02:30', 'Europe/Amsterdam')).toBe('2026-10-25T02:30:00+02:00');
    expect(momentCell('2026-11-01 01:30', 'America/New_York')).toBe('2026-11-01T01:30:00-04:00');
    expect(momentCell('2026-06-01', 'Europe/London')).toBe('2026-06-01T00:00:00+01:00');
    expect(momentCell('2026-06-01T10:00:00Z', null)).toBe('2026-06-01T10:00:00Z');
    expect(() => momentCell('2026-02-29', 'Europe/London')).toThrow(/not a date that exists/);
    expect(() => momentCell('2026-06-01 24:00', 'Europe/London')).toThrow(/not a date that exists/);
  });
});

describe.each(storeNames())('imports on %s', (storeName) => {
  let store: Store;
  let app: Optline;

  beforeAll(async () => {
    store = await Store.open(await freshDb(storeName));
    app = await Optline.open(store, () => NOW);
    for (const id of ['acme', 'twin']) await app.putEntity(id, { name: id, kind: 'company', country: 'NL' });
    await app.putEntity('solaris', { name: 'Solaris', kind: 'company', country: 'US' });
  }, 60_000);

  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const eventCount = async (): Promise<number> => Number((await store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const imp = (text: string | Buffer, opts: Partial<ImportOptions> & Pick<ImportOptions, 'kind'>) => runImport(app, file(text), { entityId: 'acme', ...opts });

  it('records each row as its API call records it (consents: quoted text, a BOM, CRLF, semicolons, lists)', async () => {
    const csv =
      '\uFEFFphone;status;channel;at;products;Source Method;wording;verifiedAt;verificationMethod;ip;bundled;name;reference;CRM id\r\n' +
      '06 1234 0101;granted;phone;2025-03-01T10:00:00+01:00;energy|solar;web_form;"Mag Acme u bellen; ook ""s avonds""?";2025-03-01T10:05:00+01:00;email;192.0.2.7;no;J. de Vries;C-1;991\r\n' +
      '\r\n' +
      '+31612340102;withdrawn;phone;2025-04-02T09:30:00Z;;agent_call;"Twee\r\nregels";;;;;;;992\r\n';
    const before = await eventCount();
    const r = await imp(csv, { kind: 'consents', inputName: 'crm.csv' });
    expect(r).toMatchObject({ rows: 2, imported: 2, rejected: 0, ignoredColumns: ['CRM id'] });
    expect(r.id).toBeTruthy();
    expect(await eventCount()).toBe(before + 2);
    // The same two through the service as POST /v1/consents records them, for another caller.
    await app.recordConsent({
      entityId: 'twin',
      phone: '06 1234 0101',
      status: 'granted',
      channel: 'phone',
      at: Date.parse('2025-03-01T10:00:00+01:00'),
      products: ['energy', 'solar'],
      source: { method: 'web_form', wording: 'Mag Acme u bellen; ook "s avonds"?', verifiedAt: Date.parse('2025-03-01T10:05:00+01:00'), verificationMethod: 'email', ip: '192.0.2.7', bundled: false },
      person: { name: 'J. de Vries', reference: 'C-1' },
    });
    await app.recordConsent({ entityId: 'twin', phone: '+31612340102', status: 'withdrawn', channel: 'phone', at: Date.parse('2025-04-02T09:30:00Z'), source: { method: 'agent_call', wording: 'Twee\r\nregels' } });
    for (const phone of ['+31612340101', '+31612340102']) {
      const h = await store.history(phone);
      const of = (id: string) => h.events.filter((e) => e.entityId === id).map(content);
      expect(of('acme'), phone).toEqual(of('twin'));
      expect(of('acme')).toHaveLength(1);
    }
    expect((await store.verifyHistory('acme')).ok).toBe(true);
    // The proof of consent says which import wrote it, of which file, and when.
    const proof = await buildDossier(app, { phone: '+31612340101', entityId: 'acme', scope: '*' });
    expect(proof.consents[0]).toMatchObject({ importId: r.id, recordedAt: new Date(NOW).toISOString() });
    expect(proof.imports).toEqual([expect.objectContaining({ id: r.id, sha256: r.sha256, kind: 'consents', imported: 2, inputName: 'crm.csv' })]);
    const pdf = await exportProof(app, { phone: '+31612340101', entityId: 'acme', scope: '*' }, 'pdf');
    expect((await pdfText(pdf.body as Buffer)).pages.join(' ').replace(/\s+/g, ' ')).toContain(`by import ${r.id} (file crm.csv, SHA-256 ${r.sha256.slice(0, 16)}`);
    const twinProof = await buildDossier(app, { phone: '+31612340101', entityId: 'twin', scope: '*' });
    expect(twinProof.consents[0]!.importId).toBeNull();
    expect(twinProof.imports).toEqual([]);
  });

  it('records objections, relationships, contact requests and presumed consents as their calls do', async () => {
    const cases: Array<[ImportOptions['kind'], string, (entityId: string) => Promise<unknown>]> = [
      ['objections', 'phone,at\n0612340201,2025-05-01T08:00:00Z\n', (e) => app.recordObjection({ entityId: e, phone: '0612340201', at: Date.parse('2025-05-01T08:00:00Z') })],
      [
        'relationships',
        'phone,kind,productCategory,startedAt,endedAt,informedAtCollection,optOutOfferedAtCollection\n0612340202,purchase,energy,2024-01-01,2025-01-01,yes,1\n',
        (e) =>
          app.recordRelationship({
            entityId: e,
            phone: '0612340202',
            kind: 'purchase',
            productCategory: 'energy',
            startedAt: Date.parse('2024-01-01T00:00:00+01:00'),
            endedAt: Date.parse('2025-01-01T00:00:00+01:00'),
            informedAtCollection: true,
            optOutOfferedAtCollection: true,
          }),
      ],
      ['contact-requests', 'phone,at,offer\n0612340203,2026-11-20 14:30,Een offerte voor zonnepanelen\n', (e) => app.recordContactRequest({ entityId: e, phone: '0612340203', at: Date.parse('2026-11-20T14:30:00+01:00'), offer: 'Een offerte voor zonnepanelen' })],
      [
        'presumed-consents',
        'phone,at,justification\n0612340204,2026-10-01T09:00:00+02:00,Bestaande zakelijke klant met lopend contract\n',
        (e) => app.recordPresumedConsent({ entityId: e, phone: '0612340204', at: Date.parse('2026-10-01T09:00:00+02:00'), justification: 'Bestaande zakelijke klant met lopend contract' }),
      ],
    ];
    for (const [kind, csv, record] of cases) {
      const r = await imp(csv, { kind });
      expect(r.imported, kind).toBe(1);
      await record('twin');
    }
    for (const phone of ['+31612340201', '+31612340202', '+31612340203', '+31612340204']) {
      const h = await store.history(phone);
      const of = (id: string) => h.events.filter((e) => e.entityId === id).map(content);
      expect(of('acme'), phone).toEqual(of('twin'));
      expect(of('acme')).toHaveLength(1);
    }
  });

  it('refuses a file with a bad row whole, naming each error by the line it is on', async () => {
    const before = await eventCount();
    const csv = [
      'phone,status,channel,at,method,wording', // line 1
      '0612340301,granted,phone,2025-01-01T10:00:00Z,paper,"a wording', // lines 2–3: one row over two lines
      'over two lines"',
      '0612340302,granted,phone,2025-13-01T10:00:00Z,paper,x', // line 4: no 13th month
      '', // line 5: empty, skipped
      '12,granted,phone,2025-01-01T10:00:00Z,paper,x', // line 6: not a number
      '0612340303,given,phone,2025-01-01T10:00:00Z,paper,x', // line 7: not a status
      '0612340304,granted,phone,2027-01-01T10:00:00Z,paper,x', // line 8: in the future
      '0612340305,granted,phone,2025-01-01T10:00:00Z,paper,fine', // line 9
    ].join('\n');
    const err = await imp(csv, { kind: 'consents' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportRefused);
    const r = (err as ImportRefused).result;
    expect(r).toMatchObject({ rows: 6, imported: 2, rejected: 4 });
    expect(r.errors.map((e) => [e.line, e.path])).toEqual([
      [4, 'at'],
      [6, 'phone'],
      [7, 'status'],
      [8, 'at'],
    ]);
    expect(r.errors[3]!.message).toMatch(/future/);
    expect((err as ImportRefused).errors[0]!.path).toBe('line 4: at');
    expect(await eventCount()).toBe(before);
    expect((await listImports(store.db as never, ['acme'])).some((i) => i.sha256 === r.sha256)).toBe(false);

    // Left out on request: the others are recorded.
    const kept = await imp(csv, { kind: 'consents', skipInvalid: true });
    expect(kept).toMatchObject({ rows: 6, imported: 2, rejected: 4 });
    expect(await eventCount()).toBe(before + 2);
    expect((await store.history('+31612340301')).events[0]).toMatchObject({ type: 'consent', source: { wording: 'a wording\nover two lines' } });
  });

  it('records no row twice: the same file again, an export that overlaps the last, a row repeated in the file; a dry run writes nothing', async () => {
    const csv = 'phone,at\n0612340401,2025-02-01T00:00:00Z\n0612340402,2025-02-01T00:00:00Z\n';
    const before = await eventCount();
    const dry = await imp(csv, { kind: 'objections', dryRun: true });
    expect(dry).toMatchObject({ id: null, dryRun: true, rows: 2, imported: 2, onRecord: 0 });
    expect(await eventCount()).toBe(before);
    const first = await imp(csv, { kind: 'objections' });
    expect(first).toMatchObject({ imported: 2, onRecord: 0, importedBefore: null });
    expect(await eventCount()).toBe(before + 2);
    // The same file: nothing new; the answer names the earlier import.
    const again = await imp(csv, { kind: 'objections' });
    expect(again).toMatchObject({ id: null, imported: 0, onRecord: 2, importedBefore: { id: first.id, imported: 2 } });
    expect(await eventCount()).toBe(before + 2);
    // The next month's export: the old rows and a new one, in another order; and a row twice in one file.
    const next = 'phone,at\n0612340403,2025-03-01T00:00:00Z\n0612340402,2025-02-01T00:00:00Z\n0612340401,2025-02-01T00:00:00Z\n0612340403,2025-03-01T00:00:00Z\n';
    expect(await imp(next, { kind: 'objections', dryRun: true })).toMatchObject({ imported: 1, onRecord: 3 });
    expect(await imp(next, { kind: 'objections' })).toMatchObject({ imported: 1, onRecord: 3, importedBefore: null });
    expect(await eventCount()).toBe(before + 3);
    // The same number at another moment is another objection; another caller's record is not this one's.
    expect(await imp('phone,at\n0612340401,2025-04-01T00:00:00Z\n', { kind: 'objections' })).toMatchObject({ imported: 1, onRecord: 0 });
    expect(await runImport(app, file(csv), { entityId: 'twin', kind: 'objections' })).toMatchObject({ imported: 2, onRecord: 0 });
    expect(await eventCount()).toBe(before + 6);
    const recorded = await listImports(store.db as never, ['acme']);
    expect(recorded.filter((i) => i.sha256 === first.sha256)).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ imported: 1, onRecord: 0, kind: 'objections' });
    // E-mail consents without a number are matched by their address.
    const mail = 'channel,status,at,email\nemail,granted,2025-01-01T00:00:00Z,a@example.org\nemail,granted,2025-01-01T00:00:00Z,a@example.org\n';
    expect(await imp(mail, { kind: 'consents' })).toMatchObject({ imported: 1, onRecord: 1 });
    expect(await imp(mail, { kind: 'consents' })).toMatchObject({ imported: 0, onRecord: 2 });
  });

  it("does not bring back an erased person's records from an old export; a record made after the erasure is imported", async () => {
    // A caller of its own: the later clock below stays out of the other tests' chains.
    await app.putEntity('lethe', { name: 'Lethe', kind: 'company', country: 'NL' });
    const csv = 'phone,status,channel,at,method,wording\n0612340901,granted,phone,2025-06-01T10:00:00Z,web_form,Mag Lethe u bellen?\n0612340902,granted,phone,2025-06-01T10:00:00Z,web_form,Mag Lethe u bellen?\n';
    const opts = { entityId: 'lethe', kind: 'consents' } as const;
    expect(await runImport(app, file(csv), opts)).toMatchObject({ imported: 2, erased: 0 });
    await eraseSubject(app, { phone: '+31612340901', entityId: 'lethe', scope: '*' });
    // An hour later the same export comes again, with a consent the person gave after the erasure.
    const later = await Optline.open(store, () => NOW + 3_600_000);
    try {
      const before = await eventCount();
      const again = csv + `0612340901,granted,phone,${new Date(NOW + 1_800_000).toISOString()},web_form,Mag Lethe u bellen?\n`;
      const dry = await runImport(later, file(again), { ...opts, dryRun: true });
      expect(dry).toMatchObject({ rows: 3, imported: 1, onRecord: 1, erased: 1, erasedLines: [2] });
      const r = await runImport(later, file(again), opts);
      expect(r).toMatchObject({ rows: 3, imported: 1, onRecord: 1, erased: 1, erasedLines: [2], rejected: 0 });
      expect(await eventCount()).toBe(before + 1);
      const kept = (await store.history('+31612340901')).events.filter((e) => e.entityId === 'lethe' && e.type === 'consent');
      expect(kept.map((e) => e.at)).toEqual([NOW + 1_800_000]);
      expect((await listImports(store.db as never, ['lethe']))[0]).toMatchObject({ id: r.id, rows: 3, imported: 1, onRecord: 1, erased: 1 });
      // Another caller's erasure is not this caller's: its rows are imported.
      expect(await runImport(later, file(csv), { entityId: 'twin', kind: 'consents', dryRun: true })).toMatchObject({ imported: 2, erased: 0 });
      expect((await store.verifyHistory('lethe')).ok).toBe(true);
    } finally {
      await later.close();
    }
  });

  it('stores every value of a file larger than a batch as it was given, and finds each on record again', async () => {
    // Wordings with what the statements must carry through unchanged: quotes, backslashes, braces
    // and commas (PostgreSQL's array syntax), the word NULL, line ends, accents.
    const wordings = ['Mag "Acme" u bellen?', 'C:\\formulieren\\n12', '{energie,zon}', 'NULL', 'Zeile 1\nZeile 2 – Grüße ✓'];
    const quoted = (text: string) => `"${text.replace(/"/g, '""')}"`;
    const row = (i: number) => `06150${String(i).padStart(5, '0')},phone,granted,${new Date(Date.parse('2025-01-01T00:00:00Z') + i * 60_000).toISOString()},web_form,${quoted(wordings[i % wordings.length]!)}`;
    // 2,500 rows – three batches of the write – and row 0 again at the start of the second batch.
    const lines = Array.from({ length: 2_500 }, (_, i) => row(i));
    lines.splice(1_000, 0, row(0));
    const csv = `phone,channel,status,at,method,wording\n${lines.join('\n')}\n`;
    const before = await eventCount();
    expect(await imp(csv, { kind: 'consents' })).toMatchObject({ rows: 2_501, imported: 2_500, onRecord: 1 });
    expect(await eventCount()).toBe(before + 2_500);
    expect((await store.verifyHistory('acme')).ok).toBe(true);
    for (const i of [0, 1, 2, 3, 4, 2_499]) {
      const [consent] = (await store.history(`+316150${String(i).padStart(5, '0')}`)).events;
      expect(consent).toMatchObject({ type: 'consent', entityId: 'acme', source: { wording: wordings[i % wordings.length] } });
    }
    expect(await imp(csv, { kind: 'consents', dryRun: true })).toMatchObject({ imported: 0, onRecord: 2_501 });
    expect(await imp(csv, { kind: 'consents' })).toMatchObject({ id: null, imported: 0, onRecord: 2_501 });
    expect(await eventCount()).toBe(before + 2_500);
  });

  it('keeps the last word of a day: a withdrawal repeated after a consent at the same moment is recorded again', async () => {
    const day = 'channel,status,at,method\nphone,withdrawn,2026-03-01,paper\nphone,granted,2026-03-01,paper\nphone,withdrawn,2026-03-01,paper\n';
    const csv = day.replace(/\n(?=phone)/g, '\n').split('\n').map((l, i) => (i === 0 ? `phone,${l}` : l ? `0612341101,${l}` : l)).join('\n');
    expect(await imp(csv, { kind: 'consents', dryRun: true })).toMatchObject({ imported: 3, onRecord: 0 });
    expect(await imp(csv, { kind: 'consents' })).toMatchObject({ imported: 3, onRecord: 0 });
    const statuses = (await store.history('+31612341101')).events.filter((e) => e.entityId === 'acme').map((e) => (e as { status?: string }).status);
    expect(statuses).toEqual(['withdrawn', 'granted', 'withdrawn']);
    const d = await app.decide({ phone: '+31612341101', entityId: 'acme', at: NOW });
    expect(d.basis).not.toBe('consent');
    // A day with one content only: a repeat is the same record.
    const plain = 'phone,channel,status,at,method\n0612341102,phone,granted,2026-03-01,paper\n0612341102,phone,granted,2026-03-01,paper\n';
    expect(await imp(plain, { kind: 'consents' })).toMatchObject({ imported: 1, onRecord: 1 });
  });

  it('appends all of an import or none: a failure halfway through the write leaves the store as it was', async () => {
    const before = await eventCount();
    const batch = Array.from({ length: 1_200 }, (_, i) => ({ fact: { type: 'objection' as const, id: '', entityId: 'acme', at: NOW - i }, phone: `+316140${String(i).padStart(5, '0')}` }));
    const failing = async function* () {
      yield batch.slice(0, 600);
      yield batch.slice(600);
      throw new Error('disk gone');
    };
    await expect(store.appendEventStream('acme', 'test-import', failing, () => NOW, async () => {})).rejects.toThrow('disk gone');
    expect(await eventCount()).toBe(before);
    expect(await eventCount()).toBe(before);
    await expect(store.appendEventStream('acme', 'test-import', async function* () { yield batch.slice(0, 2); }, () => NOW, async () => { throw new Error('record refused'); })).rejects.toThrow('record refused');
    expect(await eventCount()).toBe(before);
    expect((await store.verifyHistory('acme')).ok).toBe(true);
  });

  it('reads columns by other names when told, values for every row, and says what it left out', async () => {
    const csv = 'Telefoon,Datum opt-in,Kanaal,Opmerking\n0612340501,2025-06-01 09:15,phone,vip\n';
    const missing = (await imp(csv, { kind: 'consents' }).catch((e: unknown) => e)) as Error;
    expect(missing.message).toMatch(/no column for channel, status, at, phone or email \(is it "Telefoon"\?/);
    expect(missing.message).toMatch(/columns seen are: Telefoon, Datum opt-in, Kanaal, Opmerking/);
    const r = await imp(csv, { kind: 'consents', columns: { phone: 'Telefoon', at: 'Datum opt-in', channel: 'Kanaal' }, fixed: { status: 'granted', 'source.method': 'paper' } });
    expect(r).toMatchObject({ imported: 1, ignoredColumns: ['Opmerking'], columns: { phone: 'Telefoon', at: 'Datum opt-in', channel: 'Kanaal' } });
    // A local time without an offset is read in the caller's country's zone (summer time in June).
    const fact = (await store.history('+31612340501')).events.find((e) => e.entityId === 'acme');
    expect(fact).toMatchObject({ at: Date.parse('2025-06-01T09:15:00+02:00'), source: { method: 'paper' } });
    // A column named for a field that is mapped to another column is not read for it.
    const mapped = await imp('phone,at,phone number\n12,2025-01-01T00:00:00Z,0612340502\n', { kind: 'objections', columns: { phone: 'phone number' } });
    expect(mapped).toMatchObject({ imported: 1, ignoredColumns: ['phone'] });
    expect((await store.history('+31612340502')).events).toHaveLength(1);
    await expect(imp('phone,Phone\n1,2\n', { kind: 'objections' })).rejects.toThrow(/Columns "phone" and "Phone" both give phone/);
    await expect(imp(csv, { kind: 'consents', fixed: { colour: 'red' } })).rejects.toThrow(/"colour", which is no field of consents/);
  });

  it('reads dates without an offset only in a zone it knows, and refuses what cannot be told', async () => {
    const us = (csv: string, timeZone?: string) => runImport(app, file(csv), { entityId: 'solaris', kind: 'objections', timeZone, dryRun: true });
    const noZone = (await us('phone,at\n2125550101,2025-01-01\n').catch((e: unknown) => e)) as ImportRefused;
    expect(noZone.result.errors[0]).toMatchObject({ line: 2, path: 'at', message: expect.stringMatching(/no offset: give the time zone/) });
    await expect(us('phone,at\n2125550101,2025-01-01\n', 'America/New_York')).resolves.toMatchObject({ imported: 1 });
    const bad = (await imp('phone,at\n0612340601,01-02-2025\n0612340602,2025-03-30 02:30\n0612340603,2025-02-30\n', { kind: 'objections', dryRun: true }).catch((e: unknown) => e)) as ImportRefused;
    expect(bad.result.errors.map((e) => [e.line, e.message])).toEqual([
      [2, expect.stringMatching(/expected a moment such as/)],
      [3, expect.stringMatching(/does not exist in Europe\/Amsterdam/)],
      [4, expect.stringMatching(/not a date that exists/)],
    ]);
  });

  it('reads files as spreadsheets write them: CRLF inside quotes, sep= and blank lines first, rows of empty fields', async () => {
    const excel = 'sep=;\r\n\r\nphone;at;city\r\n0612341001;"2025-01-01T00:00:00Z";"Den\r\nHaag"\r\nnot a number;2025-01-01T00:00:00Z;x\r\n;;\r\n;;\r\n';
    const r = (await imp(excel, { kind: 'objections' }).catch((e: unknown) => e)) as ImportRefused;
    expect(r.result).toMatchObject({ rows: 2, rejected: 1, ignoredColumns: ['city'] });
    expect(r.result.errors).toEqual([{ line: 6, path: 'phone', message: expect.stringMatching(/not a valid phone number/) }]);
  });

  it('says everything wrong with a row at once, and refuses what the API refuses', async () => {
    const r = (await imp('phone,channel,status,at\nnot a number,fax,given,2026-02-30\n', { kind: 'consents' }).catch((e: unknown) => e)) as ImportRefused;
    expect(r.result.errors.map((e) => e.path).sort()).toEqual(['at', 'channel', 'phone', 'status']);
    // A consent's wording without the way it was given: refused, as POST /v1/consents refuses it.
    const noMethod = (await imp('phone,channel,status,at,wording\n0612341002,phone,granted,2025-01-01T00:00:00Z,Mogen wij bellen?\n', { kind: 'consents' }).catch((e: unknown) => e)) as ImportRefused;
    expect(noMethod.result.errors).toEqual([{ line: 2, path: 'source.method', message: expect.any(String) }]);
    // U+0000, which PostgreSQL cannot store, as the API refuses it; an unreadable accent only in the columns read.
    const nul = (await imp('phone,at,offer\n0612341003,2025-01-01T00:00:00Z,a\u0000b\n', { kind: 'contact-requests' }).catch((e: unknown) => e)) as ImportRefused;
    expect(nul.result.errors).toEqual([{ line: 2, path: 'offer', message: expect.stringMatching(/U\+0000/) }]);
    const latin1City = Buffer.concat([Buffer.from('phone,at,city\n0612341004,2025-01-01T00:00:00Z,'), Buffer.from('Li\xe8ge', 'latin1'), Buffer.from('\n')]);
    expect(await imp(latin1City, { kind: 'objections', dryRun: true })).toMatchObject({ imported: 1, rejected: 0 });
  });

  it('records the events when they are written, after whatever the caller recorded while the file was read', async () => {
    let t = NOW - 3_600_000;
    const timed = await Optline.open(store, () => t);
    let release!: () => void;
    const paused = new Promise<void>((r) => (release = r));
    const source = (async function* () {
      yield Buffer.from('phone,at\n0612341005,2025-01-01T00:00:00Z\n');
      await paused;
      yield Buffer.from('0612341006,2025-01-01T00:00:00Z\n');
    })();
    const importing = runImport(timed, source, { entityId: 'acme', kind: 'objections' });
    await new Promise((r) => setTimeout(r, 50));
    t = NOW; // an hour later, another write for the caller
    await timed.recordObjection({ entityId: 'acme', phone: '0612341007', at: NOW - 60_000 });
    release();
    await importing;
    const recorded = (await store.history('+31612341006')).rows[0]!.recordedAt;
    expect(recorded).toBe(NOW);
    expect((await store.verifyHistory('acme')).ok).toBe(true);
    await timed.close();
  });

  it('refuses what is not UTF-8 CSV with the line, and an empty file in words', async () => {
    const latin1 = Buffer.concat([Buffer.from('phone,at,offer\n0612340701,2025-01-01T00:00:00Z,'), Buffer.from('caf\xe9 en cr\xe8me', 'latin1'), Buffer.from('\n')]);
    const err = (await imp(latin1, { kind: 'contact-requests' }).catch((e: unknown) => e)) as ImportRefused;
    expect(err.result.errors[0]).toMatchObject({ line: 2, message: expect.stringMatching(/not UTF-8/) });
    await expect(imp('', { kind: 'objections' })).rejects.toThrow(/The file is empty/);
    await expect(imp('phone,at\n', { kind: 'objections' })).rejects.toThrow(/header but no rows/);
    await expect(imp('phone,at\n"0612340702,2025-01-01T00:00:00Z\n', { kind: 'objections' })).rejects.toThrow(/line \d+: a quote opened and never closed/);
    await expect(imp(Buffer.from('phone,at\n', 'utf16le'), { kind: 'objections' })).rejects.toThrow(/not UTF-8 text/);
  });
});
