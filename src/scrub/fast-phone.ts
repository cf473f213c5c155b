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
 */
import { Metadata } from 'libphonenumber-js/core';
import metadataJson from 'libphonenumber-js/metadata.max.json';
import type { LineType, PhoneInfo } from '../law/types.js';
import { parsePhone, InvalidPhoneNumberError } from '../phone/index.js';

/** The calling codes the fast path reads; every country sharing them is compiled. */
const FAST_CALLING_CODES = ['1', '31', '44', '49'] as const;

interface TypeDef {
  re: RegExp | null;
  /** The pattern was removed as a duplicate of the fixed-line one (e.g. US mobile). */
  empty: boolean;
  lengths: number[] | undefined;
}

interface Plan {
  country: string;
  cc: string;
  nnp: RegExp;
  npfp: RegExp | null;
  transform: boolean;
  idd: RegExp | null;
  lengths: number[] | undefined;
  leading: RegExp | null;
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

const meta = new Metadata(metadataJson) as unknown as MetaApi;
const whole = (p: string): RegExp => new RegExp('^(?:' + p + ')$');
const start = (p: string): RegExp => new RegExp('^(?:' + p + ')');

function compilePlan(country: string): Plan {
  meta.selectNumberingPlan(country);
  const p = meta.numberingPlan;
  const typeDef = (t: string): TypeDef | undefined => {
    const d = meta.type(t);
    if (!d) return undefined;
    const pattern = d.pattern();
    return { re: pattern ? whole(pattern) : null, empty: pattern === '', lengths: d.possibleLengths() };
  };
  const npfp = p.nationalPrefixForParsing();
  const others: Array<[string, TypeDef]> = [];
  for (const t of NON_FIXED_LINE_PHONE_TYPES) {
    const d = typeDef(t);
    if (d) others.push([t, d]);
  }
  const leading = p.leadingDigits();
  return {
    country,
    cc: p.callingCode(),
    nnp: whole(p.nationalNumberPattern()),
    npfp: npfp ? start(npfp) : null,
    transform: !!p.nationalPrefixTransformRule(),
    idd: p.IDDPrefix() ? start(p.IDDPrefix()) : null,
    lengths: p.possibleLengths(),
    leading: leading ? start(leading) : null,
    hasTypes: meta.hasTypes(),
    fixed: typeDef('FIXED_LINE'),
    mobile: typeDef('MOBILE'),
    others,
  };
}

const PLANS = new Map<string, Plan>();
const COUNTRIES_OF = new Map<string, Plan[]>();
for (const cc of FAST_CALLING_CODES) {
  const list = (meta.getCountryCodesForCallingCode(cc) ?? []).map((c) => {
    const plan = compilePlan(c);
    PLANS.set(c, plan);
    return plan;
  });
  COUNTRIES_OF.set(cc, list);
}
/** Calling codes libphonenumber knows, for the shortest-prefix rule of extractCountryCallingCode. */
const KNOWN_CC = new Set<string>();
for (let n = 1; n < 1000; n++) if (meta.hasCallingCode(String(n))) KNOWN_CC.add(String(n));

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
function checkNumberLength(nn: string, plan: Plan): 'IS_POSSIBLE' | 'TOO_SHORT' | 'TOO_LONG' | 'INVALID_LENGTH' {
  const lengths = plan.lengths;
  if (!lengths) return 'IS_POSSIBLE';
  const len = nn.length;
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
      const r = checkNumberLength(nn, country ?? plan);
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
  if (d[0] === '0') return null;
  let cc = '';
  for (let i = 1; i <= 3 && i <= d.length; i++) {
    if (KNOWN_CC.has(d.slice(0, i))) {
      cc = d.slice(0, i);
      break;
    }
  }
  if (!cc || !COUNTRIES_OF.has(cc)) return null;
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
    if ((!plan.nnp.test(nnFull) && plan.nnp.test(nnShort)) || checkNumberLength(nnFull, plan) === 'TOO_LONG') {
      const main = COUNTRIES_OF.get(cc)![0]!;
      const nn = extractNationalNumber(shorter, main);
      return finish(cc, nn, countryByCallingCode(cc, nn), null);
    }
  }
  const nn = extractNationalNumber(d, plan);
  return finish(cc, nn, countryByCallingCode(cc, nn), plan.country);
}

function lineTypeOf(type: string | undefined): LineType | 'unknown' {
  return type === 'MOBILE' ? 'mobile' : type === 'FIXED_LINE' ? 'fixed' : 'unknown';
}

const LINE_TYPES: Array<LineType | 'unknown'> = ['mobile', 'fixed', 'unknown'];
const lineTypeIndex = (type: string | undefined): number => (type === 'MOBILE' ? 0 : type === 'FIXED_LINE' ? 1 : 2);
const COUNTRY_INDEX = new Map<string | null, number>([[null, 0]]);
for (const c of PLANS.keys()) COUNTRY_INDEX.set(c, COUNTRY_INDEX.size);

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
  private readonly classInfo: PhoneInfo[] = [];
  private calls = 0;
  /** Check every n-th fast result against parsePhone (0: never). */
  private readonly auditEvery: number;
  /** How many inputs needed libphonenumber. */
  slow = 0;

  // The last number read (valid when read() returned a class id ≥ 0).
  e164 = '';
  /** The E.164 digits as a number (at most 15 digits: exact in a float64). */
  num = 0;
  country: string | null = null;
  /** Why the last input could not be read (when read() returned -1). */
  error = '';

  /** Input strings are bytes decoded as latin1: non-ASCII text is re-decoded as UTF-8 for libphonenumber. */
  private readonly latin1: boolean;

  constructor(defaultCountry: string | undefined, opts: { auditEvery?: number; latin1?: boolean } = {}) {
    this.defaultCountry = defaultCountry;
    this.auditEvery = opts.auditEvery ?? 1024;
    this.latin1 = opts.latin1 ?? false;
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
    if (classId < 0) {
      const info = parsePhone(e164, this.defaultCountry);
      if (info.e164 !== e164 || info.country !== fast.country || info.lineType !== LINE_TYPES[lt]) {
        throw new Error(`fast phone reader disagrees with parsePhone on "${raw}": ${e164}/${fast.country}/${LINE_TYPES[lt]} vs ${info.e164}/${info.country}/${info.lineType}`);
      }
      classId = this.classInfo.length;
      this.classInfo.push(info);
      this.fastClass[slot] = classId + 1;
    }
    this.e164 = e164;
    this.num = Number(fast.cc) * POW10[nn.length]! + Number(nn);
    this.country = fast.country;
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
    this.e164 = info.e164;
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
