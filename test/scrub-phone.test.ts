/**
 * The scrub's fast number reader gives exactly what parsePhone (libphonenumber) gives, or steps
 * aside: on random input in every format lists hold, for every supported default country. Its
 * byte entry point (readBytes) gives exactly what its string one (read) gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agreesWithParsePhone, fastParse, FastPhoneReader } from '../src/scrub/fast-phone.js';
import { parsePhone } from '../src/phone/index.js';

const PREFIXES = [
  '+1', '+31', '+44', '+49', '+310', '+440', '+490', '+11', '1', '31', '44', '49', '0', '00', '011', '0044', '0031', '06', '07', '01', '02', '030', '0151',
  '+1 (', '(0', '+31 (0)', '+7', '+33', '', '180020', '+44180020', '+3197', '+4915', '+1268', '+1787', '+1939', '+1204', '+447781', '+441481', '+441624', '+447624', '+441534', '+4474',
  '+1800', '+1900', '+31800', '+3190', '+4980', '+49700', '+4416', '+44800',
];
const SEPARATORS = ['', ' ', '-', '.', '/', '(', ')', '  '];

const input = fc
  .tuple(fc.constantFrom(...PREFIXES), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 14 }), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...SEPARATORS)), { maxLength: 3 }), fc.boolean())
  .map(([prefix, ds, seps, pad]) => {
    let s = prefix + ds.join('');
    for (const [at, sep] of seps) {
      const k = at % (s.length + 1);
      s = s.slice(0, k) + sep + s.slice(k);
    }
    return pad ? ` ${s} ` : s;
  });

/** Text lists hold besides plain numbers: letters, extensions, tabs, control bytes, non-ASCII (as UTF-8 or as single latin1 bytes). */
const ODD = ['a', 'x', 'ext. 12', '#', '*', ',', '\t', '\u0001', '\u00a0', '\u00e9', '\uff10', '\uff16', '\u3000', '\u2007', '+', '++', '0', '9'];
const fieldText = fc.oneof(
  { weight: 6, arbitrary: input },
  {
    weight: 2,
    arbitrary: fc
      .tuple(input, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...ODD)), { minLength: 1, maxLength: 2 }))
      .map(([s, odd]) => odd.reduce((t, [at, o]) => t.slice(0, at % (t.length + 1)) + o + t.slice(at % (t.length + 1)), s)),
  },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t', ' \u00a0', '\u00a0', 'n/a', '+', '0'.repeat(41), '+1 212 555 0123 ' + ' '.repeat(30), '\u00a0+12125550123', '+12125550123\u00a0 ') },
);
/** The field as bytes (UTF-8, or latin1 when every character fits a byte) – what the scrub reads from the file. */
const field = fc.tuple(fieldText, fc.boolean()).map(([s, utf8]) => (utf8 || [...s].some((ch) => ch.charCodeAt(0) > 0xff) ? Buffer.from(s, 'utf8') : Buffer.from(s, 'latin1')));

/** readBytes on the field inside a CSV line gives exactly what read gives on the field decoded as latin1. */
function expectSameRead(byText: FastPhoneReader, byBytes: FastPhoneReader, bytes: Buffer): void {
  const text = bytes.toString('latin1');
  const line = Buffer.concat([Buffer.from('7,Ann,"x",'), bytes, Buffer.from(',NY\n')]);
  const a = byText.read(text);
  const b = byBytes.readBytes(line, 10, 10 + bytes.length);
  const what = JSON.stringify(text);
  expect(b, what).toBe(a);
  if (a < 0) expect(byBytes.error, what).toBe(byText.error);
  else expect(byBytes.classPhone(b), what).toEqual(byText.classPhone(a));
  // Also after -1: both keep the last number read.
  expect([byBytes.e164, byBytes.num, byBytes.country], what).toEqual([byText.e164, byText.num, byText.country]);
  expect(Object.is(byBytes.num, byText.num), what).toBe(true);
}

