/**
 * CSV for the scrub: the dialect and header come from uDSV (delimiter inference, quoted header
 * names); data rows go through a scanner made for this job. A scrub reads one field a row and
 * must write every row back unchanged with four columns appended, so the scanner finds the
 * phone field and the row's extent and passes the raw bytes through – no splitting into fields,
 * no re-quoting. Measured on 1M rows here: uDSV stringArrs 1.0M rows/s (0.4M quoted) to parse
 * alone, the scanner 5M+ rows/s including the output. test/scrub-csv.test.ts checks the scanner
 * field by field against uDSV on random quoted CSV.
 *
 * Text is handled as latin1 (one char a byte), so any input encoding passes through byte for
 * byte; only the phone field is decoded as UTF-8 when it holds non-ASCII bytes.
 */
import { inferSchema } from 'udsv';
import { InputError } from '../service/errors.js';

export interface Dialect {
  /** Column delimiter: ',', ';', '\t' or '|'. */
  delimiter: string;
  /** Line ending of the header line, used for the lines Optline writes. */
  eol: '\n' | '\r\n';
  /** The header line as read (latin1 text, without its line ending). */
  headerRaw: string;
  columns: string[];
  phoneIndex: number;
  phoneColumn: string;
  /** The column that gives each row's line type (mobile or fixed), when named: -1 none. */
  lineTypeIndex: number;
  lineTypeColumn: string | null;
  /** The input started with a UTF-8 byte order mark (written back to the outputs). */
  bom: boolean;
}

/** Header names taken for the phone column when none is named, in this order (case-insensitive). */
export const PHONE_COLUMN_NAMES = [
  'phone', 'phone_number', 'phonenumber', 'phone number', 'telephone', 'tel', 'mobile', 'mobile_number', 'mobile number', 'msisdn', 'e164', 'number',
  // Dutch and German exports
  'telefoon', 'telefoonnummer', 'mobiel', 'mobiel nummer', 'gsm', 'telefon', 'telefonnummer', 'handy', 'handynummer', 'mobilnummer',
];

/*
 * Other names of phone columns, as CRM exports write them ("Mobile Phone", "Telefoon 1",
 * "Tel.-Nr.", "Mobilfunknummer"): matched by word, after phoneColumnWords() has normalised the
 * name. A word is a phone word alone or with a number word after it (telnr, Rufnummer); German
 * and Dutch put what kind of phone it is in front (Geschäftstelefon, Werktelefoon, Firmenhandy),
 * so the long words below may end a word. Short ones must be the whole word: "tel" ends Hotel
 * and Titel, "mobil" Automobil, "phone" Francophone.
 */
const PHONE_WORDS = new Set(['phone', 'telephone', 'tel', 'mobile', 'cell', 'cellphone', 'cellular', 'msisdn', 'e164', 'telefoon', 'mobiel', 'mobiele', 'gsm', 'telefon', 'handy', 'mobil', 'mobilfunk', 'festnetz']);
const PHONE_WORD_ENDS = ['telephone', 'telefoon', 'telefon', 'handy'];
/** English run-together names (HomePhone is split at its capital; homephone is not). */
const PHONE_PREFIXES = new Set(['home', 'work', 'business', 'office', 'mobile', 'cell', 'other', 'private', 'main', 'direct', 'company', 'personal', 'day', 'evening', 'car']);
const NUMBER_SUFFIXES = ['number', 'nummer', 'nr', 'no', 'num', 'nbr'];
/** A column called only this may hold phone numbers – taken last: it is often a row or customer number. */
const BARE_NUMBER_WORDS = new Set(['number', 'nummer', 'nr']);
/**
 * Words that make a name with a phone word something else: fax (never a call target), what is
 * said about the number (its type, consent, status, extension, country code, carrier, when it
 * was called) and another person's number.
 */
