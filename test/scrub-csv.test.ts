/**
 * CSV handling of the scrub: the row scanner against uDSV on random quoted CSV, the chunk cutter,
 * the dialect, and whole scrubs of awkward files – BOM, CRLF, empty lines, quotes, a missing
 * phone column, malformed rows, no rows, an interrupted scrub.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { deflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { inferSchema, initParser } from 'udsv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnNotes, columnWarnings, CsvError, lastRowBoundary, otherPhoneColumns, readDialect, scanRows, WORKBOOK_REFUSED } from '../src/scrub/csv.js';
import { Store } from '../src/store/repository.js';
import { Optline } from '../src/service/optline.js';
import { runScrub, ScrubAborted } from '../src/scrub/run.js';
import { ScrubStore } from '../src/scrub/store.js';

const NOW = Date.parse('2026-11-30T15:00:00+01:00');
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function scan(text: string, delimiter: string, phoneIndex: number, final = true) {
  const rows: Array<{ line: number; raw: string; phone: string | null; fields: number }> = [];
  const lines = scanRows(text, delimiter, phoneIndex, { row: (line, a, b, ps, pe, quoted, fields) => rows.push({ line, raw: text.slice(a, b), phone: quoted ?? (ps < 0 ? null : text.slice(ps, pe)), fields }) }, final);
  return { rows, lines };
}

/** A header as readDialect gets it: UTF-8 bytes as latin1 text. */
const utf8Head = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
const dialectOf = (header: string, opts: { lineTypeColumn?: string } = {}) => readDialect(utf8Head(`${header}\n`), { atEnd: true, ...opts }).dialect;

/** The start of a ZIP as a spreadsheet program writes it: one local file entry, deflated. */
function zipStart(name: string, content: string): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(8, 8);
  header.writeUInt16LE(Buffer.byteLength(name), 26);
  return Buffer.concat([header, Buffer.from(name), deflateRawSync(content)]);
}
/** The start of a legacy .xls (an OLE2 compound file): its signature, then a header mostly of NULs. */
const XLS_START = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(16), Buffer.from([0x3e, 0, 3, 0, 0xfe, 0xff, 9, 0, 6]), Buffer.alloc(200)]);
const XLSX_START = zipStart('[Content_Types].xml', '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">');
/** .ods: a ZIP too, its first entry stored. */
const ODS_START = Buffer.concat([zipStart('mimetype', '').subarray(0, 38), Buffer.from('application/vnd.oasis.opendocument.spreadsheet')]);

