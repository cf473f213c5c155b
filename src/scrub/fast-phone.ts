/**
 * A fast reader for the phone numbers of bulk lists and register files.
 *
 * `parsePhone` (libphonenumber-js) costs about 11 µs a number – 110 s for a 10-million-row list.
 * Nearly all of that is object churn and regular expressions compiled per call; the decision
 * itself comes from the metadata's patterns. This module runs the same algorithm with the same
 * metadata (libphonenumber-js/metadata.max.json), with the patterns compiled once, for the inputs
 * that make up real lists: digits with an optional leading `+` and the usual separators
 * (space, `-`, `.`, `/`, brackets), for the calling codes of the countries Optline has rules
 * for (+1, +31, +44, +49) and national format in the entity's country. Anything else – letters,
 * extensions, other calling codes, national-prefix rules with carrier codes – is declined and
 * goes to `parsePhone` itself. Steps mirror libphonenumber-js 1.13 source files named in the
 * comments; test/scrub-phone.test.ts compares both on random input, and `FastPhoneReader`
 * re-checks every 1024th number against `parsePhone` at run time and refuses to go on if they
 * ever disagree (a libphonenumber upgrade that changed the algorithm would be caught at once).
 *
 * `FastPhoneReader.readBytes` runs the same steps once more on the bytes of a CSV field: digits
 * gathered into a reused byte array, the calling code found by value, the patterns run as digit
 * DFAs (../phone/digit-dfa.ts), the number's value computed arithmetically – no string, RegExp or
 * object per row. Whatever it cannot do exactly it hands to `read`, so both give the same answers
 * (test/scrub-phone.test.ts compares them on random input).
 */
import { createRequire } from 'node:module';
import { Metadata } from 'libphonenumber-js/core';
import type { LineType, PhoneInfo } from '../law/types.js';
import { parsePhone, InvalidPhoneNumberError } from '../phone/index.js';
import { DigitDfa, UnsupportedPatternError } from '../phone/digit-dfa.js';

/** The calling codes the fast path reads; every country sharing them is compiled. */
const FAST_CALLING_CODES = ['1', '31', '44', '49'] as const;

/** Thrown inside the byte path when an input must take the string path (`read`). */
const BYTES_DECLINE = Symbol('bytes-decline');

/**
 * The DigitDfa of some patterns, compiled on first use (worker threads load this module: compiling
 * every pattern of the +1/+31/+44/+49 countries up front would cost them ~100 ms). A pattern
 * outside DigitDfa's syntax sends the inputs that need it to the string path.
 */
class LazyDfa {
  private dfa: DigitDfa | null | undefined;
  constructor(readonly sources: string[]) {}

  get(): DigitDfa {
    let dfa = this.dfa;
    if (dfa === undefined) {
      try {
        dfa = DigitDfa.compileAll(this.sources);
      } catch (err) {
        if (!(err instanceof UnsupportedPatternError)) throw err;
        dfa = null;
      }
      this.dfa = dfa;
    }
    if (dfa === null) throw BYTES_DECLINE;
    return dfa;
  }
}

interface TypeDef {
  re: RegExp | null;
  /** The pattern's bit in Plan.typesDfa; 0 when there is no pattern. */
  bit: number;
  /** The pattern was removed as a duplicate of the fixed-line one (e.g. US mobile). */
  empty: boolean;
  lengths: number[] | undefined;
  /** `lengths` as bits (1 << length); -1 when there are none (any length). */
  lengthBits: number;
}

interface Plan {
  country: string;
  /** COUNTRY_INDEX of the country. */
  index: number;
  cc: string;
  ccValue: number;
  nnp: RegExp;
  npfp: RegExp | null;
  transform: boolean;
  idd: RegExp | null;
  lengths: number[] | undefined;
  leading: RegExp | null;
  // The same patterns for the byte path (readBytes). typesDfa: the national number pattern (mask
  // bit 1) and the type patterns (TypeDef.bit) in one DFA: one walk over a number answers them all.
  typesDfa: LazyDfa;
  iddDfa: LazyDfa | null;
  leadingDfa: LazyDfa | null;
  /**
   * The national prefix for parsing as the digit literals of its alternatives, in order (GB:
   * `0|180020`): the first that starts the number is what the RegExp matches. undefined: the
   * pattern is not such a list (capture groups, classes) or comes with a transform rule – the
   * byte path leaves numbers that need it to the string path.
   */
  npfpLiterals: Uint8Array[] | undefined;
  hasTypes: boolean;
  fixed: TypeDef | undefined;
  mobile: TypeDef | undefined;
  others: Array<[string, TypeDef]>;
}