const NOT_PHONE_WORDS = new Set([
  'type', 'typ', 'soort', 'art', 'kind', 'consent', 'opt', 'optin', 'optout', 'permission', 'einwilligung', 'zustimmung', 'toestemming', 'allowed', 'erlaubt', 'ok',
  'dnc', 'not', 'nicht', 'niet', 'kein', 'keine', 'geen', 'sperre', 'gesperrt', 'blocked', 'status', 'verified', 'valid', 'gepruft', 'geverifieerd',
  'ext', 'extension', 'durchwahl', 'toestel', 'country', 'land', 'code', 'prefix', 'area', 'vorwahl', 'landesvorwahl', 'netnummer', 'kengetal',
  'carrier', 'provider', 'anbieter', 'operator', 'network', 'netwerk', 'app', 'device', 'model', 'modell', 'os', 'contract', 'vertrag', 'tarif', 'tariff', 'plan', 'abo',
  'call', 'calls', 'called', 'anruf', 'anrufe', 'date', 'datum', 'time', 'zeit', 'count', 'anzahl', 'aantal', 'source', 'quelle', 'bron',
  'note', 'notes', 'notiz', 'bemerkung', 'opmerking', 'comment', 'y', 'n', 'yn', 'jn', 'ja', 'nein', 'yes', 'is', 'ist', 'flag',
  'assistant', 'assistent', 'emergency', 'notfall', 'nood', 'i', // iPhone: a yes or no
]);

/**
 * The words of a header name: camelCase split (MobilePhone), compatibility forms and accents
 * folded (NFKD: full-width letters, Téléphone), lower-case; anything but letters – punctuation,
 * digits (Phone 1), spaces, underscores, dashes – breaks words. "E.164" stays one word.
 */
export function phoneColumnWords(name: string): string[] {
  const s = name
    .replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2')
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/(^|[^\p{L}\p{N}])e\.?164(?!\p{N})/gu, '$1 e164 ');
  return s.split(/[^\p{L}\p{N}]+/u).flatMap((w) => (w === 'e164' ? [w] : w.split(/\p{N}+/u))).filter((w) => w !== '');
}

function isPhoneWord(word: string): boolean {
  const bases = [word];
  for (const n of NUMBER_SUFFIXES) if (word.length > n.length && word.endsWith(n)) bases.push(word.slice(0, -n.length));
  return bases.some(
    (b) =>
      PHONE_WORDS.has(b) ||
      (b === 'ruf' && b !== word) || // Rufnummer, Rufnr. (Rufname is a first name)
      PHONE_WORD_ENDS.some((e) => b.endsWith(e) && !NOT_PHONE_WORDS.has(b.slice(0, -e.length))) || // not Notfalltelefon
      (b.endsWith('phone') && PHONE_PREFIXES.has(b.slice(0, -'phone'.length))),
  );
}

/** Rank of the names PHONE_COLUMN_NAMES does not hold that phoneColumnRank takes: a phone word, then a bare number word. */
const NAMED_LIKE_A_PHONE = PHONE_COLUMN_NAMES.length;
const BARE_NUMBER = NAMED_LIKE_A_PHONE + 1;

/**
 * Whether a header name is a phone column's, and how surely – the column with the lowest rank is
 * taken, the first of them in the header: PHONE_COLUMN_NAMES as written (whatever the case), in
 * that list's order, as before; then any other name with a phone word and nothing that makes it
 * something else (fax, its type or consent, …); then a name that is only "Nummer" or "Nr." –
 * -1: not a phone column.
 */
export function phoneColumnRank(name: string): number {
  const exact = PHONE_COLUMN_NAMES.indexOf(name.toLowerCase());
  if (exact >= 0) return exact;
  const words = phoneColumnWords(name);
  if (words.some((w) => w.includes('fax') || NOT_PHONE_WORDS.has(w))) return -1;
  if (words.some(isPhoneWord)) return NAMED_LIKE_A_PHONE;
  return words.length === 1 && BARE_NUMBER_WORDS.has(words[0]!) ? BARE_NUMBER : -1;
}

/** The phone column among `columns` (passing `skip` by), by phoneColumnRank; -1 none. */
export function findPhoneColumn(columns: readonly string[], skip = -1): number {
  let best = -1;
  let bestRank = Infinity;
  columns.forEach((c, i) => {
    const rank = i === skip ? -1 : phoneColumnRank(c);
    if (rank >= 0 && rank < bestRank) {
      best = i;
      bestRank = rank;
    }
  });
  return best;
}

/** The columns a scrub appends to every row. */
const APPENDED_COLUMNS = ['e164', 'allowed', 'basis', 'denials'];

