import { parsePhoneNumberFromString, type CountryCode, type NumberType } from 'libphonenumber-js/max';
import type { LineType, PhoneInfo } from '../law/types.js';
import { US_AREA_CODES } from './us-area-codes.js';

export class InvalidPhoneNumberError extends Error {
  readonly input: string;
  constructor(input: string, reason: string) {
    super(`"${input}" is not a valid phone number: ${reason}`);
    this.name = 'InvalidPhoneNumberError';
    this.input = input;
  }
}

/** libphonenumber's types reduced to what the law distinguishes; anything uncertain is unknown. */
function lineTypeOf(type: NumberType | undefined): LineType | 'unknown' {
  switch (type) {
    case 'MOBILE':
      return 'mobile';
    case 'FIXED_LINE':
      return 'fixed';
    default:
      return 'unknown';
  }
}

/** The IANA zone each supported country keeps its wall clock in (a country with a single zone). */
const SINGLE_ZONE_COUNTRIES: Record<string, string> = {
  NL: 'Europe/Amsterdam',
  DE: 'Europe/Berlin',
  GB: 'Europe/London',
};

/**
 * Where the number's subscriber may be: the country's zone, or for US numbers the zones and the
 * state of the area code (US-5, US-8; generated from Google libphonenumber's data). An unknown
 * US area code (new, or non-geographic such as 800) gives no zones and no state: the US rule
 * pack then assumes every US zone and applies the strictest state rules it knows.
 */
function whereabouts(country: string | null, nationalNumber: string): Pick<PhoneInfo, 'timeZones' | 'region'> {
  if (country === 'US') {
    const entry = US_AREA_CODES[nationalNumber.slice(0, 3)];
    return entry ? { timeZones: entry.slice(1), region: entry[0] } : { timeZones: [], region: null };
  }
  const zone = country ? SINGLE_ZONE_COUNTRIES[country] : undefined;
  return { timeZones: zone ? [zone] : [] };
}

/**
 * Reads a number given in E.164 or in the national format of `defaultCountry` (the calling
 * entity's country) and returns its E.164 form, country and line type.
 * Throws InvalidPhoneNumberError for anything that is not a valid number.
 */
export function parsePhone(input: string, defaultCountry?: string): PhoneInfo {
  const trimmed = input.trim();
  if (trimmed === '') throw new InvalidPhoneNumberError(input, 'it is empty');
  if (trimmed.length > 40) throw new InvalidPhoneNumberError(input.slice(0, 40) + '…', 'it is too long');
  let parsed;
  try {
    parsed = parsePhoneNumberFromString(trimmed, defaultCountry as CountryCode | undefined);
  } catch {
    parsed = undefined;
  }
  if (!parsed) {
    throw new InvalidPhoneNumberError(
      input,
      trimmed.startsWith('+')
        ? 'it cannot be read as an international number'
        : !defaultCountry
          ? 'it is not in international format (+31…), and no country was given to read a national number in'
          : `it cannot be read as a number in ${defaultCountry}`,
    );
  }
  if (!parsed.isValid()) {
    throw new InvalidPhoneNumberError(input, `${parsed.number} is not a number in use in any numbering plan`);
  }
  const country = parsed.country ?? null;
  return {
    e164: parsed.number,
    country,
    lineType: lineTypeOf(parsed.getType()),
    ...whereabouts(country, parsed.nationalNumber),
  };
}

/** Like parsePhone, but returns null instead of throwing. */
export function tryParsePhone(input: string, defaultCountry?: string): PhoneInfo | null {
  try {
    return parsePhone(input, defaultCountry);
  } catch (err) {
    if (err instanceof InvalidPhoneNumberError) return null;
    throw err;
  }
}

/** For logs: keeps the country code and the last two digits. */
export function maskPhone(e164: string): string {
  if (e164.length <= 6) return '***';
  return e164.slice(0, 3) + '*'.repeat(e164.length - 5) + e164.slice(-2);
}