const quote = (v: string, d: string): string => (/["\r\n]/.test(v) || v.includes(d) || v === '' ? `"${v.replace(/"/g, '""')}"` : v);

describe('row scanner', () => {
  it('finds the same field as uDSV on random quoted CSV', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', '1', '+', ' ', ',', ';', '"', '\n', '\r\n', 'é'), maxLength: 8 });
    fc.assert(
      fc.property(
        fc.constantFrom(',', ';', '\t', '|'),
        fc.integer({ min: 2, max: 5 }),
        fc.array(fc.array(field, { minLength: 5, maxLength: 5 }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 4 }),
        (d, ncols, rows, crlf, k) => {
          const phoneIndex = k % ncols;
          const eol = crlf ? '\r\n' : '\n';
          const header = Array.from({ length: ncols }, (_, i) => `c${i}`).join(d);
          // Every field quoted when it must be; the last field never empty, so no row is blank.
          const body = rows.map((r) => r.slice(0, ncols).map((v, i) => quote(i === ncols - 1 && v === '' ? 'x' : v, d)).join(d));
          const csv = [header, ...body].join(eol) + eol;
          const parser = initParser({ ...inferSchema(csv, { col: d, row: eol, encl: '"' }), col: d, row: eol, encl: '"', esc: '"' } as ReturnType<typeof inferSchema>);
          const expected = parser.stringArrs(csv);
          const got = scan(csv.slice(header.length + eol.length), d, phoneIndex);
          expect(got.rows.map((r) => r.phone)).toEqual(expected.map((r) => r[phoneIndex]));
          expect(got.rows.every((r) => r.fields === ncols)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('counts physical lines: empty lines, CRLF, line breaks inside quotes', () => {
    const text = '1,"a\nb",+31612345678\r\n\r\n\n2,c,"+3161234\n5678"\n3,d\n4,"x""y",""\n';
    const { rows, lines } = scan(text, ',', 2);
    expect(lines).toBe(8);
    expect(rows.map((r) => [r.line, r.phone, r.fields])).toEqual([
      [1, '+31612345678', 3],
      [5, '+3161234\n5678', 3],
      [7, null, 2],
      [8, '', 3],
    ]);
    expect(rows[0]!.raw).toBe('1,"a\nb",+31612345678');
  });

  it('cuts chunks where the scanner sees a row end, also with stray quotes', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', ',', '"', '\n', '1'), { maxLength: 60 }), (chars) => {
        const text = chars.join('') + '\n';
        const buf = Buffer.from(text, 'latin1');
        const cut = lastRowBoundary(buf, buf.length, ',');
        if (cut > 0) {
          // The scanner reads the first part without running into an open quote.
          expect(() => scan(text.slice(0, cut), ',', 1, false)).not.toThrow();
        }
      }),
      { numRuns: 500 },
    );
    expect(lastRowBoundary(Buffer.from('a,"b\nc",d\ne,f'), 13, ',')).toBe(10);
    expect(lastRowBoundary(Buffer.from('a,"b\nc'), 6, ',')).toBe(-1);
  });
});

describe('dialect', () => {
  it('reads the delimiter, quoted names, BOM and line ending; finds the phone column', () => {
    const d = readDialect('\u00ef\u00bb\u00bfKlant;"Naam; voluit";Telefoon\r\n1;A;0612345678\r\n', { atEnd: true }).dialect;
    expect(d).toMatchObject({ delimiter: ';', eol: '\r\n', bom: true, columns: ['Klant', 'Naam; voluit', 'Telefoon'], phoneIndex: 2, phoneColumn: 'Telefoon' });
    expect(readDialect('id\tmobile\n', { atEnd: true }).dialect).toMatchObject({ delimiter: '\t', phoneIndex: 1 });
    expect(readDialect('a,b,Phone Number\n', { atEnd: true }).dialect.phoneIndex).toBe(2);
    expect(readDialect('a,b,tel_no\n', { atEnd: true, phoneColumn: 'TEL_NO' }).dialect.phoneIndex).toBe(2);
  });

  it('names the columns it saw when there is no phone column', () => {
    expect(() => readDialect('id,name,fax\n', { atEnd: true })).toThrow(/no phone column\. Columns seen: "id", "name", "fax"/);
    expect(() => readDialect('id,name\n', { atEnd: true, phoneColumn: 'gsm' })).toThrow(/no column "gsm"\. Columns seen: "id", "name"/);
    expect(() => readDialect('', { atEnd: true })).toThrow(/empty/);
  });

  it('finds phone columns as CRM exports name them (Salesforce, HubSpot, Dynamics; Dutch and German)', () => {
    // Refused as "no phone column" before: only exact names were taken.
    for (const name of [
      'Mobile Phone', 'Phone 1', 'Telephone Number', 'Cell Phone', 'Tel.', 'Mobil', 'Rufnummer', 'Festnetz', 'Mobilfunknummer', 'Telefoon 1', 'Mobiele telefoon', 'Telefoonnummer mobiel',
      'Phone_Number', 'TELEFON-NR.', 'Tel.-Nr.', 'Handy-Nr', 'Mobile Number (Work)', 'MobilePhone', 'Phone_Number__c', 'Geschäftstelefon', 'Werktelefoon', 'GSM-nummer', 'E.164', 'Ｔｅｌｅｆｏｎ',
    ]) {
      expect(dialectOf(`id;Name;${name};Ort`).phoneColumn, name).toBe(name);
    }
  });

  it('takes no column for the phone column that only looks like one: other numbers, fax, what is said about the number', () => {
    for (const name of [
      'customer number', 'Kundennummer', 'klantnummer', 'order number', 'house number', 'Hausnummer', 'huisnummer', 'Lfd. Nr.', 'postcode', 'zip',
      'fax', 'Faxnummer', 'Telefax', 'Tel./Fax', 'Fax-Nr.', 'Hotel', 'Titel', 'Rufname', 'Telefonat', 'Francophone', 'iPhone',
      'Phone Type', 'Phone Opt-In', 'Telefon Einwilligung', 'Phone Extension', 'Phone Country Code', 'Mobile Y/N', 'Mobilfunkanbieter', 'Handy Modell', 'Notfalltelefon',
    ]) {
      expect(() => dialectOf(`id;Name;${name}`), name).toThrow(/no phone column\. Columns seen: "id", "Name", /);
    }
  });

  it('prefers the names it took before, in their order; then other phone names in header order; a bare "Nr." last', () => {
    expect(dialectOf('Kundennummer;Telefon').phoneColumn).toBe('Telefon');
    expect(dialectOf('Kundennummer;Telefon privat').phoneColumn).toBe('Telefon privat');
    // Unchanged for lists that had a column of the old names: it is still the one checked.
    expect(dialectOf('Mobile Phone;Telefoon 1;phone').phoneColumn).toBe('phone');
    expect(dialectOf('Mobil;number').phoneColumn).toBe('number');
    // "Nr." is mostly a row number: taken only when nothing else is a phone column, and not warned about.
    expect(dialectOf('Nr.;Name;Telefon privat').phoneColumn).toBe('Telefon privat');
    expect(otherPhoneColumns(dialectOf('Nr.;Name;Telefon privat'), false)).toEqual([]);
    expect(dialectOf('Nr.;Name').phoneColumn).toBe('Nr.');
    // Named as the line type column, "Mobil" is passed by.
    expect(dialectOf('id;Mobil;Festnetz', { lineTypeColumn: 'Mobil' })).toMatchObject({ phoneColumn: 'Festnetz', lineTypeColumn: 'Mobil' });
  });

  it('names the other columns that look like phone numbers, by the same names', () => {
    const d = dialectOf('Kunde;Telefon privat;Telefon geschäftlich;Fax;Mobil');
    expect(d.phoneColumn).toBe('Telefon privat');
    expect(otherPhoneColumns(d, false)).toEqual(['Telefon geschäftlich', 'Mobil']);
    expect(columnWarnings(columnNotes(d, false), d.phoneColumn)[0]).toMatch(/^"Telefon geschäftlich", "Mobil" look like phone numbers too; only "Telefon privat" was checked/);
    expect(otherPhoneColumns(dialectOf('id;Phone 1;Phone 2'), false)).toEqual(['Phone 2']);
    expect(otherPhoneColumns(dialectOf('id;phone;mobile'), false)).toEqual(['mobile']);
    expect(otherPhoneColumns(d, true)).toEqual([]);
  });

  it('refuses a spreadsheet workbook by its signature, saying how to save it as CSV (it was taken for UTF-16)', () => {
    for (const [what, bytes, said] of [
      ['xlsx', XLSX_START, /^The list is a spreadsheet workbook \(Excel or similar: \.xlsx, \.ods\), not CSV text: in Excel use File › Save as › "CSV UTF-8 \(comma delimited\)"/],
      ['ods', ODS_START, /^The list is a spreadsheet workbook \(Excel or similar/],
      ['xls', XLS_START, /^The list is an Excel workbook \(\.xls\), not CSV text: in Excel use File › Save as › "CSV UTF-8/],
    ] as const) {
      let err: unknown;
      try {
        readDialect(bytes.toString('latin1'), { atEnd: true });
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(CsvError);
      expect((err as CsvError).message, what).toMatch(said);
      expect((err as CsvError).errors, what).toEqual([{ path: 'csv', message: WORKBOOK_REFUSED }]);
    }
    // A zipped CSV is said to be one.
    expect(() => readDialect(zipStart('list.csv', 'id,phone\n1,+31612345678\n').toString('latin1'), { atEnd: true })).toThrow(/^The list is a ZIP archive, not CSV text: unpack it/);
    // A header that merely starts with the letters PK is a header.
    expect(dialectOf('PK;phone').phoneColumn).toBe('phone');
  });

  it('says a list without a header row is one, without repeating the person\'s data of its first row', () => {
    for (const first of ['+31612340004,Jan Jansen,Dorpsstraat 1', 'Jan Jansen;06 1234 0004;Utrecht', '"(030) 123-4567",x', 'Max Muster,089 1234,München', 'Jo,555-1234,Ohio']) {
      let message = '';
      try {
        readDialect(`${first}\n`, { atEnd: true });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, first).toMatch(/^The first row holds a phone number, so it is a row of data, not a header row/);
      expect(message).not.toMatch(/Jansen|1234|Dorpsstraat|4567|Muster|Ohio/);
    }
    // Column names with a few digits are still names.
    expect(readDialect('id,phone,address_2,q3_2026,01-06-2024,2024.06.01\n', { atEnd: true }).dialect.phoneIndex).toBe(1);
  });

  it('refuses a header it cannot split as bad input, not a crash (found by fuzzing)', () => {
    expect(() => readDialect('"|', { atEnd: true })).toThrow(CsvError);
    expect(() => readDialect('"|', { atEnd: true })).toThrow(/header row cannot be read/);
  });
});

describe('scrubbing awkward files', () => {
  let dir: string;
  let store: Store;
  let app: Optline;
  const file = (name: string, text: string | Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'optline-scrub-csv-'));
    store = await Store.open(join(dir, 'o.db'));
    app = await Optline.open(store, () => NOW);
    await app.putEntity('acme', { name: 'Acme', kind: 'company', country: 'NL' });
    await app.recordConsent({ entityId: 'acme', channel: 'phone', status: 'granted', at: Date.parse('2026-01-01T10:00:00Z'), phone: '+31612345678', source: { method: 'agent_call', recordingRef: 'r1' } });
  });

  afterAll(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps BOM, CRLF, quoted fields and every column; skips empty lines; pads short rows', async () => {
    const input = file('bom.csv', '\ufeff"id";"name";"phone";"note"\r\n1;"Doe; J";"06 12345678";"said ""yes"""\r\n\r\n2;"multi\r\nline";+31612345679;\r\n3;short\r\n');
    const out = join(dir, 'bom.out.csv');
    const rej = join(dir, 'bom.rej.csv');
    const r = await runScrub(app, { entityId: 'acme', input, output: out, rejects: rej });
    expect(readFileSync(out, 'utf8')).toBe(
      '\ufeff"id";"name";"phone";"note";e164;allowed;basis;denials\r\n' +
        '1;"Doe; J";"06 12345678";"said ""yes""";+31612345678;true;consent;\r\n' +
        '2;"multi\r\nline";+31612345679;;+31612345679;false;;no_basis\r\n' +
        '3;short;;;;false;;invalid_number\r\n',
    );
    expect(readFileSync(rej, 'utf8')).toBe('\ufeffline;reason;"id";"name";"phone";"note"\r\n6;the row has 2 fields; the phone column "phone" is field 3;3;short\r\n'.replace('the row has 2 fields; the phone column "phone" is field 3', '"the row has 2 fields; the phone column ""phone"" is field 3"'));
    expect(r.counts).toEqual({ rows: 3, allowed: 1, denied: 1, invalid: 1, byBasis: { consent: 1 }, byDenial: { no_basis: 1 } });
  });

  it('reports unreadable numbers with their line numbers', async () => {
    const input = file('bad.csv', 'phone,name\n+31612345678,a\n\nnot a number,b\n+3161234,c\n,d\n0612345679,e\n');
    const rej = join(dir, 'bad.rej.csv');
    const r = await runScrub(app, { entityId: 'acme', input, output: join(dir, 'bad.out.csv'), rejects: rej });
    expect(r.counts).toMatchObject({ rows: 5, invalid: 3 });
    const lines = readFileSync(rej, 'utf8').trimEnd().split('\n').slice(1);
    expect(lines.map((l) => Number(l.split(',')[0]))).toEqual([4, 5, 6]);
    expect(lines[2]).toContain('empty');
  });

  it('writes numbers longer than a float64 holds exactly as they were read', async () => {
    // libphonenumber accepts some German numbers of 17 digits; the scrub keeps numbers as float64s.
    const input = file('long.csv', 'phone\n+49655109205435536\n+49 6551 0920543553 7\n+31612345678\n');
    const out = join(dir, 'long.out.csv');
    await runScrub(app, { entityId: 'acme', input, output: out });
    const e164s = readFileSync(out, 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split(',')[1]);
    expect(e164s).toEqual(['+49655109205435536', '+49655109205435537', '+31612345678']);
  });

  it('takes a list of 0 rows, and a header without a line ending', async () => {
    for (const [name, text] of [
      ['empty-list.csv', 'id,phone\n'],
      ['no-eol.csv', 'id,phone'],
    ] as const) {
      const out = join(dir, `${name}.out`);
      const sum = join(dir, `${name}.json`);
      const r = await runScrub(app, { entityId: 'acme', input: file(name, text), output: out, summary: sum });
      expect(r.counts.rows).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe('id,phone,e164,allowed,basis,denials\n');
      expect(JSON.parse(readFileSync(sum, 'utf8'))).toEqual({ rows: 0, allowed: 0, denied: 0, invalid: 0, byBasis: {}, byDenial: {} });
    }
  });

  it('refuses a list without a phone column or without a header, writing nothing', async () => {
    const out = join(dir, 'nophone.out.csv');
    await expect(runScrub(app, { entityId: 'acme', input: file('nophone.csv', 'id,name,fax\n1,a,+31612345678\n'), output: out })).rejects.toThrow(/Columns seen: "id", "name", "fax"/);
    await expect(runScrub(app, { entityId: 'acme', input: file('empty.csv', ''), output: out })).rejects.toThrow(/empty/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    const failed = (await new ScrubStore(store).recent(['acme'], 5)).filter((s) => s.status === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a workbook before reading it as text, with a path a page can say in its own language', async () => {
    const out = join(dir, 'workbook.out.csv');
    for (const [name, bytes] of [
      ['list.xlsx', XLSX_START],
      ['list.xls', XLS_START],
    ] as const) {
      await expect(runScrub(app, { entityId: 'acme', input: file(name, bytes), output: out }), name).rejects.toMatchObject({ errors: [{ path: 'csv', message: WORKBOOK_REFUSED }] });
    }
    expect(existsSync(out)).toBe(false);
  });

  it('leaves nothing under the final names when interrupted', async () => {
    const rows = ['id,phone'];
    for (let i = 0; i < 1_000_000; i++) rows.push(`${i},+316${String(10000000 + i)}`);
    const input = file('big.csv', rows.join('\n') + '\n');
    const out = join(dir, 'big.out.csv');
    const rej = join(dir, 'big.rej.csv');
    const ctrl = new AbortController();
    let progressed = 0;
    const run = runScrub(app, {
      entityId: 'acme',
      input,
      output: out,
      rejects: rej,
      signal: ctrl.signal,
      workers: 0,
      onProgress: () => {
        if (++progressed === 1) ctrl.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(ScrubAborted);
    expect(progressed).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(rej)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('a killed `optline scrub` process leaves no file under the final name', async () => {
    const rows = ['id,phone'];
    for (let i = 0; i < 1_500_000; i++) rows.push(`${i},+316${String(10000000 + i)}`);
    const input = file('kill.csv', rows.join('\n') + '\n');
    const out = join(dir, 'kill.out.csv');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'scrub', '--entity', 'acme', '--in', input, '--out', out], {
      env: { ...process.env, OPTLINE_DB: join(dir, 'o.db') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Kill it once it is writing its temporary output.
    for (let i = 0; i < 600 && child.exitCode === null; i++) {
      if (readdirSync(dir).some((f) => f.startsWith('.kill.out.csv') && f.endsWith('.tmp'))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(child.exitCode).toBeNull();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