/**
 * Other columns that look like phone numbers, when the phone column was found rather than named:
 * only one is checked. By phoneColumnRank, as the phone column is found – but for a column called
 * only "Nummer" or "Nr.", mostly a row or customer number (a column called "number" is named, as
 * before).
 */
export function otherPhoneColumns(d: Pick<Dialect, 'columns' | 'phoneIndex' | 'lineTypeIndex'>, phoneColumnNamed: boolean): string[] {
  if (phoneColumnNamed) return [];
  // A list scrubbed before: its e164 column is the earlier scrub's reading of the phone column.
  const again = scrubbedBefore(d);
  return d.columns.filter((c, i) => {
    const rank = i === d.phoneIndex || i === d.lineTypeIndex || (again && APPENDED_COLUMNS.includes(c)) ? -1 : phoneColumnRank(c);
    return rank >= 0 && rank !== BARE_NUMBER;
  });
}

/** The list has the columns a scrub appends already: it was scrubbed before. */
export function scrubbedBefore(d: Pick<Dialect, 'columns'>): boolean {
  return APPENDED_COLUMNS.every((c) => d.columns.includes(c));
}

/**
 * What the user should know about how a list's columns were read, though nothing is wrong: other
 * columns that look like phone numbers (only one is checked – a list with `mobile` and `phone`
 * leaves the mobiles unchecked), and a list that was scrubbed before (its columns come twice).
 * Read once by the scrub: its record keeps them, the command warns of them, HTTP sends them.
 */
export interface ColumnNotes {
  otherPhoneColumns: string[];
  scrubbedBefore: boolean;
}

export function columnNotes(d: Pick<Dialect, 'columns' | 'phoneIndex' | 'lineTypeIndex'>, phoneColumnNamed: boolean): ColumnNotes {
  return { otherPhoneColumns: otherPhoneColumns(d, phoneColumnNamed), scrubbedBefore: scrubbedBefore(d) };
}

/** The column notes as the command's warnings. */
export function columnWarnings(notes: ColumnNotes, phoneColumn: string): string[] {
  const warnings: string[] = [];
  const others = notes.otherPhoneColumns;
  if (others.length > 0) {
    warnings.push(
      `${others.map((c) => `"${c}"`).join(', ')} ${others.length === 1 ? 'looks' : 'look'} like phone numbers too; only "${phoneColumn}" was checked. Name the column to check with --phone-column (to check both, scrub the list once for each).`,
    );
  }
  if (notes.scrubbedBefore) {
    warnings.push(`The list has the columns ${APPENDED_COLUMNS.join(', ')} already – was it scrubbed before? The output has them twice; the last ones are this scrub's.`);
  }
  return warnings;
}

export class CsvError extends InputError {
  constructor(message: string, path = 'csv', pathMessage = message) {
    super(message, [{ path, message: pathMessage }]);
    this.name = 'CsvError';
  }
}

/** The delimiters a list may use (uDSV infers which). */
const DELIMITERS = [',', ';', '\t', '|'];

/**
 * Position just after the first complete row (its line ending included), respecting quotes;
 * -1 if the text holds no complete row. As the row scanner counts them, a quote opens a quoted
 * field only at the start of a field – here after any delimiter a list may use, since the
 * header's own is not known yet – so a header such as `screen 5" size` is one line.
 */
export function firstRowEnd(text: string, from = 0): number {
  let inQuote = false;
  let fieldStart = true;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inQuote) {
      if (c === 34) {
        if (text.charCodeAt(i + 1) === 34) i++;
        else inQuote = false;
      }
      continue;
    }
    if (c === 10) return i + 1;
    if (c === 34 && fieldStart) inQuote = true;
    fieldStart = DELIMITERS.includes(text[i]!);
  }
  return -1;
}

/** The path message of a list refused as a workbook: the same for every kind, for a page to say in its own language. */
export const WORKBOOK_REFUSED = 'a spreadsheet workbook, not CSV text';
const SAVE_AS_CSV = 'in Excel use File › Save as › "CSV UTF-8 (comma delimited)" (in LibreOffice: File › Save a Copy › Text CSV, UTF-8) and check that file.';

/**
 * Refuses a workbook uploaded as the list, by its signature (latin1 text, one char a byte): a
 * ZIP (.xlsx, .ods) or an OLE2 compound file (.xls). Checked first – a workbook's binary would
 * otherwise be taken for UTF-16 text (NULs) or read as one odd header.
 */
