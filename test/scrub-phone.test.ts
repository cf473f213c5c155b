/**
 * The scrub's fast number reader gives exactly what parsePhone (libphonenumber) gives, or steps
 * aside: on random input in every format lists hold, for every supported default country.
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