/** The metadata API of libphonenumber-js, as far as this module uses it (untyped in its .d.ts). */
interface MetaApi {
  selectNumberingPlan(c: string): void;
  numberingPlan: {
    callingCode(): string;
    nationalNumberPattern(): string;
    nationalPrefixForParsing(): string | undefined;
    nationalPrefixTransformRule(): string | undefined;
    IDDPrefix(): string;
    possibleLengths(): number[] | undefined;
    leadingDigits(): string | undefined;
  };
  hasTypes(): boolean;
  type(t: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
  getCountryCodesForCallingCode(cc: string): string[] | undefined;
  hasCallingCode(cc: string): boolean;
}

const NON_FIXED_LINE_PHONE_TYPES = ['MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL'];

// Loaded with require: a JSON import needs an import attribute in plain Node ESM (the bundle), and tsx needs none.
const metadataJson = createRequire(import.meta.url)('libphonenumber-js/metadata.max.json') as object;
const meta = new Metadata(metadataJson as ConstructorParameters<typeof Metadata>[0]) as unknown as MetaApi;
const whole = (p: string): RegExp => new RegExp('^(?:' + p + ')$');
const start = (p: string): RegExp => new RegExp('^(?:' + p + ')');
const lengthBits = (lengths: number[] | undefined): number => (lengths ? lengths.reduce((bits, n) => (n < 31 ? bits | (1 << n) : bits), 0) : -1);

function npfpLiterals(npfp: string | undefined, transform: boolean): Uint8Array[] | undefined {
  if (!npfp || transform || !/^\d+(?:\|\d+)*$/.test(npfp)) return undefined;
  return npfp.split('|').map((lit) => Uint8Array.from(lit, (ch) => ch.charCodeAt(0) - 48));
}

function compilePlan(country: string): Plan {
  meta.selectNumberingPlan(country);
  const p = meta.numberingPlan;
  const typePatterns = [p.nationalNumberPattern()];
  const defs = new Map<string, TypeDef | undefined>();
  for (const t of ['FIXED_LINE', ...NON_FIXED_LINE_PHONE_TYPES]) {
    const d = meta.type(t);
    if (!d) continue;
    const pattern = d.pattern();
    const lengths = d.possibleLengths();
    if (pattern) typePatterns.push(pattern);
    defs.set(t, { re: pattern ? whole(pattern) : null, bit: pattern ? 1 << (typePatterns.length - 1) : 0, empty: pattern === '', lengths, lengthBits: lengthBits(lengths) });
  }
  const npfp = p.nationalPrefixForParsing();
  const others: Array<[string, TypeDef]> = [];
  for (const t of NON_FIXED_LINE_PHONE_TYPES) {
    const d = defs.get(t);
    if (d) others.push([t, d]);
  }
  const leading = p.leadingDigits();
  const transform = !!p.nationalPrefixTransformRule();
  const fixed = defs.get('FIXED_LINE');
  const mobile = defs.get('MOBILE');
  return {
    country,
    index: PLANS.size + 1,
    cc: p.callingCode(),
    ccValue: Number(p.callingCode()),
    nnp: whole(p.nationalNumberPattern()),
    npfp: npfp ? start(npfp) : null,
    transform,
    idd: p.IDDPrefix() ? start(p.IDDPrefix()) : null,
    lengths: p.possibleLengths(),
    leading: leading ? start(leading) : null,
    typesDfa: new LazyDfa(typePatterns),
    iddDfa: p.IDDPrefix() ? new LazyDfa([p.IDDPrefix()]) : null,
    leadingDfa: leading ? new LazyDfa([leading]) : null,
    npfpLiterals: npfpLiterals(npfp, transform),
    hasTypes: meta.hasTypes(),
    fixed,
    mobile,
    others,
  };
}

const PLANS = new Map<string, Plan>();
const COUNTRIES_OF = new Map<string, Plan[]>();
/** COUNTRIES_OF by the calling code's value. */
const COUNTRIES_OF_VALUE: Plan[][] = [];
for (const cc of FAST_CALLING_CODES) {
  const list = (meta.getCountryCodesForCallingCode(cc) ?? []).map((c) => {
    const plan = compilePlan(c);
    PLANS.set(c, plan);
    return plan;
  });
  COUNTRIES_OF.set(cc, list);
  COUNTRIES_OF_VALUE[Number(cc)] = list;
}
/**
 * Calling codes libphonenumber knows, for the shortest-prefix rule of extractCountryCallingCode,
 * by their value (1–999) – the lookup reads digits, not substrings. FAST_CC: the ones read here.
 */
const KNOWN_CC = new Uint8Array(1000);
for (let n = 1; n < 1000; n++) if (meta.hasCallingCode(String(n))) KNOWN_CC[n] = 1;
const FAST_CC = new Array<string | undefined>(1000);
for (const cc of FAST_CALLING_CODES) FAST_CC[Number(cc)] = cc;

/** Thrown inside the fast path when an input needs libphonenumber's full treatment. */
const DECLINE = Symbol('decline');

// helpers/getNumberType.js (isNumberTypeEqualTo)
function isType(nn: string, d: TypeDef | undefined): boolean {
  if (!d || !d.re) return false;
  if (d.lengths && d.lengths.indexOf(nn.length) < 0) return false;
  return d.re.test(nn);
}

// helpers/getNumberType.js
export function numberType(nn: string, plan: Plan): string | undefined {
  if (!plan.nnp.test(nn)) return undefined;
  if (isType(nn, plan.fixed)) {
    if (plan.mobile && plan.mobile.empty) return 'FIXED_LINE_OR_MOBILE';
    if (!plan.mobile) return 'FIXED_LINE_OR_MOBILE';
    if (isType(nn, plan.mobile)) return 'FIXED_LINE_OR_MOBILE';
    return 'FIXED_LINE';
  }
  for (const [t, d] of plan.others) if (isType(nn, d)) return t;
  return undefined;
}

// The last type worked out while choosing a country, so finish() need not work it out again.
let lastPlan: Plan | null = null;
let lastNn = '';
let lastType: string | undefined;

// helpers/getCountryByCallingCode.js + getCountryByNationalNumber.js
function countryByCallingCode(cc: string, nn: string): Plan | undefined {
  const plans = COUNTRIES_OF.get(cc);
  if (!plans) throw DECLINE;
  if (plans.length === 1) return plans[0];
  for (const plan of plans) {
    if (plan.leading) {
      if (nn && plan.leading.test(nn)) return plan;
    } else {
      const type = numberType(nn, plan);
      if (type) {
        lastPlan = plan;
        lastNn = nn;
        lastType = type;
        return plan;
      }
    }
  }
  return undefined;
}

// helpers/checkNumberLength.js (type undefined)
function checkNumberLength(len: number, plan: Plan): 'IS_POSSIBLE' | 'TOO_SHORT' | 'TOO_LONG' | 'INVALID_LENGTH' {
  const lengths = plan.lengths;
  if (!lengths) return 'IS_POSSIBLE';
  const min = lengths[0]!;
  if (min === len) return 'IS_POSSIBLE';
  if (min > len) return 'TOO_SHORT';
  if (lengths[lengths.length - 1]! < len) return 'TOO_LONG';
  return lengths.indexOf(len, 1) >= 0 ? 'IS_POSSIBLE' : 'INVALID_LENGTH';
}

// helpers/extractNationalNumber.js + extractNationalNumberFromPossiblyIncompleteNumber.js
function extractNationalNumber(number: string, plan: Plan): string {
  if (!number || !plan.npfp) return number;
  const m = plan.npfp.exec(number);
  if (!m) return number;
  const groups = m.length - 1;
  if (groups > 0 && m[groups]) throw DECLINE; // carrier codes or transform rules: leave to libphonenumber
  const nn = number.slice(m[0].length);
  if (nn !== number) {
    if (plan.nnp.test(number) && !plan.nnp.test(nn)) return number;
    if (plan.lengths) {
      const country = countryByCallingCode(plan.cc, nn);
      const r = checkNumberLength(nn.length, country ?? plan);
      if (r === 'TOO_SHORT' || r === 'INVALID_LENGTH') return number;
    }
  }
  return nn;
}

export interface FastResult {
  /** Calling code and national (significant) number. */
  cc: string;
  nn: string;
  /** ISO country of the number; null when libphonenumber names none. */
  country: string | null;
  /** libphonenumber's number type; undefined: the number is not valid. */
  type: string | undefined;
}

const MAX_LENGTH_FOR_NSN = 17;
const MIN_LENGTH_FOR_NSN = 2;

function finish(cc: string, nn: string, plan: Plan | undefined, fallbackCountry: string | null): FastResult {
  const country = plan ? plan.country : fallbackCountry;
  if (!nn || nn.length < MIN_LENGTH_FOR_NSN || nn.length > MAX_LENGTH_FOR_NSN) return { cc, nn, country: null, type: undefined };
  // isValid.js: the plan of the country, or else of the calling code's main country.
  const chosen = country ? PLANS.get(country)! : COUNTRIES_OF.get(cc)![0]!;
  if (!chosen.hasTypes) throw DECLINE;
  const type = lastPlan === chosen && lastNn === nn ? lastType : numberType(nn, chosen);
  return { cc, nn, country, type };
}

/** Separators libphonenumber ignores between digits; anything else sends the input to parsePhone. */
const SEPARATOR = new Uint8Array(128);
for (const ch of ' -./()') SEPARATOR[ch.charCodeAt(0)] = 1;

/**
 * The fast path: the number's calling code, national number, country and type, or `null` when
 * this input needs libphonenumber (the caller then uses parsePhone).
 */
export function fastParse(input: string, defaultCountry: string | undefined): FastResult | null {
  const len = input.length;
  if (len === 0 || len > 40) return null;
  // Digits only, allowing one leading '+' and separators; collect the digits.
  let digits: string;
  let plus = false;
  let separators = false;
  let first = true;
  for (let i = 0; i < len; i++) {
    const c = input.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      first = false;
      continue;
    }
    if (c === 43 && first && !plus) {
      plus = true;
      first = false;
      if (i > 0) separators = true;
      continue;
    }
    if (c < 128 && SEPARATOR[c] === 1) {
      separators = true;
      continue;
    }
    return null;
  }
  if (!separators) digits = plus ? input.slice(1) : input;
  else {
    let d = '';
    for (let i = 0; i < len; i++) {
      const c = input.charCodeAt(i);
      if (c >= 48 && c <= 57) d += input[i];
    }
    digits = d;
  }
  if (digits.length < 4 || digits.length > 20) return null;
  try {
    return plus ? fromInternational(digits) : fromNational(digits, defaultCountry);
  } catch (err) {
    if (err === DECLINE) return null;
    throw err;
  }
}