function refuseWorkbook(head: string): void {
  if (head.startsWith('\u00d0\u00cf\u0011\u00e0\u00a1\u00b1\u001a\u00e1')) {
    throw new CsvError(`The list is an Excel workbook (.xls), not CSV text: ${SAVE_AS_CSV}`, 'csv', WORKBOOK_REFUSED);
  }
  if (head.startsWith('PK\u0003\u0004')) {
    // A ZIP's first entry's name is at 30, its length at 26: a zipped CSV is not a workbook.
    const first = head.slice(30, 30 + (head.charCodeAt(26) | (head.charCodeAt(27) << 8)));
    if (/\.(csv|tsv|txt)$/i.test(first)) throw new CsvError('The list is a ZIP archive, not CSV text: unpack it and check the CSV file inside.', 'csv', 'a ZIP archive, not CSV text');
    throw new CsvError(`The list is a spreadsheet workbook (Excel or similar: .xlsx, .ods), not CSV text: ${SAVE_AS_CSV}`, 'csv', WORKBOOK_REFUSED);
  }
}

/**
 * Reads the dialect from the start of the input (latin1 text, at least the header row).
 * `atEnd`: the text is the whole input (a header without a line ending is then complete).
 */
export function readDialect(head: string, opts: { phoneColumn?: string | null; lineTypeColumn?: string | null; atEnd: boolean }): { dialect: Dialect; dataStart: number } {
  refuseWorkbook(head);
  let bom = false;
  let start = 0;
  // The text is latin1, one char a byte: UTF-16's byte order marks are these two chars, and
  // without one, its ASCII text has a NUL every other byte. A stray NUL in a field is not that.
  const sample = head.slice(0, 200);
  const nuls = sample.length - sample.replaceAll('\u0000', '').length;
  if (head.startsWith('\u00ff\u00fe') || head.startsWith('\u00fe\u00ff') || (nuls > 0 && nuls >= sample.length / 4)) {
    throw new CsvError('The list is not UTF-8 text (it looks like UTF-16, as some spreadsheet programs save "Unicode text"): save it as CSV in UTF-8.');
  }
  if (head.startsWith('\u00ef\u00bb\u00bf')) {
    bom = true;
    start = 3;
  }
  // Blank lines before the header are skipped.
  while (start < head.length && (head.charCodeAt(start) === 10 || head.charCodeAt(start) === 13)) start++;
  let end = firstRowEnd(head, start);
  // Lines ended by CR alone (the old Mac format some spreadsheets still offer) would read as one
  // header line and no rows: refuse instead of answering with an empty scrub.
  const firstRow = head.slice(start, end < 0 ? head.length : end);
  const cr = firstRow.indexOf('\r');
  if (cr >= 0 && cr < firstRow.length - 1 && firstRow.charCodeAt(cr + 1) !== 10) {
    throw new CsvError('The lines of the list end in CR only (the old Mac format): save it as CSV with Windows (CRLF) or Unix (LF) line endings.');
  }
  if (end < 0) {
    if (!opts.atEnd) throw new CsvError('The header row does not end within the first 16 MB (an unclosed quote?).');
    end = head.length;
  }
  let headerRaw = head.slice(start, end);
  let eol: '\n' | '\r\n' = '\n';
  if (headerRaw.endsWith('\r\n')) {
    eol = '\r\n';
    headerRaw = headerRaw.slice(0, -2);
  } else if (headerRaw.endsWith('\n')) headerRaw = headerRaw.slice(0, -1);
  if (headerRaw.trim() === '') throw new CsvError('The list is empty: there is no header row naming the columns.');
  const utf8Header = Buffer.from(headerRaw, 'latin1').toString('utf8');
  let schema: ReturnType<typeof inferSchema>;
  try {
    schema = inferSchema(utf8Header + '\n');
  } catch {
    // uDSV throws a TypeError on a header it cannot split (an unclosed quote): that is bad input.
    throw new CsvError('The header row cannot be read as CSV (an unclosed quote?).');
  }
  const delimiter = [',', ';', '\t', '|'].includes(schema.col) ? schema.col : ',';
  const columns = schema.cols.map((c) => c.name.trim());
  // A list without a header row: its first row is a person's data. Said without repeating it –
  // the message is kept with the scrub's record, where an erasure would not reach it.
  if (columns.some(looksLikePhoneNumber)) {
    throw new CsvError(
      'The first row holds a phone number, so it is a row of data, not a header row naming the columns: add a header row (for example phone,name,…) and scrub the list again.',
      'phoneColumn',
      'the first row is data, not a header row',
    );
  }
  const seen = columns.map((c) => `"${c}"`).join(', ');
  /** A column the caller named: as written, else whatever its case; refused (naming the columns seen) when the list lacks it. */
  const named = (wanted: string, field: string, what: string): number => {
    let i = columns.findIndex((c) => c === wanted);
    if (i < 0) i = columns.findIndex((c) => c.toLowerCase() === wanted.toLowerCase());
    if (i < 0) throw new CsvError(`The list has no column "${wanted}"${what}. Columns seen: ${seen}.`, field, `no column "${wanted}" among ${seen}`);
    return i;
  };
  // The line type column first: the search for a phone column below passes it by ("mobile" is
  // a phone column's name, and a line type column's too).
  const lineTypeWanted = opts.lineTypeColumn?.trim();
  const lineTypeIndex = lineTypeWanted ? named(lineTypeWanted, 'lineTypeColumn', ' for the line type') : -1;
  const wanted = opts.phoneColumn?.trim();
  let phoneIndex = -1;
  if (wanted) {
    phoneIndex = named(wanted, 'phoneColumn', '');
  } else {
    phoneIndex = findPhoneColumn(columns, lineTypeIndex);
    if (phoneIndex < 0) {
      throw new CsvError(
        `The list has no phone column. Columns seen: ${seen}. Name the column with the numbers (--phone-column / phoneColumn); without it a column named like phone, mobile, cell, Telefon, Telefoon, Handy, GSM … is taken (never a fax column).`,
        'phoneColumn',
        // The columns alone, for a page that says this in its own language.
        `no phone column among ${seen}`,
      );
    }
  }
  if (lineTypeIndex >= 0 && lineTypeIndex === phoneIndex) throw new CsvError(`The line type cannot be read from the phone column "${columns[phoneIndex]}".`, 'lineTypeColumn', 'the phone column');
  return {
    dialect: { delimiter, eol, headerRaw, columns, phoneIndex, phoneColumn: columns[phoneIndex]!, lineTypeIndex, lineTypeColumn: lineTypeIndex >= 0 ? columns[lineTypeIndex]! : null, bom },
    dataStart: end,
  };
}