describe('fast phone reader', () => {
  for (const country of ['NL', 'DE', 'GB', 'US'] as const) {
    it(`agrees with parsePhone on random input read in ${country}`, () => {
      fc.assert(
        fc.property(input, (s) => {
          const r = agreesWithParsePhone(s, country);
          if (r) expect(r.fast, JSON.stringify(s)).toBe(r.slow);
        }),
        { numRuns: 20_000 },
      );
    });
  }

  it('reads plain E.164 and plain national numbers itself', () => {
    const samples: Array<[string, string]> = [
      ['+31612345678', 'NL'],
      ['0612345678', 'NL'],
      ['+4915123456789', 'DE'],
      ['015123456789', 'DE'],
      ['+447400123456', 'GB'],
      ['07400123456', 'GB'],
      ['+12125550123', 'US'],
      ['2125550123', 'US'],
      ['12125550123', 'US'],
      ['(212) 555-0123', 'US'],
      ['06-12 34 56 78', 'NL'],
    ];
    for (const [s, c] of samples) {
      const fast = fastParse(s, c);
      expect(fast, s).not.toBeNull();
      const p = parsePhone(s, c);
      expect(`+${fast!.cc}${fast!.nn}`).toBe(p.e164);
      expect(fast!.country).toBe(p.country);
    }
    // Text that is not a plain number goes to libphonenumber.
    expect(fastParse('+31 6 1234 5678 ext. 12', 'NL')).toBeNull();
    expect(fastParse('tel:+31612345678', 'NL')).toBeNull();
    expect(fastParse('+33612345678', 'NL')).toBeNull();
  });

  for (const country of ['NL', 'DE', 'GB', 'US', 'JE', 'AG', undefined] as const) {
    it(`readBytes gives exactly what read gives, on random input read in ${country ?? 'no country'}`, () => {
      for (const latin1 of [true, false]) {
        const byText = new FastPhoneReader(country, { latin1, auditEvery: 7 });
        const byBytes = new FastPhoneReader(country, { latin1, auditEvery: 7 });
        fc.assert(
          fc.property(field, (bytes) => expectSameRead(byText, byBytes, bytes)),
          { numRuns: country === 'JE' || country === 'AG' || country === undefined ? 3_000 : 10_000 },
        );
      }
    });
  }

  it('readBytes reads the usual forms itself, without the string path', () => {
    const samples: Array<[string, string]> = [
      ['+12125550123', 'US'],
      ['2125550123', 'US'],
      ['12125550123', 'US'],
      ['1-212-555-0123', 'US'],
      ['(212) 555-0123', 'US'],
      [' +1 212.555.0123\r', 'US'],
      ['+12684641234', 'US'],
      ['+447400123456', 'US'],
      ['+31612345678', 'US'],
      ['+4915123456789', 'US'],
      ['212555012', 'US'],
      ['+12125550', 'US'],
      ['0612345678', 'NL'],
      ['06-12 34 56 78', 'NL'],
      ['+31 (0)20 123 4567', 'NL'],
      ['07400123456', 'GB'],
      ['020 7946 0000', 'GB'],
      ['+44 (0)20 7946 0000', 'GB'],
      ['+441481256789', 'GB'],
      ['015123456789', 'DE'],
      ['030/1234567', 'DE'],
      ['\t+49 30 1234567 ', 'DE'],
    ];
    for (const [s, c] of samples) {
      const byText = new FastPhoneReader(c, { auditEvery: 1 });
      const byBytes = new FastPhoneReader(c, { auditEvery: 1 });
      expectSameRead(byText, byBytes, Buffer.from(s, 'latin1'));
      expect(byBytes.textReads, s).toBe(0);
      expect(byBytes.slow, s).toBe(0);
    }
    // Letters, other calling codes, non-ASCII: the string path.
    const reader = new FastPhoneReader('NL', { latin1: true });
    for (const s of ['tel:+31612345678', '+33612345678', '\u00a0+31612345678']) {
      const before = reader.textReads;
      expect(reader.readBytes(Buffer.from(s, 'latin1'), 0, Buffer.byteLength(s, 'latin1'))).toBeGreaterThanOrEqual(0);
      expect(reader.textReads, s).toBe(before + 1);
    }
  });

  it('readBytes builds e164 only when asked, from the last number read', () => {
    const reader = new FastPhoneReader('US');
    const line = Buffer.from('+12125550123,2125550199,n/a,+1 (415) 555-0100,');
    expect(reader.readBytes(line, 0, 12)).toBeGreaterThanOrEqual(0);
    expect(reader.readBytes(line, 13, 23)).toBeGreaterThanOrEqual(0);
    expect(reader.num).toBe(12125550199);
    expect(reader.readBytes(line, 24, 27)).toBe(-1);
    expect(reader.e164).toBe('+12125550199');
    expect(reader.readBytes(line, 28, 45)).toBeGreaterThanOrEqual(0);
    expect(reader.e164).toBe('+14155550100');
    expect(reader.e164).toBe('+14155550100');
    expect(reader.read('+447400123456')).toBeGreaterThanOrEqual(0);
    expect(reader.e164).toBe('+447400123456');
  });

  it('gives text that needs parsePhone the same answer each time (from memory after the first)', () => {
    const reader = new FastPhoneReader('NL');
    for (let k = 1; k <= 2; k++) {
      expect(reader.read('n/a')).toBe(-1);
      expect(reader.error).toBe('it cannot be read as a number in NL');
      const id = reader.read('+33 6 12 34 56 78');
      expect(id).toBe(0);
      expect([reader.e164, reader.num, reader.country]).toEqual(['+33612345678', 33612345678, 'FR']);
      expect(reader.read('+33 1234')).toBe(-1);
      expect(reader.error).toMatch(/^\+331234 is not a number in use/);
      expect(reader.e164).toBe('+33612345678');
      expect(reader.slow).toBe(3 * k);
    }
  });

  it('gives each number its class PhoneInfo, exactly what parsePhone gives', () => {
    const reader = new FastPhoneReader('US', { auditEvery: 1 });
    for (const s of ['+12125550123', '2125550124', '+14155550100', '+18085550100', '+19075550100', '+12045550100', '+17875550100', '+447400123456', '+31612345678', '(212) 555-0199', '+33612345678']) {
      const id = reader.read(s);
      expect(id, s).toBeGreaterThanOrEqual(0);
      expect(reader.info(id, reader.e164)).toEqual(parsePhone(s, 'US'));
      expect(reader.num).toBe(Number(parsePhone(s, 'US').e164.slice(1)));
    }
    expect(reader.read('n/a')).toBe(-1);
    expect(reader.error).toMatch(/cannot be read/);
    expect(reader.read('   ')).toBe(-1);
    expect(reader.error).toMatch(/empty/);
  });

  it('reads UTF-8 bytes passed as latin1 text (full-width digits, no-break spaces)', () => {
    const reader = new FastPhoneReader('NL', { latin1: true });
    const latin1 = Buffer.from('０６１２３４５６７８', 'utf8').toString('latin1');
    expect(reader.read(latin1)).toBeGreaterThanOrEqual(0);
    expect(reader.e164).toBe('+31612345678');
  });
});