// helpers/extractCountryCallingCode.js, '+' branch
function fromInternational(d: string): FastResult | null {
  if (d.charCodeAt(0) === 48) return null;
  let cc: string | undefined;
  for (let i = 1, value = 0; i <= 3 && i <= d.length; i++) {
    value = value * 10 + d.charCodeAt(i - 1) - 48;
    if (KNOWN_CC[value] === 1) {
      cc = FAST_CC[value];
      break;
    }
  }
  if (cc === undefined) return null;
  const main = COUNTRIES_OF.get(cc)![0]!;
  const nn = extractNationalNumber(d.slice(cc.length), main);
  return finish(cc, nn, countryByCallingCode(cc, nn), null);
}

// parse.js (parsePhoneNumber) for a number without '+', read in the default country
function fromNational(d: string, defaultCountry: string | undefined): FastResult | null {
  const plan = defaultCountry ? PLANS.get(defaultCountry) : undefined;
  if (!plan || !(FAST_CALLING_CODES as readonly string[]).includes(plan.cc)) return null;
  // stripIddPrefix.js: an international number dialled with the IDD prefix
  if (plan.idd && plan.idd.test(d)) return null;
  const cc = plan.cc;
  // extractCountryCallingCodeFromInternationalNumberWithoutPlusSign.js
  if (d.startsWith(cc)) {
    const shorter = d.slice(cc.length);
    const nnShort = extractNationalNumber(shorter, plan);
    const nnFull = extractNationalNumber(d, plan);
    if ((!plan.nnp.test(nnFull) && plan.nnp.test(nnShort)) || checkNumberLength(nnFull.length, plan) === 'TOO_LONG') {
      const main = COUNTRIES_OF.get(cc)![0]!;
      const nn = extractNationalNumber(shorter, main);
      return finish(cc, nn, countryByCallingCode(cc, nn), null);
    }
  }
  const nn = extractNationalNumber(d, plan);
  return finish(cc, nn, countryByCallingCode(cc, nn), plan.country);
}