/**
 * The value of field `index` of the row bytes[start, end) as latin1 text, unquoted (RFC 4180: a
 * quoted field may hold delimiters, line ends and "" for a quote); null when the row has fewer
 * fields. Only for a column read besides the phone field (the line type): the scanner finds the
 * phone field on its own pass, and uDSV would make a string of every field of every row.
 */
export function fieldAt(bytes: Uint8Array, start: number, end: number, index: number, delimiterCode: number): string | null {
  let p = start;
  for (let k = 0; ; k++) {
    let value: string;
    if (p < end && bytes[p] === 34) {
      let text = '';
      let from = ++p;
      for (;;) {
        if (p >= end) {
          text += latin1(bytes, from, p);
          break;
        }
        if (bytes[p] === 34) {
          text += latin1(bytes, from, p);
          if (p + 1 < end && bytes[p + 1] === 34) {
            text += '"';
            p += 2;
            from = p;
            continue;
          }
          p++;
          break;
        }
        p++;
      }
      // Anything between the closing quote and the delimiter belongs to the field as written.
      const rest = p;
      while (p < end && bytes[p] !== delimiterCode) p++;
      value = text + latin1(bytes, rest, p);
    } else {
      const from = p;
      while (p < end && bytes[p] !== delimiterCode) p++;
      value = latin1(bytes, from, p);
    }
    if (k === index) return value;
    if (p >= end) return null;
    p++; // the delimiter
  }
}

const latin1 = (bytes: Uint8Array, from: number, to: number): string => Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');

/**
 * Six digits or more, apart from spaces, dots, dashes, slashes and brackets (German numbers can be
 * that short: 089 1234), and not a date (01-06-2024): no column is named like that.
 */
