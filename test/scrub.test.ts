/**
 * The bulk scrub gives every row the decision the single-decision path gives (Optline.decide),
 * in process and in worker threads, with and without its shortcut for numbers without events.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../src/store/repository.js';
import { Optline, type DecisionInput } from '../src/service/optline.js';
import { importRegister } from '../src/registers/import.js';
import { eraseSubject } from '../src/service/retention.js';
import { runScrub } from '../src/scrub/run.js';
import { ScrubStore } from '../src/scrub/store.js';
import { entityEvents, EventIndex, eventsFromParts, lastEventRowid, readEventRecords, SqliteHistory } from '../src/scrub/history.js';
import type { RelationshipKind } from '../src/law/types.js';
import { prng } from './helpers/prng.js';

const NOW = Date.parse('2026-11-30T15:00:00+01:00');
let dir: string;
let store: Store;
let app: Optline;

const rnd = prng(424242);
const int = (n: number): number => Math.floor(rnd() * n);
const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;
const digits = (n: number): string => Array.from({ length: n }, () => int(10)).join('');
const day = (iso: string): number => Date.parse(`${iso}T09:00:00Z`);
const randomDay = (): number => day(`${2019 + int(8)}-${String(1 + int(12)).padStart(2, '0')}-${String(1 + int(28)).padStart(2, '0')}`);

const NUMBERS = {
  NL: () => '+316' + pick(['1', '2', '3', '4', '5', '8']) + digits(7),
  DE: () => '+49151' + digits(8),
  GB: () => '+447400' + digits(6),
  US: () => '+1' + pick(['212', '415', '305', '808', '907']) + (2 + int(8)) + digits(6),
};
const nl = () => (rnd() < 0.5 ? NUMBERS.NL() : '+3120' + pick(['1', '2', '3', '4', '5']) + digits(6));
const numberOf = (c: keyof typeof NUMBERS): string => (c === 'NL' ? nl() : NUMBERS[c]());

const ENTITIES = [
  { id: 'nl-co', kind: 'company', country: 'NL' },
  { id: 'nl-charity', kind: 'charity', country: 'NL' },
  { id: 'de-co', kind: 'company', country: 'DE' },
  { id: 'gb-co', kind: 'company', country: 'GB' },
  { id: 'us-co', kind: 'company', country: 'US' },
] as const;

const ODD_WORDING = 'Ja,\tbel mij.\n"Mañana" – 電話 OK\u001f';
const pool: string[] = [];
const listed: string[] = [];
let listFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'optline-scrub-test-'));
  store = await Store.open(join(dir, 'o.db'));
  app = await Optline.open(store, () => NOW);
  for (const e of ENTITIES) await app.putEntity(e.id, { name: e.id.toUpperCase(), kind: e.kind, country: e.country, parentId: e.id === 'nl-charity' ? null : null });

  // Facts for a pool of numbers, by every kind of event.
  const countries = ['NL', 'NL', 'DE', 'GB', 'US'] as const;
  for (let i = 0; i < 160; i++) pool.push(numberOf(pick(countries)));
  for (const phone of pool) {
    const events = 1 + int(3);
    for (let k = 0; k < events; k++) {
      const entityId = pick(ENTITIES).id;
      const at = randomDay();
      const kind = int(8);
      if (kind <= 2) {
        await app.recordConsent({
          entityId,
          channel: rnd() < 0.85 ? 'phone' : 'email',
          status: rnd() < 0.8 ? 'granted' : 'withdrawn',
          at,
          phone,
          email: 'x@example.org',
          products: rnd() < 0.3 ? [pick(['energy', 'solar'])] : [],
          expiresAt: rnd() < 0.2 ? at + 400 * 86_400_000 : null,
          source: {
            method: pick(['web_form', 'agent_call', 'paper', 'email'] as const),
            recordingRef: rnd() < 0.3 ? 'rec' : null,
            verifiedAt: rnd() < 0.5 ? at : null,
            bundled: rnd() < 0.1,
            // Tabs, line ends, quotes and non-ASCII text survive every way of reading events.
            wording: rnd() < 0.2 ? ODD_WORDING : undefined,
          },
        });
      } else if (kind === 3) {
        await app.recordObjection({ entityId, phone, at });
      } else if (kind === 4) {
        await app.recordRelationship({
          entityId,
          phone,
          kind: pick<RelationshipKind>(['purchase', 'subscription', 'donation', 'quote_request', 'volunteer', 'event']),
          productCategory: pick(['energy', 'solar']),
          startedAt: at,
          endedAt: rnd() < 0.4 ? at + int(900) * 86_400_000 : null,
          informedAtCollection: rnd() < 0.8,
          optOutOfferedAtCollection: rnd() < 0.7,
        });
      } else if (kind === 5) {
        await app.recordContactRequest({ entityId, phone, at, offer: 'solar panels' });
      } else if (kind === 6) {
        await app.recordCall({ entityId, phone, at });
      } else {
        await app.recordPresumedConsent({ entityId, phone, at, justification: 'Asked for an offer at the fair.', productCategory: rnd() < 0.5 ? 'energy' : null });
      }
    }
    if (rnd() < 0.08) await app.recordReassignment({ phone, at: randomDay() });
  }
  // Erased people: their objections live on as hashed suppression entries.
  for (const phone of pool.slice(0, 6)) await eraseSubject(app, { phone, scope: '*', suppress: true });

  // Register copies, some with listing dates.
  const reg = { NL: [] as string[], GB: [] as string[], US: [] as string[] };
  // A copy lists numbers up to its own date (an import refuses later listing dates).
  const asOf = { NL: day('2021-06-01'), GB: day('2026-11-20'), US: day('2026-11-15') };
  for (let i = 0; i < 300; i++) {
    const c = pick(['NL', 'GB', 'US'] as const);
    const phone = rnd() < 0.3 ? pool[int(pool.length)]! : numberOf(c);
    if (!phone.startsWith({ NL: '+31', GB: '+44', US: '+1' }[c])) continue;
    reg[c].push(rnd() < 0.5 ? `${phone},${new Date(Math.min(randomDay(), asOf[c])).toISOString().slice(0, 10)}` : phone);
    listed.push(phone);
  }
  await importRegister(app, 'nl-bel-me-niet', { country: 'NL', asOf: asOf.NL }, reg.NL.join('\n'));
  await importRegister(app, 'gb-tps', { country: 'GB', asOf: asOf.GB }, reg.GB.join('\n'));
  await importRegister(app, 'gb-ctps', { country: 'GB', asOf: asOf.GB }, reg.GB.slice(0, 20).join('\n'));
  await importRegister(app, 'us-dnc', { country: 'US', asOf: asOf.US }, reg.US.map((l) => l.replace(/^\+1(\d{3})(\d{7})/, '$1,$2')).join('\n'));

  // The list: numbers with facts, listed numbers, fresh numbers, national formats, junk.
  const rows = ['id,name,phone,segment'];
  for (let i = 0; i < 1500; i++) {
    const r = rnd();
    // The first rows: the erased numbers (suppression entries), then numbers with facts.
    let phone = i < 12 ? pool[i]! : r < 0.35 ? pick(pool) : r < 0.55 ? pick(listed) : r < 0.9 ? numberOf(pick(countries)) : pick(['', 'n/a', '12', '+33612345678', '+3161234', '0031612345678', '+999123']);
    if (phone.startsWith('+31') && rnd() < 0.4) phone = pick([`0${phone.slice(3)}`, `+31 (0)${phone.slice(3, 4)} ${phone.slice(4)}`, `0${phone.slice(3, 4)}-${phone.slice(4)}`]);
    if (phone.startsWith('+1') && rnd() < 0.3) phone = pick([phone.slice(2), `(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`, phone.slice(1)]);
    if (rnd() < 0.05) phone = ` ${phone} `;
    const name = rnd() < 0.2 ? `"Doe, ${i}"` : `Name ${i}`;
    rows.push(`${i + 1},${name},${phone.includes(',') ? `"${phone}"` : phone},S${i % 3}`);
  }
  listFile = join(dir, 'list.csv');
  writeFileSync(listFile, rows.join('\n') + '\n');
}, 120_000);

afterAll(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function parseOut(text: string): string[][] {
  // The appended columns never hold a comma; the phone column is the third.
  return text
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
}

describe('numbers with events (the rows that take the full path)', () => {
  it("are the numbers with the entity's own events or a reassignment, read page by page", async () => {
    for (const e of ENTITIES) {
      const rows = await store.db
        .selectFrom('events')
        .select('phone')
        .distinct()
        .where('phone', 'is not', null)
        .where((eb) => eb.or([eb('entity_id', '=', e.id), eb('type', '=', 'reassignment')]))
        .execute();
      const expected = rows.map((r) => Number(r.phone!.slice(1))).sort((a, b) => a - b);
      expect(expected.length, e.id).toBeGreaterThan(10);
      for (const pageSize of [1_000_000, 7, 1]) {
        // A number with the entity's events and a reassignment comes twice: the index keeps it once.
        const found = await entityEvents(store, e.id, { pageSize });
        expect([...new Set(found.nums)].sort((a, b) => a - b), `${e.id}, pages of ${pageSize}`).toEqual(expected);
        // One entry per event, with its rowid.
        const own = await store.db.selectFrom('events').select('id').where('phone', 'is not', null).where((eb) => eb.or([eb('entity_id', '=', e.id), eb('type', '=', 'reassignment')])).execute();
        expect(found.refs).toHaveLength(own.length);
        expect(new Set(found.refs).size).toBe(own.length);
        // The bit filter in front of the index never turns a number with events away.
        const index = EventIndex.fromImage(EventIndex.build(found).image);
        expect(found.nums.every((n) => index.mayHave(n) && index.numbers.indexOf(n) >= 0)).toBe(true);
        const strangers = Array.from({ length: 2000 }, (_, k) => 4930000000 + k * 7919).filter((n) => !found.nums.includes(n));
        expect(strangers.filter((n) => index.mayHave(n)).length).toBeLessThan(strangers.length * 0.1);
      }
    }
  });

  it('read whole, give the same histories as read by rowid – in one part or in several – and are not kept beyond their size limit', async () => {
    const last = lastEventRowid(store.location);
    let odd = 0;
    for (const e of ENTITIES) {
      const byRowid = await entityEvents(store, e.id);
      const sqlite = new SqliteHistory(store.location, e.id);
      const expected = await sqlite.byRef([...byRowid.refs!]);
      sqlite.close();
      expect(expected.size, e.id).toBeGreaterThan(10);
      for (const h of expected.values()) odd += h.events.filter((f) => f.type === 'consent' && f.source.wording === ODD_WORDING).length;

      const whole = await entityEvents(store, e.id, { records: true, pageSize: 7 });
      expect(whole.records, e.id).not.toBeNull();
      expect([...whole.nums].sort((a, b) => a - b)).toEqual([...byRowid.nums].sort((a, b) => a - b));
      expect(await whole.records!.byRef([...whole.refs!])).toEqual(expected);
      // In three parts of the table, as worker threads read them, in pages of five events.
      const bound = (k: number) => (k === 3 ? Number.MAX_SAFE_INTEGER : Math.floor((last * k) / 3));
      const split = eventsFromParts([0, 1, 2].map((k) => readEventRecords(store.location, e.id, k, bound(k), bound(k + 1), 1 << 20, 5)!));
      expect(split.nums.length).toBe(byRowid.nums.length);
      expect(await split.records!.byRef([...split.refs!])).toEqual(expected);
      // Too large to keep: the rowids instead.
      const tooLarge = await entityEvents(store, e.id, { records: true, maxRecordBytes: 100 });
      expect(tooLarge.records).toBeNull();
      expect(tooLarge.refs).toEqual(byRowid.refs);
    }
    expect(odd).toBeGreaterThan(0);
  });
});

describe('scrub = single decisions', () => {
  for (const e of ENTITIES) {
    for (const [label, at, product] of [
      ['now', NOW, null],
      ['2020 (NL opt-out regime)', Date.parse('2020-06-02T11:00:00+02:00'), 'energy'],
    ] as const) {
      it(`${e.id}, ${label}: a random sample of rows equals Optline.decide; workers, in-process and exact mode agree`, async () => {
        const out = (n: string) => join(dir, `${e.id}-${at}-${n}.csv`);
        const base = { entityId: e.id, input: listFile, at, productCategory: product };
        // Histories read by rowid, and from the caller's events read whole (in one part, and in
        // one part per worker thread).
        const a = await runScrub(app, { ...base, output: out('a'), workers: 0, readEventsWhole: false });
        const b = await runScrub(app, { ...base, output: out('b'), workers: 2, readEventsWhole: false });
        await runScrub(app, { ...base, output: out('c'), workers: 0, exact: true });
        // Many small chunks: the workers start on them before they have the caller's events.
        const d = await runScrub(app, { ...base, output: out('d'), workers: 2, chunkBytes: 2048, readEventsWhole: true });
        const w = await runScrub(app, { ...base, output: out('w'), workers: 0, readEventsWhole: true });
        // Each row's history read by number (short lists for callers with many events).
        const byNumber = await runScrub(app, { ...base, output: out('n'), workers: 0, historiesByNumber: true });
        // Too large to keep whole (a budget of 2 KB): the rowids instead, in the workers' parts too.
        const small = await runScrub(app, { ...base, output: out('s'), workers: 2, readEventsWhole: true, maxEventRecordBytes: 2048 });
        const textA = readFileSync(out('a'), 'utf8');
        for (const other of ['b', 'c', 'd', 'w', 's', 'n']) expect(readFileSync(out(other), 'utf8'), other).toBe(textA);
        expect(b.counts).toEqual(a.counts);
        expect(d.counts).toEqual(a.counts);
        expect(w.counts).toEqual(a.counts);
        expect(small.counts).toEqual(a.counts);
        expect(byNumber.counts).toEqual(a.counts);
        expect(a.counts.rows).toBe(1500);

        const input = readFileSync(listFile, 'utf8').trimEnd().split('\n').slice(1);
        const output = textA.trimEnd().split('\n').slice(1);
        expect(output).toHaveLength(1500);
        const outcomes = new Set(output.map((l) => l.split(',').slice(-3).join(',')));
        expect(outcomes.size, [...outcomes].join(' / ')).toBeGreaterThanOrEqual(3);
        const sample = new Set<number>([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        while (sample.size < 250) sample.add(int(1500));
        for (const i of sample) {
          const row = input[i]!;
          const phone = /^\d+,(?:"[^"]*"|[^,]*),("[^"]*"|[^,]*),/.exec(row)![1]!.replace(/^"(.*)"$/, '$1');
          const d = await app.decide({ phone, entityId: e.id, at, productCategory: product });
          const cols = output[i]!.split(',');
          const [e164, allowed, basis, denials] = cols.slice(-4);
          expect(output[i]!.startsWith(row), `row ${i + 2} keeps its columns`).toBe(true);
          expect({ e164, allowed, basis, denials }, `row ${i + 2}: ${row}`).toEqual({
            e164: d.phone ?? '',
            allowed: String(d.allowed),
            basis: d.basis ?? '',
            denials: d.denials.join('|'),
          });
        }
      }, 120_000);
    }
  }

  /**
   * Checks 150 rows of a scrubbed list (the first six and a random sample) against Optline.decide
   * asked `question`; answers how many of them `other` (the usual question) decides otherwise.
   */
  async function sampleEqualsDecide(scrubbed: string, question: Omit<DecisionInput, 'phone'>, other: Omit<DecisionInput, 'phone'>): Promise<number> {
    const input = readFileSync(listFile, 'utf8').trimEnd().split('\n').slice(1);
    const output = scrubbed.trimEnd().split('\n').slice(1);
    const sample = new Set<number>([0, 1, 2, 3, 4, 5]);
    while (sample.size < 150) sample.add(int(1500));
    let differs = 0;
    for (const i of sample) {
      const phone = /^\d+,(?:"[^"]*"|[^,]*),("[^"]*"|[^,]*),/.exec(input[i]!)![1]!.replace(/^"(.*)"$/, '$1');
      const d = await app.decide({ ...question, phone });
      if ((await app.decide({ ...other, phone })).allowed !== d.allowed) differs++;
      const [e164, allowed, basis, denials] = output[i]!.split(',').slice(-4);
      expect({ e164, allowed, basis, denials }, `row ${i + 2}: ${input[i]}`).toEqual({ e164: d.phone ?? '', allowed: String(d.allowed), basis: d.basis ?? '', denials: d.denials.join('|') });
    }
    return differs;
  }

  // A campaign run by an automatic dialer playing a recorded message (US-6, GB-1): the scrub asks
  // the engine that question for every row, as POST /v1/decisions with autodialed and prerecorded –
  // and, for a list the caller says is all landlines, with that line type.
  for (const [e, lineType] of ENTITIES.flatMap((x) => [[x, null], ...(x.country === 'US' ? [[x, 'fixed'] as const] : [])] as Array<[(typeof ENTITIES)[number], 'fixed' | null]>)) {
    // The list of landlines is dialled live by the autodialer: US-6 asks consent for mobiles only.
    const prerecorded = lineType === null;
    it(`${e.id}, autodialed${prerecorded ? ' with a recorded message' : ', a list of landlines'}: a random sample of rows equals Optline.decide, and the scrub record says what was asked`, async () => {
      const out = (n: string) => join(dir, `${e.id}-robo-${lineType ?? 'any'}-${n}.csv`);
      const base = { entityId: e.id, input: listFile, at: NOW, productCategory: null, autodialed: true, prerecorded, lineType };
      const a = await runScrub(app, { ...base, output: out('a'), workers: 0 });
      const b = await runScrub(app, { ...base, output: out('b'), workers: 2 });
      await runScrub(app, { ...base, output: out('c'), workers: 0, exact: true });
      const textA = readFileSync(out('a'), 'utf8');
      for (const other of ['b', 'c']) expect(readFileSync(out(other), 'utf8'), other).toBe(textA);
      expect(b.counts).toEqual(a.counts);
      const record = await new ScrubStore(store).get(a.id);
      expect(record).toMatchObject({ autodialed: true, prerecorded, productCategory: null, lineType });

      // Against the same call to numbers of unknown line type (US: counted as mobile), or live.
      const differs = await sampleEqualsDecide(textA, { entityId: e.id, at: NOW, autodialed: true, prerecorded, lineType }, lineType ? { entityId: e.id, at: NOW, autodialed: true } : { entityId: e.id, at: NOW });
      // Where recorded messages need consent, the question changes answers the live one allowed.
      if (e.country === 'US' || e.country === 'GB') expect(differs).toBeGreaterThan(0);
    }, 120_000);
  }

  // A list that gives each row's line type (a US list with wireless flags): every row is asked with
  // the line type its column gives, as POST /v1/decisions with lineType; an empty or other value
  // leaves the row to the number (US: counted as mobile).
  for (const e of ENTITIES.filter((x) => x.country === 'US')) {
    it(`${e.id}, autodialed, a line type column: a random sample of rows equals Optline.decide with each row's line type`, async () => {
      const VALUES: Array<[string, 'mobile' | 'fixed' | null]> = [
        ['mobile', 'mobile'], ['Wireless', 'mobile'], ['CELL', 'mobile'], ['"cell phone"', 'mobile'],
        ['fixed', 'fixed'], ['Landline', 'fixed'], ['"Land Line"', 'fixed'], ['wireline', 'fixed'], ['fixed_line', 'fixed'],
        ['', null], ['voip', null], ['"cell, prepaid"', null], ['"land ""line"""', null],
      ];
      const [header, ...rows] = readFileSync(listFile, 'utf8').trimEnd().split('\n');
      const given = rows.map(() => VALUES[int(VALUES.length)]!);
      const list = join(dir, `${e.id}-line-types.csv`);
      writeFileSync(list, [`${header},Line Type`, ...rows.map((r, i) => `${r},${given[i]![0]}`)].join('\n') + '\n');
      const out = (n: string) => join(dir, `${e.id}-line-types-${n}.csv`);
      const base = { entityId: e.id, input: list, at: NOW, autodialed: true, lineTypeColumn: 'line type' };
      const a = await runScrub(app, { ...base, output: out('a'), workers: 0 });
      const b = await runScrub(app, { ...base, output: out('b'), workers: 2, chunkBytes: 4096 });
      await runScrub(app, { ...base, output: out('c'), workers: 0, exact: true });
      const textA = readFileSync(out('a'), 'utf8');
      for (const other of ['b', 'c']) expect(readFileSync(out(other), 'utf8'), other).toBe(textA);
      expect(b.counts).toEqual(a.counts);
      const t = a.counts.lineTypes!;
      expect(t.mobile + t.fixed + t.notGiven + t.unread).toBe(a.counts.rows - a.counts.invalid);
      expect(t.unreadValues).toEqual(expect.arrayContaining(['voip']));
      // The record keeps the counts, not the values it could not read (the list's data: an erasure does not reach the record).
      expect(await new ScrubStore(store).get(a.id)).toMatchObject({ lineTypeColumn: 'Line Type', lineTypes: { ...t, unreadValues: [] } });

      const output = textA.trimEnd().split('\n').slice(1);
      const sample = new Set<number>([0, 1, 2, 3, 4, 5]);
      while (sample.size < 200) sample.add(int(rows.length));
      let fixedAllowed = 0;
      for (const i of sample) {
        const phone = /^\d+,(?:"[^"]*"|[^,]*),("[^"]*"|[^,]*),/.exec(rows[i]!)![1]!.replace(/^"(.*)"$/, '$1');
        const lineType = given[i]![1];
        const d = await app.decide({ phone, entityId: e.id, at: NOW, autodialed: true, ...(lineType ? { lineType } : {}) });
        if (lineType === 'fixed' && d.allowed) fixedAllowed++;
        const [e164, allowed, basis, denials] = output[i]!.split(',').slice(-4);
        expect({ e164, allowed, basis, denials }, `row ${i + 2}: ${rows[i]},${given[i]![0]}`).toEqual({ e164: d.phone ?? '', allowed: String(d.allowed), basis: d.basis ?? '', denials: d.denials.join('|') });
      }
      // Landlines are dialled live by the autodialer (US-6 asks consent of mobiles only): some are allowed.
      expect(fixedAllowed).toBeGreaterThan(0);
    }, 120_000);
  }

  it('a line type column the list lacks is named with the columns seen, and may not be the phone column', async () => {
    await expect(runScrub(app, { entityId: 'us-co', input: listFile, output: join(dir, 'lt-missing.csv'), lineTypeColumn: 'wireless_flag' })).rejects.toThrow(
      /no column "wireless_flag" for the line type\. Columns seen: "id", "name", "phone", "segment"/,
    );
    await expect(runScrub(app, { entityId: 'us-co', input: listFile, output: join(dir, 'lt-phone.csv'), phoneColumn: 'phone', lineTypeColumn: 'phone' })).rejects.toThrow(/cannot be read from the phone column/);
    // Named as the line type column, a column is not taken for the phone column either.
    await expect(runScrub(app, { entityId: 'us-co', input: listFile, output: join(dir, 'lt-phone.csv'), lineTypeColumn: 'phone' })).rejects.toThrow(/no phone column/);
    // A line type column whose name a phone column could have ("mobile"): the phone column is found past it.
    const list = join(dir, 'lt-mobile.csv');
    writeFileSync(list, 'id,msisdn,mobile\n1,+12125550123,no\n2,+12125550124,yes\n');
    const r = await runScrub(app, { entityId: 'us-co', input: list, output: join(dir, 'lt-mobile-out.csv'), lineTypeColumn: 'mobile' });
    expect(r.dialect).toMatchObject({ phoneColumn: 'msisdn', lineTypeColumn: 'mobile' });
    // Values shown as written (UTF-8), in the command's own summary.
    writeFileSync(list, 'phone,type\n+12125550123,Téléphone fixe\n');
    const accents = await runScrub(app, { entityId: 'us-co', input: list, output: join(dir, 'lt-mobile-out.csv'), lineTypeColumn: 'type' });
    expect(accents.counts.lineTypes!.unreadValues).toEqual(['téléphone fixe']);
  });

  // A list of businesses (NL-1: legal persons are called under opt-out; DE-2: presumed consent):
  // every row is asked with that subscriber type, as POST /v1/decisions with subscriberType.
  for (const e of ENTITIES.filter((x) => x.country === 'NL' || x.country === 'DE')) {
    it(`${e.id}, a list of businesses: a random sample of rows equals Optline.decide, and the record says so`, async () => {
      const out = (n: string) => join(dir, `${e.id}-business-${n}.csv`);
      const base = { entityId: e.id, input: listFile, at: NOW, subscriberType: 'business' as const };
      const a = await runScrub(app, { ...base, output: out('a'), workers: 0 });
      await runScrub(app, { ...base, output: out('b'), workers: 2 });
      const textA = readFileSync(out('a'), 'utf8');
      expect(readFileSync(out('b'), 'utf8')).toBe(textA);
      expect(await new ScrubStore(store).get(a.id)).toMatchObject({ subscriberType: 'business' });
      const differs = await sampleEqualsDecide(textA, { entityId: e.id, at: NOW, subscriberType: 'business' }, { entityId: e.id, at: NOW });
      // Businesses are called under other rules than consumers: some answers change.
      expect(differs).toBeGreaterThan(0);
    }, 120_000);
  }

  it('a list read whole in its first block is handed out in chunks of a block (1 MB for lists of customers)', async () => {
    // 100 copies of the list's rows: more than 2 MB, read at once with the header, then cut.
    const [header, ...rows] = readFileSync(listFile, 'utf8').trimEnd().split('\n');
    const big = join(dir, 'big.csv');
    writeFileSync(big, [header, ...Array.from({ length: 100 }, () => rows).flat()].join('\n') + '\n');
    const base = { entityId: 'nl-co', input: big, at: NOW };
    let chunks = 0;
    const a = await runScrub(app, { ...base, output: join(dir, 'big-a.csv'), workers: 0, readEventsWhole: false });
    const b = await runScrub(app, { ...base, output: join(dir, 'big-b.csv'), workers: 2, readEventsWhole: true, onProgress: () => chunks++ });
    expect(statSync(big).size).toBeGreaterThan(2 << 20);
    expect(chunks).toBeGreaterThan(statSync(big).size / (1 << 20));
    expect(b.counts).toEqual(a.counts);
    expect(a.counts.rows).toBe(100 * 1500);
    expect(readFileSync(join(dir, 'big-b.csv'), 'utf8')).toBe(readFileSync(join(dir, 'big-a.csv'), 'utf8'));
  }, 120_000);

  it("erased people's numbers are found by their entries' tags, and by hash alone for entries made before tags", async () => {
    const entries = await store.db.selectFrom('suppressions').select(['id', 'tag', 'pepper_id']).execute();
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.tag !== null && e.tag >= 0 && e.tag < 65536)).toBe(true);
    const base = { entityId: 'nl-co', input: listFile, at: NOW };
    const tagged = await runScrub(app, { ...base, output: join(dir, 'tagged.csv'), workers: 2 });
    // As a store migrated from before tags has them: no tag, only the hash.
    await store.db.updateTable('suppressions').set({ tag: null }).execute();
    try {
      const untagged = await runScrub(app, { ...base, output: join(dir, 'untagged.csv'), workers: 2 });
      expect(untagged.counts).toEqual(tagged.counts);
      expect(readFileSync(join(dir, 'untagged.csv'), 'utf8')).toBe(readFileSync(join(dir, 'tagged.csv'), 'utf8'));
    } finally {
      for (const e of entries) await store.db.updateTable('suppressions').set({ tag: e.tag }).where('id', '=', e.id).execute();
    }
    // The erased numbers lead the list: each is refused with its entry's reason.
    expect(tagged.counts.denied).toBeGreaterThan(0);
  }, 120_000);

  it('counts add up and invalid rows go to the rejects with their line numbers', async () => {
    const out = join(dir, 'counts.csv');
    const rej = join(dir, 'counts.rejects.csv');
    const r = await runScrub(app, { entityId: 'nl-co', input: listFile, output: out, rejects: rej, at: NOW });
    const c = r.counts;
    expect(c.allowed + c.denied + c.invalid).toBe(c.rows);
    const rows = parseOut(readFileSync(out, 'utf8'));
    expect(rows.filter((x) => x.at(-3) === 'true')).toHaveLength(c.allowed);
    expect(rows.filter((x) => x.at(-1) === 'invalid_number')).toHaveLength(c.invalid);
    const basisSum = Object.values(c.byBasis).reduce((s, n) => s + n, 0);
    expect(basisSum).toBe(c.allowed);
    const rejects = readFileSync(rej, 'utf8').trimEnd().split('\n');
    expect(rejects[0]).toBe('line,reason,id,name,phone,segment');
    expect(rejects).toHaveLength(c.invalid + 1);
    const input = readFileSync(listFile, 'utf8').split('\n');
    for (const line of rejects.slice(1)) {
      const n = Number(line.split(',')[0]);
      expect(line.endsWith(input[n - 1]!), `reject line ${n}`).toBe(true);
    }
  }, 60_000);
});