/*
 * The byte path: the same steps as fastParse and the functions above, on the digits of the input
 * collected as values 0–9 in a byte array (bd[0..bn)), with the national number always a suffix
 * bd[s..bn) given by where it starts, and the patterns run as DigitDfas. It allocates nothing.
 * Wherever the string path could decline or needs what the DFAs lack (a pattern DigitDfa cannot
 * compile, a national prefix that is not a list of digit literals, a plan without types) it
 * throws BYTES_DECLINE and the reader takes the string path, so results stay those of `read`.
 */
let bd = new Uint8Array(0);
let bn = 0;
// The type last worked out by bCountryByCallingCode (lastPlan/lastNn/lastType of the byte path).
let bLastPlan: Plan | null = null;
let bLastStart = 0;
let bLastType: string | undefined;
// The result of a byte parse: calling code, start of the national number, country, type.
let bCc = 0;
let bNnStart = 0;
let bCountry: Plan | null = null;
let bType: string | undefined;

/** isType, given which of the plan's patterns match the number (`matches`, from typesDfa) and its length. */
function bIsType(matches: number, len: number, d: TypeDef | undefined): boolean {
  if (!d || d.bit === 0) return false;
  if (((d.lengthBits >> len) & 1) === 0) return false;
  return (matches & d.bit) !== 0;
}

function bNumberType(s: number, plan: Plan): string | undefined {
  const matches = plan.typesDfa.get().wholeMatches(bd, s, bn);
  if ((matches & 1) === 0) return undefined;
  const len = bn - s;
  if (bIsType(matches, len, plan.fixed)) {
    if (plan.mobile && plan.mobile.empty) return 'FIXED_LINE_OR_MOBILE';
    if (!plan.mobile) return 'FIXED_LINE_OR_MOBILE';
    if (bIsType(matches, len, plan.mobile)) return 'FIXED_LINE_OR_MOBILE';
    return 'FIXED_LINE';
  }
  const others = plan.others;
  for (let k = 0; k < others.length; k++) if (bIsType(matches, len, others[k]![1])) return others[k]![0];
  return undefined;
}