function looksLikePhoneNumber(cell: string): boolean {
  if (/^\d{1,4}([-./])\d{1,2}\1\d{1,4}$/.test(cell)) return false;
  return /^\+?[\d\s.()/-]*$/.test(cell) && (cell.match(/\d/g)?.length ?? 0) >= 6;
}

/** A value for a CSV field: quoted when it holds the delimiter, a quote or a line break. */
export function csvField(value: string, delimiter: string): string {
  if (value.includes(delimiter) || value.includes('"') || value.includes('\n') || value.includes('\r')) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/**
 * Where the last complete row of a block ends (just after its '\n'), or -1 when no row ends in
 * it. The block must start at a row start. Quotes count as the scanner counts them: a quote opens
 * a quoted field only at the start of a field, so a stray quote inside a plain field cannot make
 * the cut and the scan disagree. Used to cut the input into chunks for the workers.
 */
export function lastRowBoundary(buf: Uint8Array, length: number, delimiter: string): number {
  const q = buf.indexOf(34);
  if (q < 0 || q >= length) {
    const nl = buf.lastIndexOf(10, length - 1);
    return nl < 0 ? -1 : nl + 1;
  }
  const dc = delimiter.charCodeAt(0);
  // 0 field start, 1 plain field, 2 inside quotes, 3 a quote inside quotes (closing or doubled)
  let state = 0;
  let end = -1;
  for (let i = 0; i < length; i++) {
    const c = buf[i]!;
    switch (state) {
      case 0:
        if (c === 34) state = 2;
        else if (c === 10) end = i + 1;
        else if (c !== dc) state = 1;
        break;
      case 1:
        if (c === 10) {
          end = i + 1;
          state = 0;
        } else if (c === dc) state = 0;
        break;
      case 2:
        if (c === 34) state = 3;
        break;
      default:
        if (c === 34) state = 2;
        else if (c === 10) {
          end = i + 1;
          state = 0;
        } else if (c === dc) state = 0;
        else state = 1;
    }
  }
  return end;
}

/** One data row found by the scanner. */
export interface RowSink {
  /**
   * The phone field is bytes [phoneStart, phoneEnd) of the chunk (phoneStart -1: the row has too
   * few fields) – or, in a row with quotes, `quotedPhone`, the field's value unquoted (null: too
   * few fields). fields: how many fields the row has (UNCLOSED_QUOTE: a quote opened in the row
   * is never closed – the row is its line). Positions, not strings: the scrub reads
   * plain rows' numbers from the bytes without making a string of each.
   */
  row(line: number, rowStart: number, rowEnd: number, phoneStart: number, phoneEnd: number, quotedPhone: string | null, fields: number): void;
}

/** RowSink.row's `fields` for a row whose quote is never closed (it holds no readable fields). */
export const UNCLOSED_QUOTE = -1;

/** Where the quoted-row scanner stopped. */
interface QuotedRow {
  phone: string | null;
  fields: number;
  rowEnd: number;
  next: number;
  /** Line breaks inside quoted fields. */
  extraLines: number;
}

/**
 * Scans a chunk of whole rows: `bytes` is the chunk and `text` the same chunk as latin1 (one
 * char a byte), needed only when a row holds a quote (may be '' when none does). Calls sink.row for each non-empty row with its physical line number
 * (1-based within the chunk) and returns the number of lines in the chunk. `final`: the chunk
 * ends the input (a last row without line ending, an unclosed quote).
 * Plain rows are found by one pass over the bytes (a byte loop is the one thing V8 optimises
 * reliably here: the same loop with String.prototype.indexOf was at times compiled into code
 * hundreds of times slower); a row with a quote goes to scanQuotedRow.
 */
export function scanRows(text: string, delimiter: string, phoneIndex: number, sink: RowSink, final: boolean, bytes: Uint8Array = Buffer.from(text, 'latin1')): number {
  const len = bytes.length;
  const dc = delimiter.charCodeAt(0);
  let pos = 0;
  let line = 0;
  const q: QuotedRow = { phone: null, fields: 0, rowEnd: 0, next: 0, extraLines: 0 };
  while (pos < len) {
    line++;
    let i = pos;
    let k = 0;
    let a = phoneIndex === 0 ? pos : -1;
    let b = -1;
    let quoted = false;
    for (; i < len; i++) {
      const c = bytes[i]!;
      if (c === 10) break;
      if (c === dc) {
        k++;
        if (k === phoneIndex) a = i + 1;
        else if (k === phoneIndex + 1) b = i;
      } else if (c === 34) {
        quoted = true;
        break;
      }
    }
    if (quoted) {
      scanQuotedRow(text, pos, delimiter, phoneIndex, final, q);
      sink.row(line, pos, q.rowEnd, -1, -1, q.phone, q.fields);
      line += q.extraLines;
      pos = q.next;
      continue;
    }
    let rowEnd = i;
    if (rowEnd > pos && bytes[rowEnd - 1] === 13) rowEnd--;
    if (rowEnd === pos) {
      pos = i + 1;
      continue;
    }
    if (k < phoneIndex) {
      sink.row(line, pos, rowEnd, -1, -1, null, k + 1);
    } else {
      if (b < 0 || b > rowEnd) b = rowEnd;
      sink.row(line, pos, rowEnd, a, b, null, k + 1);
    }
    pos = i + 1;
  }
  return line;
}

/** One row that holds a quote, from `pos`: a small state machine. */
function scanQuotedRow(text: string, pos: number, delimiter: string, phoneIndex: number, final: boolean, out: QuotedRow): void {
  const len = text.length;
  const dc = delimiter.charCodeAt(0);
  let field = 0;
  let phone: string | null = null;
  let i = pos;
  let extra = 0;
  for (;;) {
    // at the start of a field
    let value: string;
    if (i < len && text.charCodeAt(i) === 34) {
      let j = i + 1;
      let parts = '';
      let segStart = j;
      let closed = false;
      while (j < len) {
        const q = text.indexOf('"', j);
        if (q < 0) break;
        for (let p = text.indexOf('\n', j); p >= 0 && p < q; p = text.indexOf('\n', p + 1)) extra++;
        if (text.charCodeAt(q + 1) === 34) {
          parts += text.slice(segStart, q + 1);
          j = q + 2;
          segStart = j;
          continue;
        }
        parts += text.slice(segStart, q);
        j = q + 1;
        closed = true;
        break;
      }
      if (!closed) {
        if (!final) throw new Error('scanRows: a chunk ended inside a quoted field');
        // The quote is never closed: this row cannot be read. It is the row's own line (the rest
        // of the list is read on from the next line, not swallowed into one field).
        const nl = text.indexOf('\n', pos);
        let rowEnd = nl < 0 ? len : nl;
        if (rowEnd > pos && text.charCodeAt(rowEnd - 1) === 13) rowEnd--;
        out.phone = null;
        out.fields = UNCLOSED_QUOTE;
        out.rowEnd = rowEnd;
        out.next = nl < 0 ? len : nl + 1;
        out.extraLines = 0;
        return;
      } else {
        // Characters after the closing quote up to the delimiter are kept (lenient, like uDSV).
        let k2 = j;
        while (k2 < len) {
          const c = text.charCodeAt(k2);
          if (c === dc || c === 10) break;
          k2++;
        }
        let tail = text.slice(j, k2);
        if (tail.endsWith('\r') && (k2 >= len || text.charCodeAt(k2) === 10)) tail = tail.slice(0, -1);
        value = parts + tail;
        i = k2;
      }
    } else {
      let k2 = i;
      while (k2 < len) {
        const c = text.charCodeAt(k2);
        if (c === dc || c === 10) break;
        k2++;
      }
      let e = k2;
      if (e > i && text.charCodeAt(e - 1) === 13 && (k2 >= len || text.charCodeAt(k2) === 10)) e--;
      value = text.slice(i, e);
      i = k2;
    }
    if (field === phoneIndex) phone = value;
    if (i < len && text.charCodeAt(i) === dc) {
      field++;
      i++;
      continue;
    }
    break;
  }
  let rowEnd = i;
  if (rowEnd > pos && text.charCodeAt(rowEnd - 1) === 13) rowEnd--;
  out.phone = phone;
  out.fields = field + 1;
  out.rowEnd = rowEnd;
  out.next = i < len ? i + 1 : len;
  out.extraLines = extra;
}