function bCountryByCallingCode(cc: number, s: number): Plan | undefined {
  const plans = COUNTRIES_OF_VALUE[cc]!;
  if (plans.length === 1) return plans[0];
  for (let k = 0; k < plans.length; k++) {
    const plan = plans[k]!;
    if (plan.leadingDfa) {
      if (s < bn && plan.leadingDfa.get().matchesSomePrefix(bd, s, bn)) return plan;
    } else {
      const type = bNumberType(s, plan);
      if (type) {
        bLastPlan = plan;
        bLastStart = s;
        bLastType = type;
        return plan;
      }
    }
  }
  return undefined;
}

/** extractNationalNumber for the number bd[s..bn): where the national number starts. */
function bExtractNationalNumber(s: number, plan: Plan): number {
  if (s === bn || !plan.npfp) return s;
  const literals = plan.npfpLiterals;
  if (literals === undefined) throw BYTES_DECLINE;
  let t = -1;
  for (let k = 0; k < literals.length && t < 0; k++) {
    const lit = literals[k]!;
    if (bn - s < lit.length) continue;
    let i = 0;
    while (i < lit.length && bd[s + i] === lit[i]) i++;
    if (i === lit.length) t = s + i;
  }
  if (t < 0) return s;
  // t > s: the literals are not empty, so the number changed.
  const types = plan.typesDfa.get();
  if ((types.wholeMatches(bd, s, bn) & 1) !== 0 && (types.wholeMatches(bd, t, bn) & 1) === 0) return s;
  if (plan.lengths) {
    const country = bCountryByCallingCode(plan.ccValue, t);
    const r = checkNumberLength(bn - t, country ?? plan);
    if (r === 'TOO_SHORT' || r === 'INVALID_LENGTH') return s;
  }
  return t;
}

function bFinish(cc: number, s: number, plan: Plan | undefined, fallback: Plan | null): void {
  const country = plan ?? fallback;
  bCc = cc;
  bNnStart = s;
  const len = bn - s;
  if (len < MIN_LENGTH_FOR_NSN || len > MAX_LENGTH_FOR_NSN) {
    bCountry = null;
    bType = undefined;
    return;
  }
  const chosen = country ?? COUNTRIES_OF_VALUE[cc]![0]!;
  if (!chosen.hasTypes) throw BYTES_DECLINE;
  bCountry = country;
  bType = bLastPlan === chosen && bLastStart === s ? bLastType : bNumberType(s, chosen);
}

/** fromInternational on bd[0..bn); false: the string path declines this input. */
function bFromInternational(): boolean {
  if (bd[0] === 0) return false;
  let cc = -1;
  for (let i = 1, value = 0; i <= 3 && i <= bn; i++) {
    value = value * 10 + bd[i - 1]!;
    if (KNOWN_CC[value] === 1) {
      if (FAST_CC[value] !== undefined) cc = value;
      break;
    }
  }
  if (cc < 0) return false;
  const main = COUNTRIES_OF_VALUE[cc]![0]!;
  const s = bExtractNationalNumber(main.cc.length, main);
  bFinish(cc, s, bCountryByCallingCode(cc, s), null);
  return true;
}

/** fromNational on bd[0..bn) in the plan of the default country. */
function bFromNational(plan: Plan): boolean {
  if (plan.iddDfa && plan.iddDfa.get().matchesSomePrefix(bd, 0, bn)) return false;
  const cc = plan.ccValue;
  const ccDigits = plan.cc;
  let startsWithCc = true;
  for (let i = 0; i < ccDigits.length; i++) if (bd[i] !== ccDigits.charCodeAt(i) - 48) startsWithCc = false;
  if (startsWithCc) {
    const shorter = ccDigits.length;
    const nnShort = bExtractNationalNumber(shorter, plan);
    const nnFull = bExtractNationalNumber(0, plan);
    const types = plan.typesDfa.get();
    if (((types.wholeMatches(bd, nnFull, bn) & 1) === 0 && (types.wholeMatches(bd, nnShort, bn) & 1) !== 0) || checkNumberLength(bn - nnFull, plan) === 'TOO_LONG') {
      const main = COUNTRIES_OF_VALUE[cc]![0]!;
      const s = bExtractNationalNumber(shorter, main);
      bFinish(cc, s, bCountryByCallingCode(cc, s), null);
      return true;
    }
  }
  const s = bExtractNationalNumber(0, plan);
  bFinish(cc, s, bCountryByCallingCode(cc, s), plan);
  return true;
}

/** Bytes `String.prototype.trim` removes that are ≤ 32 (it also removes U+00A0: that byte goes to the string path). */
const TRIMMED = new Uint8Array(33);
for (const c of [9, 10, 11, 12, 13, 32]) TRIMMED[c] = 1;

const latin1 = (bytes: Uint8Array, start: number, end: number): string =>
  Buffer.isBuffer(bytes) ? bytes.toString('latin1', start, end) : Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');

const DIGIT_CHAR = '0123456789';
function digitsText(d: Uint8Array, s: number, e: number): string {
  let text = '';
  for (let i = s; i < e; i++) text += DIGIT_CHAR[d[i]!];
  return text;
}

function lineTypeOf(type: string | undefined): LineType | 'unknown' {
  return type === 'MOBILE' ? 'mobile' : type === 'FIXED_LINE' ? 'fixed' : 'unknown';
}

const LINE_TYPES: Array<LineType | 'unknown'> = ['mobile', 'fixed', 'unknown'];
const lineTypeIndex = (type: string | undefined): number => (type === 'MOBILE' ? 0 : type === 'FIXED_LINE' ? 1 : 2);
/** Countries as small numbers for the class table: 0 for none, else Plan.index. */
const COUNTRY_INDEX = new Map<string | null, number>([[null, 0]]);
for (const plan of PLANS.values()) COUNTRY_INDEX.set(plan.country, plan.index);

/**
 * Reads numbers fast and sorts them into classes. Numbers of one class have the same PhoneInfo
 * apart from `e164` – same country, line type and area (the first three national digits: the US
 * area code, which gives time zones and state) – and the PhoneInfo of a class comes from
 * `parsePhone` itself (for its first number), so it is exactly what the single-decision path
 * computes. To keep the per-row cost low, `read` fills fields of the reader instead of
 * allocating a result object.
 */
export class FastPhoneReader {
  private readonly defaultCountry: string | undefined;
  /** Fast-path classes: (country, line type, area) → class id + 1 (0: not seen). */
  private readonly fastClass = new Int32Array(COUNTRY_INDEX.size * 3 * 1100);
  private readonly slowClass = new Map<string, number>();
  private readonly slowMemo = new Map<string, { classId: number; error: string; e164: string; num: number; country: string | null }>();
  private readonly classInfo: PhoneInfo[] = [];
  private calls = 0;
  /** Check every n-th fast result against parsePhone (0: never). */
  private readonly auditEvery: number;
  /** How many inputs needed libphonenumber. */
  slow = 0;
  /** How many readBytes inputs went to the string path (`read`). */
  textReads = 0;

  // The last number read (valid when read() or readBytes() returned a class id ≥ 0).
  /** The E.164 digits as a number (at most 15 digits: exact in a float64). */
  num = 0;
  country: string | null = null;
  /** Why the last input could not be read (when read() returned -1). */
  error = '';

  /**
   * The E.164 form of the last number read. readBytes leaves it unbuilt (most rows never need
   * it) and keeps its digits instead: calling code, and national digits e164Digits[e164Start..e164End).
   */
  private e164Text: string | null = '';
  private e164Cc = '';
  private e164Digits = new Uint8Array(40);
  private e164Start = 0;
  private e164End = 0;
  /** readBytes collects the digits here; swapped with e164Digits when a number is read. */
  private digits = new Uint8Array(40);

  /** Input strings are bytes decoded as latin1: non-ASCII text is re-decoded as UTF-8 for libphonenumber. */
  private readonly latin1: boolean;
  private readonly defaultPlan: Plan | undefined;

  constructor(defaultCountry: string | undefined, opts: { auditEvery?: number; latin1?: boolean } = {}) {
    this.defaultCountry = defaultCountry;
    this.auditEvery = opts.auditEvery ?? 1024;
    this.latin1 = opts.latin1 ?? false;
    this.defaultPlan = defaultCountry ? PLANS.get(defaultCountry) : undefined;
  }

  /** The E.164 form of the number last read (built when first asked after readBytes). */
  get e164(): string {
    let text = this.e164Text;
    if (text === null) {
      text = '+' + this.e164Cc + digitsText(this.e164Digits, this.e164Start, this.e164End);
      this.e164Text = text;
    }
    return text;
  }

  /** Reads one number: its class id, or -1 with `error` set. */
  read(raw: string): number {
    let input = raw;
    const n = raw.length;
    if (n === 0 || raw.charCodeAt(0) <= 32 || raw.charCodeAt(n - 1) <= 32) input = raw.trim();
    if (input === '') {
      this.error = 'the number is empty';
      return -1;
    }
    const fast = fastParse(input, this.defaultCountry);
    if (fast === null) return this.slowRead(raw);
    const nn = fast.nn;
    const e164 = input.length === fast.cc.length + nn.length + 1 && input.charCodeAt(0) === 43 ? input : '+' + fast.cc + nn;
    if (this.auditEvery > 0 && ++this.calls % this.auditEvery === 0) this.audit(raw, fast, e164);
    if (fast.type === undefined) {
      this.error = `${e164.length > 1 ? e164 : raw.trim()} is not a number in use in any numbering plan`;
      return -1;
    }
    const lt = lineTypeIndex(fast.type);
    const area = nn.length >= 3 ? (nn.charCodeAt(0) - 48) * 100 + (nn.charCodeAt(1) - 48) * 10 + (nn.charCodeAt(2) - 48) : 1000 + nn.length;
    const slot = ((COUNTRY_INDEX.get(fast.country) ?? 0) * 3 + lt) * 1100 + area;
    let classId = this.fastClass[slot]! - 1;
    if (classId < 0) classId = this.newClass(slot, lt, e164, fast.country, raw);
    this.e164Text = e164;
    this.num = Number(fast.cc) * POW10[nn.length]! + Number(nn);
    this.country = fast.country;
    return classId;
  }

  /**
   * Reads the number in bytes[start..end): exactly `read(bytes decoded as latin1)` – same class
   * id, `num`, `country`, `e164` and `error` – without allocating for numbers of the usual forms
   * (digits, one leading '+', the separators fastParse accepts, surrounding whitespace). Anything
   * else, and whatever the byte path cannot do exactly, is passed to `read`.
   */
  readBytes(bytes: Uint8Array, start: number, end: number): number {
    let s = start;
    let e = end;
    if (s >= e) {
      this.error = 'the number is empty';
      return -1;
    }
    // read(): raw.trim() when the text starts or ends with a character ≤ 32.
    if (bytes[s]! <= 32 || bytes[e - 1]! <= 32) {
      while (s < e && bytes[s]! <= 32 && TRIMMED[bytes[s]!] === 1) s++;
      while (e > s && bytes[e - 1]! <= 32 && TRIMMED[bytes[e - 1]!] === 1) e--;
      if (s === e) {
        this.error = 'the number is empty';
        return -1;
      }
    }
    if (e - s > 40) return this.readText(bytes, start, end);
    // fastParse: digits, one '+' before any digit, separators.
    const digits = this.digits;
    let nd = 0;
    let plus = false;
    let first = true;
    for (let i = s; i < e; i++) {
      const c = bytes[i]!;
      if (c >= 48 && c <= 57) {
        digits[nd++] = c - 48;
        first = false;
        continue;
      }
      if (c === 43 && first && !plus) {
        plus = true;
        first = false;
        continue;
      }
      if (c < 128 && SEPARATOR[c] === 1) continue;
      return this.readText(bytes, start, end);
    }
    if (nd < 4 || nd > 20) return this.readText(bytes, start, end);
    bd = digits;
    bn = nd;
    bLastPlan = null;
    try {
      if (plus ? !bFromInternational() : !this.defaultPlan || !bFromNational(this.defaultPlan)) return this.readText(bytes, start, end);
    } catch (err) {
      if (err === BYTES_DECLINE) return this.readText(bytes, start, end);
      throw err;
    }
    const ccText = FAST_CC[bCc]!;
    const nnStart = bNnStart;
    const nnLen = nd - nnStart;
    const country = bCountry === null ? null : bCountry.country;
    const type = bType;
    if (this.auditEvery > 0 && ++this.calls % this.auditEvery === 0) {
      const nn = digitsText(digits, nnStart, nd);
      this.audit(latin1(bytes, start, end), { cc: ccText, nn, country, type }, '+' + ccText + nn);
    }
    if (type === undefined) {
      this.error = `+${ccText}${digitsText(digits, nnStart, nd)} is not a number in use in any numbering plan`;
      return -1;
    }
    // The number is read: its digits become e164Digits (the next input is collected in the other array).
    this.digits = this.e164Digits;
    this.e164Digits = digits;
    this.e164Text = null;
    this.e164Cc = ccText;
    this.e164Start = nnStart;
    this.e164End = nd;
    const lt = lineTypeIndex(type);
    const area = nnLen >= 3 ? digits[nnStart]! * 100 + digits[nnStart + 1]! * 10 + digits[nnStart + 2]! : 1000 + nnLen;
    const slot = ((bCountry === null ? 0 : bCountry.index) * 3 + lt) * 1100 + area;
    let classId = this.fastClass[slot]! - 1;
    if (classId < 0) classId = this.newClass(slot, lt, this.e164, country, latin1(bytes, start, end));
    // read(): Number(cc) * 10^len + Number(nn). A valid national number has at most 17 digits:
    // the last 9 and the up to 8 before them are int32 sums, high × 10^9 is exact, so the one
    // addition rounds the exact value once, as Number(nn) does (exact up to 15 digits). Written
    // out here: a helper returning a double would box it on the heap at every row.
    const split = nnLen > 9 ? nd - 9 : nnStart;
    let hi = 0;
    for (let i = nnStart; i < split; i++) hi = (hi * 10 + digits[i]!) | 0;
    let lo = 0;
    for (let i = split; i < nd; i++) lo = (lo * 10 + digits[i]!) | 0;
    this.num = bCc * POW10[nnLen]! + (hi * 1e9 + lo);
    this.country = country;
    return classId;
  }

  /** readBytes for input the byte path leaves to `read`. */
  private readText(bytes: Uint8Array, start: number, end: number): number {
    this.textReads++;
    return this.read(latin1(bytes, start, end));
  }

  /** A fast-path class seen for the first time: its PhoneInfo from parsePhone, checked against the fast result. */
  private newClass(slot: number, lt: number, e164: string, country: string | null, raw: string): number {
    const info = parsePhone(e164, this.defaultCountry);
    if (info.e164 !== e164 || info.country !== country || info.lineType !== LINE_TYPES[lt]) {
      throw new Error(`fast phone reader disagrees with parsePhone on "${raw}": ${e164}/${country}/${LINE_TYPES[lt]} vs ${info.e164}/${info.country}/${info.lineType}`);
    }
    const classId = this.classInfo.length;
    this.classInfo.push(info);
    this.fastClass[slot] = classId + 1;
    return classId;
  }

  /** The full PhoneInfo of the number last read, given its class. */
  info(classId: number, e164: string): PhoneInfo {
    const tpl = this.classInfo[classId]!;
    return tpl.e164 === e164 ? tpl : { ...tpl, e164 };
  }

  /** The PhoneInfo shared by a class (with the e164 of its first number). */
  classPhone(classId: number): PhoneInfo {
    return this.classInfo[classId]!;
  }

  get classes(): number {
    return this.classInfo.length;
  }

  private slowRead(raw: string): number {
    this.slow++;
    // The same text gives the same answer: lists repeat their placeholders ("n/a", "unknown"),
    // and parsePhone costs ~25 µs for each (it throws). Bounded by clearing when full.
    const memo = raw.length <= SLOW_MEMO_KEY_LENGTH ? this.slowMemo.get(raw) : undefined;
    if (memo !== undefined) {
      if (memo.classId < 0) {
        this.error = memo.error;
        return -1;
      }
      this.e164Text = memo.e164;
      this.num = memo.num;
      this.country = memo.country;
      return memo.classId;
    }
    const classId = this.parseSlow(raw);
    if (raw.length <= SLOW_MEMO_KEY_LENGTH) {
      if (this.slowMemo.size >= SLOW_MEMO_SIZE) this.slowMemo.clear();
      this.slowMemo.set(raw, classId < 0 ? { classId, error: this.error, e164: '', num: 0, country: null } : { classId, error: '', e164: this.e164Text!, num: this.num, country: this.country });
    }
    return classId;
  }

  private parseSlow(raw: string): number {
    // eslint-disable-next-line no-control-regex
    if (this.latin1 && /[\u0080-\u00ff]/.test(raw) && !/[^\u0000-\u00ff]/.test(raw)) raw = Buffer.from(raw, 'latin1').toString('utf8');
    let info: PhoneInfo;
    try {
      info = parsePhone(raw, this.defaultCountry);
    } catch (err) {
      if (err instanceof InvalidPhoneNumberError) {
        this.error = err.message.replace(/^"[^"]*" is not a valid phone number: /, '');
        return -1;
      }
      throw err;
    }
    // Class key from the PhoneInfo itself: the slow path is exact by definition.
    const key = JSON.stringify({ ...info, e164: null });
    let classId = this.slowClass.get(key);
    if (classId === undefined) {
      classId = this.classInfo.length;
      this.classInfo.push(info);
      this.slowClass.set(key, classId);
    }
    this.e164Text = info.e164;
    this.num = Number(info.e164.slice(1));
    this.country = info.country;
    return classId;
  }

  private audit(raw: string, fast: FastResult, e164: string): void {
    let info: PhoneInfo | null = null;
    try {
      info = parsePhone(raw, this.defaultCountry);
    } catch (err) {
      if (!(err instanceof InvalidPhoneNumberError)) throw err;
    }
    const fastValid = fast.type !== undefined;
    const same = info === null ? !fastValid : fastValid && info.e164 === e164 && info.country === fast.country && info.lineType === lineTypeOf(fast.type);
    if (!same) {
      throw new Error(
        `fast phone reader disagrees with parsePhone on "${raw}" (${fastValid ? e164 : 'invalid'} vs ${info ? info.e164 : 'invalid'}); refusing to go on`,
      );
    }
  }
}

const SLOW_MEMO_SIZE = 4096;
const SLOW_MEMO_KEY_LENGTH = 64;

const POW10: number[] = [];
for (let i = 0, p = 1; i <= 20; i++, p *= 10) POW10.push(p);

/** Exact check used by tests: does the fast path agree with parsePhone on this input? */
export function agreesWithParsePhone(input: string, defaultCountry: string | undefined): { fast: string; slow: string } | null {
  const fast = fastParse(input.trim(), defaultCountry);
  if (fast === null) return null;
  let slow: string;
  try {
    const p = parsePhone(input, defaultCountry);
    slow = `${p.e164}|${p.country}|${p.lineType}`;
  } catch (err) {
    if (!(err instanceof InvalidPhoneNumberError)) throw err;
    slow = 'invalid';
  }
  const f = fast.type === undefined ? 'invalid' : `+${fast.cc}${fast.nn}|${fast.country}|${lineTypeOf(fast.type)}`;
  return { fast: f, slow };
}
